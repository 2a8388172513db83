// Catalogs read before anyone asks. A worker that starts (a deploy, a restart)
// and a watcher that sees a NodeClass read the catalogs of its zones at once,
// so the first burst of NodeClaims does not wait on catalog pages. Best effort:
// a failure only means the first caller reads the catalog itself.
import type { CatalogCache } from './caches.ts';
import { nodeClassZones } from './offerings.ts';
import { errorMessage, log } from '../runtime/log.ts';
import { CONTROLLER, withController } from '../runtime/metrics.ts';

/** The zones ScalewayNodeClasses use: their `spec.zones`, every zone for one without. */
export function zonesOfNodeClasses(nodeClasses: readonly unknown[]): string[] {
  const zones = new Set<string>();
  for (const raw of nodeClasses) {
    const listed = (raw as { spec?: { zones?: string[] } }).spec?.zones;
    for (const zone of nodeClassZones(listed)) zones.add(zone);
  }
  return [...zones].sort();
}

export function warmCatalogs(catalog: CatalogCache, nodeClasses: readonly unknown[], who: string): void {
  for (const zone of zonesOfNodeClasses(nodeClasses)) {
    // Counted under karpenter_cloudprovider_*{controller="providers.instancetype"}, as Karpenter AWS's catalog refresh is.
    withController(CONTROLLER.instanceTypes, () => catalog.offers(zone)).catch((err: unknown) => log.child({ logger: `${who}.catalog` }).warn('reading the catalog ahead', { zone, error: errorMessage(err) }));
  }
}
