// The cheapest fleet for a scenario's pods, as bench/cost-optimality.ts prices it: the
// planner with the exact solver (watcher/provisioner/optimum.ts) in place of its
// heuristic, on the offers both provisioners were given, our NodePool, its NodeClass's
// kubelet settings and the scenario's DaemonSet overhead. The planner's constraint
// handling (selectors, anti-affinity, zone spread) is kept; only the packing is exact.
import { parsePod } from '../../kube/api/core.ts';
import { parseNodePool, type ScalewayNodeClass } from '../../kube/api/schemas.ts';
import { rootVolumeOf } from '../../kube/api/nodeclass-defaults.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import { plan } from '../../watcher/provisioner/planner.ts';
import { MAX_EXACT_ITEMS, optimalPacking } from '../../watcher/provisioner/optimum.ts';
import { nodePool, ZONES } from './objects.ts';
import type { Workload } from './workloads.ts';

export interface Optimum {
  eurPerHour: number;
  types: string;
}

/** The optimum, or why there is none (too many pods for the exact search, pods it cannot place). */
export function scenarioOptimum(workload: Workload, offers: readonly ServerTypeOffer[], nodeClass: ScalewayNodeClass): Optimum | { error: string } {
  const raw = workload.pods('ours', 0);
  if (raw.length > MAX_EXACT_ITEMS) return { error: `${raw.length} pods: above the exact solver's ${MAX_EXACT_ITEMS}` };
  try {
    const result = plan({
      pods: raw.map((p) => parsePod({ ...p, metadata: { ...(p.metadata as object), namespace: 'default' } })),
      nodePools: [{
        nodePool: parseNodePool(nodePool('ours')),
        zones: [...ZONES],
        daemonSetOverhead: workload.daemonSet,
        rootVolumeBytes: rootVolumeOf(nodeClass).sizeBytes,
        kubelet: nodeClass.spec.kubelet,
      }],
      offers,
    }, { solver: optimalPacking });
    if (result.podErrors.length > 0) return { error: `${result.podErrors.length} pods not placed: ${result.podErrors[0]?.reason ?? ''}` };
    const types = new Map<string, number>();
    for (const c of result.nodeClaims) types.set(c.offering.commercialType, (types.get(c.offering.commercialType) ?? 0) + 1);
    return { eurPerHour: result.hourlyPriceEur, types: [...types].sort((a, b) => b[1] - a[1]).map(([t, k]) => `${k}× ${t}`).join(', ') };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
