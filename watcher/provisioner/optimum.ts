// The exact cheapest packing of a small problem, to measure the planner
// against: a branch-and-bound over set partitions of the pods (each pod joins
// one of the bins opened so far or opens the next one, so every partition is
// visited once), each bin priced at the cheapest offering that holds it.
// Adding a pod never makes a bin cheaper, so the running total is a lower
// bound and any branch at or above the best total found is cut.
import { fits, type ResourceAmounts } from '../../scaleway/instance-types.ts';
import { andMask, cheapestOffer, pack, type PackProblem, type PackResult } from './packing.ts';
import { addResources } from './pod-requests.ts';

/** Beyond this many pods the search is refused: Bell(12) partitions is already 4 million. */
export const MAX_EXACT_ITEMS = 12;
const EPSILON = 1e-9;

interface OpenBin {
  items: number[];
  used: ResourceAmounts;
  mask: Uint8Array;
  cost: number;
}

/** The optimal packing of `problem`, seeded with the heuristic's answer as the first bound. */
export function optimalPacking(problem: PackProblem): PackResult {
  const n = problem.items.length;
  if (n > MAX_EXACT_ITEMS) throw new Error(`exact packing of ${n} pods refused: at most ${MAX_EXACT_ITEMS}`);
  const heuristic = pack(problem);
  const unplaced = new Set(heuristic.unplaced);
  // Big pods first: they open the expensive bins early and tighten the bound sooner.
  const order = Array.from({ length: n }, (_, i) => i)
    .filter((i) => !unplaced.has(i))
    .sort((a, b) => {
      const ra = problem.items[a]!.requests;
      const rb = problem.items[b]!.requests;
      return rb.gpu - ra.gpu || rb.cpu - ra.cpu || rb.memory - ra.memory || a - b;
    });
  let bestCost = heuristic.cost + EPSILON;
  let bestBins: OpenBin[] | undefined;
  const bins: OpenBin[] = [];
  let running = 0;

  const visit = (k: number): void => {
    if (running >= bestCost - EPSILON) return;
    if (k === order.length) {
      bestCost = running;
      bestBins = bins.map((b) => ({ ...b, items: [...b.items] }));
      return;
    }
    const item = order[k]!;
    const spec = problem.items[item]!;
    for (let b = 0; b < bins.length; b++) {
      const bin = bins[b]!;
      if (!bin.items.every((other) => problem.compatible(other, item))) continue;
      const mask = andMask(bin.mask, spec.mask);
      const used = addResources(bin.used, spec.requests);
      const offer = cheapestOffer(problem, mask, used);
      if (offer < 0) continue;
      const cost = problem.offers[offer]!.price;
      bins[b] = { items: [...bin.items, item], used, mask, cost };
      running += cost - bin.cost;
      visit(k + 1);
      running -= cost - bin.cost;
      bins[b] = bin;
    }
    const offer = cheapestOffer(problem, spec.mask, spec.requests);
    if (offer < 0) return;
    const cost = problem.offers[offer]!.price;
    bins.push({ items: [item], used: spec.requests, mask: spec.mask, cost });
    running += cost;
    visit(k + 1);
    running -= cost;
    bins.pop();
  };
  visit(0);

  if (!bestBins) return heuristic;
  const result = bestBins.map((b) => {
    const items = [...b.items].sort((x, y) => x - y);
    const offers: number[] = [];
    for (let o = 0; o < problem.offers.length; o++) if (b.mask[o] === 1 && fits(b.used, problem.offers[o]!.allocatable)) offers.push(o);
    return { items, offers, cost: b.cost };
  });
  result.sort((a, b) => a.items[0]! - b.items[0]!);
  return { bins: result, unplaced: [...heuristic.unplaced], cost: result.reduce((s, b) => s + b.cost, 0) };
}
