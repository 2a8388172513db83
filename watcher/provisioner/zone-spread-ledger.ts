// Zone topology spread bookkeeping for one plan: how many matching pods each
// zone holds, counted from existing capacity and from the pods this plan has
// placed so far (Karpenter's scheduling Topology does the same per domain).
import { LABEL_ZONE } from '../../kube/api/constants.ts';
import { matchesSelector, type ZoneSpread } from './plan-constraints.ts';
import type { ExistingCapacity } from './plan-types.ts';

export const zoneOfEntry = (e: ExistingCapacity): string | undefined => e.labels[LABEL_ZONE];

export class ZoneSpreadLedger {
  /** Every zone a pod could land in: the pools' offers and the existing capacity. */
  readonly allZones = new Set<string>();
  private readonly spreadCounts = new Map<string, Map<string, number>>();

  constructor(private readonly existing: readonly ExistingCapacity[], offerZones: Iterable<string>) {
    for (const z of offerZones) this.allZones.add(z);
    for (const e of existing) {
      const z = zoneOfEntry(e);
      if (z) this.allZones.add(z);
    }
  }

  /** Matching pods per zone for this spread constraint. */
  countsFor(s: ZoneSpread): Map<string, number> {
    let m = this.spreadCounts.get(s.key);
    if (!m) {
      m = new Map();
      for (const e of this.existing) {
        const z = zoneOfEntry(e);
        if (!z) continue;
        const n = (e.pods ?? []).filter((p) => p.namespace === s.namespace && matchesSelector(s.selector, p.labels)).length;
        m.set(z, (m.get(z) ?? 0) + n);
      }
      this.spreadCounts.set(s.key, m);
    }
    return m;
  }

  /** Whether one more matching pod in `zone` keeps the skew over `domain` within maxSkew. */
  allows(s: ZoneSpread, zone: string, domain: Iterable<string>): boolean {
    const counts = this.countsFor(s);
    let min = Number.POSITIVE_INFINITY;
    for (const z of domain) min = Math.min(min, counts.get(z) ?? 0);
    if (!Number.isFinite(min)) min = 0;
    return (counts.get(zone) ?? 0) + 1 - min <= s.maxSkew;
  }

  /** Counts a pod placed in `zone` (a pod without a spread constraint counts for nothing). */
  count(spread: ZoneSpread | undefined, zone: string): void {
    if (!spread) return;
    const counts = this.countsFor(spread);
    counts.set(zone, (counts.get(zone) ?? 0) + 1);
  }
}
