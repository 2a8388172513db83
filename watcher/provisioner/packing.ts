// Bin packing of pods into new NodeClaims at the least €/hour. A NodeClaim (a
// bin) keeps the set of offerings that can still hold every pod put in it, as
// Karpenter's scheduler narrows a NodeClaim's instance types pod by pod; its
// cost is the cheapest of them. Pure first-fit-decreasing overpays when large
// types are allowed (eight one-GPU pods fill an 8-GPU H100 before anything
// else), so several orderings and placement rules are tried, each followed by
// a local improvement pass (merge two bins, move one pod), and the cheapest
// result wins; then bins merge wherever that costs nothing (fewer nodes at the
// same price). Everything is deterministic: ties break on item index.
import { fits, type ResourceAmounts } from '../../scaleway/instance-types.ts';
import { addResources, NO_RESOURCES } from './pod-requests.ts';

export interface PackOffer {
  readonly price: number;
  /** What pods may request on it: allocatable after kubelet reservations and DaemonSet overhead. */
  readonly allocatable: ResourceAmounts;
}

export interface PackItem {
  readonly requests: ResourceAmounts;
  /** 1 where the offer satisfies the item's requirements and holds it alone (index into `offers`). */
  readonly mask: Uint8Array;
}

export interface PackProblem {
  /** Sorted by price, cheapest first. */
  readonly offers: readonly PackOffer[];
  readonly items: readonly PackItem[];
  /** Whether two items may share a node beyond resources and offerings (requirements, anti-affinity). */
  readonly compatible: (a: number, b: number) => boolean;
  /**
   * Whether a NodeClaim over these offers (indices, cheapest first) keeps the choice its pool asks for
   * (minValues). Only the equal-cost merge asks: it may narrow a bin's offers. Absent: any offers do.
   */
  readonly flexibleEnough?: (offers: readonly number[]) => boolean;
}

export interface PackedBin {
  /** Item indices, ascending. */
  items: number[];
  /** Offer indices that hold all items, cheapest first. */
  offers: number[];
  /** Price of offers[0]. */
  cost: number;
}

const EPSILON = 1e-9;
/** Improvement passes stop after this many rounds; each round is O(bins²). */
const MAX_IMPROVEMENT_ROUNDS = 50;
/** Above this many items only the cheap heuristics run (the planner must answer within a second). */
const LARGE_PROBLEM = 400;

interface Bin {
  items: number[];
  used: ResourceAmounts;
  mask: Uint8Array;
  /** Cheapest fitting offer index, or -1. */
  best: number;
}

/** The cheapest offer in `mask` that holds `used`, or -1. */
export function cheapestOffer(problem: PackProblem, mask: Uint8Array, used: ResourceAmounts): number {
  return cheapestOfferOfBoth(problem, mask, mask, used, 0, Number.POSITIVE_INFINITY);
}

export function andMask(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! & b[i]!;
  return out;
}

function priceOf(problem: PackProblem, offer: number): number {
  return offer < 0 ? Number.POSITIVE_INFINITY : problem.offers[offer]!.price;
}

function makeBin(problem: PackProblem, items: number[]): Bin | undefined {
  if (items.length === 0) return undefined;
  let mask = problem.items[items[0]!]!.mask;
  let used = NO_RESOURCES;
  for (let k = 0; k < items.length; k++) {
    const i = items[k]!;
    for (let l = 0; l < k; l++) if (!problem.compatible(items[l]!, i)) return undefined;
    if (k > 0) mask = andMask(mask, problem.items[i]!.mask);
    used = addResources(used, problem.items[i]!.requests);
  }
  const best = cheapestOffer(problem, mask, used);
  return best < 0 ? undefined : { items: [...items].sort((a, b) => a - b), used, mask, best };
}

/**
 * The cheapest offer in both masks that holds `used`, or -1: what `andMask` then `cheapestOffer` give,
 * without the mask. The greedy placement asks it of every open bin for every pod (500 bins × 1000 pods
 * in a burst); only the bin chosen is built. The scan starts at `from` (a bin's own cheapest offer: one
 * before it cannot hold more) and stops past `maxPrice` (a caller that only wants a saving).
 */
function cheapestOfferOfBoth(problem: PackProblem, a: Uint8Array, b: Uint8Array, used: ResourceAmounts, from: number, maxPrice: number): number {
  for (let o = Math.max(0, from); o < problem.offers.length; o++) {
    const offer = problem.offers[o]!;
    if (offer.price > maxPrice) return -1;
    if (a[o] === 1 && b[o] === 1 && fits(used, offer.allocatable)) return o;
  }
  return -1;
}

/** The cheapest offer for the bin with `item` added, or -1 when it cannot hold it (or only above `maxPrice`). */
function bestWithItem(problem: PackProblem, bin: Bin, item: number, maxPrice = Number.POSITIVE_INFINITY): number {
  for (const other of bin.items) if (!problem.compatible(other, item)) return -1;
  return cheapestOfferOfBoth(problem, bin.mask, problem.items[item]!.mask, addResources(bin.used, problem.items[item]!.requests), bin.best, maxPrice);
}

/** The bin with `item` added (its cheapest offer `best`, from bestWithItem). */
function addItem(problem: PackProblem, bin: Bin, item: number, best: number): Bin {
  return { items: [...bin.items, item].sort((a, b) => a - b), used: addResources(bin.used, problem.items[item]!.requests), mask: andMask(bin.mask, problem.items[item]!.mask), best };
}

/** The cheapest offer that holds both bins together, or -1 (or only above `maxPrice`). */
function bestJoined(problem: PackProblem, a: Bin, b: Bin, maxPrice: number): number {
  for (const i of a.items) for (const j of b.items) if (!problem.compatible(i, j)) return -1;
  return cheapestOfferOfBoth(problem, a.mask, b.mask, addResources(a.used, b.used), Math.max(a.best, b.best), maxPrice);
}

/** The two bins as one (its cheapest offer `best`, from bestJoined). */
function joined(a: Bin, b: Bin, best: number): Bin {
  return { items: [...a.items, ...b.items].sort((x, y) => x - y), used: addResources(a.used, b.used), mask: andMask(a.mask, b.mask), best };
}

function solo(problem: PackProblem, item: number): Bin | undefined {
  return makeBin(problem, [item]);
}

type Placement = 'first-fit' | 'least-cost';

function greedy(problem: PackProblem, order: readonly number[], placement: Placement): { bins: Bin[]; unplaced: number[] } {
  const bins: Bin[] = [];
  const unplaced: number[] = [];
  for (const item of order) {
    const alone = solo(problem, item);
    if (!alone) {
      unplaced.push(item);
      continue;
    }
    let chosen = -1;
    let chosenBest = -1;
    let chosenDelta = priceOf(problem, alone.best);
    for (let b = 0; b < bins.length; b++) {
      const best = bestWithItem(problem, bins[b]!, item, placement === 'first-fit' ? Number.POSITIVE_INFINITY : priceOf(problem, bins[b]!.best) + chosenDelta + EPSILON);
      if (best < 0) continue;
      if (placement === 'first-fit') {
        chosen = b;
        chosenBest = best;
        break;
      }
      const delta = priceOf(problem, best) - priceOf(problem, bins[b]!.best);
      // Joining a bin for the same price as a new node wins: fewer nodes.
      if (delta < chosenDelta - EPSILON || (chosen === -1 && delta <= chosenDelta + EPSILON)) {
        chosen = b;
        chosenBest = best;
        chosenDelta = delta;
      }
    }
    if (chosen >= 0) bins[chosen] = addItem(problem, bins[chosen]!, item, chosenBest);
    else bins.push(alone);
  }
  return { bins, unplaced };
}

function totalCost(problem: PackProblem, bins: readonly Bin[]): number {
  return bins.reduce((sum, b) => sum + priceOf(problem, b.best), 0);
}

/** Merges and single-item moves while they lower the total; returns the improved bins. */
function improve(problem: PackProblem, start: Bin[]): Bin[] {
  let bins = [...start];
  for (let round = 0; round < MAX_IMPROVEMENT_ROUNDS; round++) {
    let improved = false;
    // Merge the pair that saves the most.
    let bestSaving = EPSILON;
    let merge: [number, number, number] | undefined;
    for (let a = 0; a < bins.length; a++) {
      for (let b = a + 1; b < bins.length; b++) {
        const apart = priceOf(problem, bins[a]!.best) + priceOf(problem, bins[b]!.best);
        const best = bestJoined(problem, bins[a]!, bins[b]!, apart - bestSaving + EPSILON);
        if (best < 0) continue;
        const saving = apart - priceOf(problem, best);
        if (saving > bestSaving) {
          bestSaving = saving;
          merge = [a, b, best];
        }
      }
    }
    if (merge) {
      const [a, b, best] = merge;
      const merged = joined(bins[a]!, bins[b]!, best);
      bins = bins.filter((_, i) => i !== a && i !== b);
      bins.splice(a, 0, merged);
      improved = true;
    }
    // Move one item to another bin or to a node of its own when that is cheaper.
    for (let a = 0; a < bins.length && !improved; a++) {
      const from = bins[a]!;
      if (from.items.length < 2 && bins.length < 2) continue;
      for (const item of from.items) {
        const rest = from.items.filter((i) => i !== item);
        const left = rest.length === 0 ? undefined : makeBin(problem, rest);
        if (rest.length > 0 && !left) continue;
        const before = priceOf(problem, from.best);
        const leftCost = left ? priceOf(problem, left.best) : 0;
        let target = -2;
        let targetBin: Bin | undefined;
        let saving = EPSILON;
        const alone = from.items.length > 1 ? solo(problem, item) : undefined;
        if (alone) {
          const s = before - leftCost - priceOf(problem, alone.best);
          if (s > saving) {
            saving = s;
            target = -1;
            targetBin = alone;
          }
        }
        let targetBest = -1;
        for (let b = 0; b < bins.length; b++) {
          if (b === a) continue;
          const best = bestWithItem(problem, bins[b]!, item, before - leftCost + priceOf(problem, bins[b]!.best) - saving + EPSILON);
          if (best < 0) continue;
          const s = before - leftCost + priceOf(problem, bins[b]!.best) - priceOf(problem, best);
          if (s > saving) {
            saving = s;
            target = b;
            targetBest = best;
          }
        }
        if (target >= 0) targetBin = addItem(problem, bins[target]!, item, targetBest);
        if (targetBin) {
          const next = [...bins];
          if (target >= 0) next[target] = targetBin;
          else next.push(targetBin);
          if (left) next[a] = left;
          else next.splice(a, 1);
          bins = next;
          improved = true;
          break;
        }
      }
    }
    if (!improved) break;
  }
  return bins;
}

/** Rounds of the equal-cost merge: each at most halves the bins, so a few reach the largest offers. */
const MAX_MERGE_ROUNDS = 4;

/**
 * Fewer nodes for the same €/hour: two bins become one whenever an offer holds
 * both for no more than the two cost apart. The passes above only take a saving,
 * so they stop at ties, and the ties are common: Scaleway prices a GPU type's
 * sizes per GPU (two L4-2-24G cost one L4-4-24G), and the greedy placement
 * pairs one-GPU pods on 2-GPU nodes because a third makes the next size cost
 * more than a node of its own. Half the nodes is half the servers to boot, the
 * NodeClaims and workflows to run, and the kubelets and DaemonSets to pay for,
 * as Karpenter fills a NodeClaim before it opens the next. First fit, in bin
 * order: deterministic.
 */
function mergeAtEqualCost(problem: PackProblem, start: Bin[]): Bin[] {
  let bins = start;
  for (let round = 0; round < MAX_MERGE_ROUNDS; round++) {
    const out: Bin[] = [];
    let merged = false;
    for (const bin of bins) {
      let into = -1;
      let next: Bin | undefined;
      for (let k = 0; k < out.length && into < 0; k++) {
        const other = out[k]!;
        const best = bestJoined(problem, other, bin, priceOf(problem, other.best) + priceOf(problem, bin.best) + EPSILON);
        if (best < 0) continue;
        const both = joined(other, bin, best);
        if (problem.flexibleEnough && !problem.flexibleEnough(fittingOffers(problem, both.mask, both.used))) continue;
        into = k;
        next = both;
      }
      if (next) {
        out[into] = next;
        merged = true;
      } else out.push(bin);
    }
    bins = out;
    if (!merged) break;
  }
  return bins;
}

function orderings(problem: PackProblem): number[][] {
  const n = problem.items.length;
  const index = Array.from({ length: n }, (_, i) => i);
  const soloPrice = index.map((i) => {
    const bin = solo(problem, i);
    return bin ? priceOf(problem, bin.best) : Number.POSITIVE_INFINITY;
  });
  const r = (i: number): ResourceAmounts => problem.items[i]!.requests;
  const by = (...keys: ((i: number) => number)[]) => (a: number, b: number): number => {
    for (const key of keys) {
      const d = key(b) - key(a);
      if (d !== 0) return d;
    }
    return a - b;
  };
  const maxAlloc = problem.offers.reduce((m, o) => ({ cpu: Math.max(m.cpu, o.allocatable.cpu), memory: Math.max(m.memory, o.allocatable.memory), gpu: Math.max(m.gpu, o.allocatable.gpu) }), { cpu: 1, memory: 1, gpu: 1 });
  const share = (i: number): number => r(i).gpu / Math.max(1, maxAlloc.gpu) + r(i).cpu / Math.max(1, maxAlloc.cpu) + r(i).memory / Math.max(1, maxAlloc.memory);
  return [
    [...index].sort(by((i) => r(i).gpu, (i) => r(i).cpu, (i) => r(i).memory)),
    [...index].sort(by((i) => (Number.isFinite(soloPrice[i]!) ? soloPrice[i]! : 0), (i) => r(i).gpu, (i) => r(i).cpu, (i) => r(i).memory)),
    [...index].sort(by(share)),
    [...index].sort(by((i) => r(i).memory, (i) => r(i).cpu)),
    [...index].sort(by((i) => r(i).cpu, (i) => r(i).memory)),
  ];
}

export interface PackResult {
  bins: PackedBin[];
  /** Items no offering can hold (alone). */
  unplaced: number[];
  cost: number;
}

function toResult(problem: PackProblem, bins: readonly Bin[], unplaced: number[]): PackResult {
  const packed = bins.map((b) => ({ items: b.items, offers: fittingOffers(problem, b.mask, b.used), cost: priceOf(problem, b.best) }));
  // Stable output: bins by their first item.
  packed.sort((a, b) => a.items[0]! - b.items[0]!);
  return { bins: packed, unplaced: [...unplaced].sort((a, b) => a - b), cost: totalCost(problem, bins) };
}

function fittingOffers(problem: PackProblem, mask: Uint8Array, used: ResourceAmounts): number[] {
  const out: number[] = [];
  for (let o = 0; o < problem.offers.length; o++) if (mask[o] === 1 && fits(used, problem.offers[o]!.allocatable)) out.push(o);
  return out;
}

/**
 * The cheapest partition of `items` into bins, by branch and bound over set
 * partitions (each item joins an open bin or opens the next one); undefined
 * when nothing beats `bound`. Adding an item never makes a bin cheaper, so the
 * running total bounds every branch from below.
 */
export function exactPartition(problem: PackProblem, items: readonly number[], bound: number): Bin[] | undefined {
  const order = [...items].sort((a, b) => {
    const ra = problem.items[a]!.requests;
    const rb = problem.items[b]!.requests;
    return rb.gpu - ra.gpu || rb.cpu - ra.cpu || rb.memory - ra.memory || a - b;
  });
  let best = bound - EPSILON;
  let bestBins: Bin[] | undefined;
  const bins: Bin[] = [];
  let running = 0;
  const visit = (k: number): void => {
    if (running >= best) return;
    if (k === order.length) {
      best = running - EPSILON;
      bestBins = bins.map((b) => ({ ...b }));
      return;
    }
    const item = order[k]!;
    for (let b = 0; b < bins.length; b++) {
      const bin = bins[b]!;
      // Only an offer that keeps the running total under the best is worth building the bin for.
      const offer = bestWithItem(problem, bin, item, priceOf(problem, bin.best) + best - running);
      if (offer < 0) continue;
      const next = addItem(problem, bin, item, offer);
      const delta = priceOf(problem, next.best) - priceOf(problem, bin.best);
      bins[b] = next;
      running += delta;
      visit(k + 1);
      running -= delta;
      bins[b] = bin;
    }
    const alone = solo(problem, item);
    if (!alone) return;
    const cost = priceOf(problem, alone.best);
    bins.push(alone);
    running += cost;
    visit(k + 1);
    running -= cost;
    bins.pop();
  };
  visit(0);
  return bestBins;
}

/** Items up to which a whole problem, or a group of bins, is re-solved exactly. */
const EXACT_ITEMS = 9;

/** Re-solves every pair and triple of bins exactly when their pods are few, keeping any saving. */
function repackGroups(problem: PackProblem, start: Bin[]): Bin[] {
  let bins = [...start];
  for (let round = 0; round < MAX_IMPROVEMENT_ROUNDS; round++) {
    let improved = false;
    const groups: number[][] = [];
    for (let a = 0; a < bins.length; a++) {
      for (let b = a + 1; b < bins.length; b++) {
        groups.push([a, b]);
        if (bins.length <= 24) for (let c = b + 1; c < bins.length; c++) groups.push([a, b, c]);
      }
    }
    for (const group of groups) {
      const items = group.flatMap((g) => bins[g]!.items);
      if (items.length > EXACT_ITEMS) continue;
      const cost = group.reduce((s, g) => s + priceOf(problem, bins[g]!.best), 0);
      const better = exactPartition(problem, items, cost);
      if (!better) continue;
      bins = [...bins.filter((_, i) => !group.includes(i)), ...better];
      improved = true;
      break;
    }
    if (!improved) break;
  }
  return bins;
}

/** The cheapest packing found by the heuristics; deterministic for the same problem. */
export function pack(problem: PackProblem): PackResult {
  if (problem.items.length === 0) return { bins: [], unplaced: [], cost: 0 };
  const large = problem.items.length > LARGE_PROBLEM;
  let best: { bins: Bin[]; unplaced: number[]; cost: number } | undefined;
  for (const order of large ? orderings(problem).slice(0, 2) : orderings(problem)) {
    for (const placement of ['least-cost', 'first-fit'] as const) {
      const run = greedy(problem, order, placement);
      const bins = large ? run.bins : improve(problem, run.bins);
      const cost = totalCost(problem, bins);
      if (!best || cost < best.cost - EPSILON) best = { bins, unplaced: run.unplaced, cost };
    }
  }
  if (!large) {
    const placed = problem.items.map((_, i) => i).filter((i) => !best!.unplaced.includes(i));
    const exact = placed.length <= EXACT_ITEMS ? exactPartition(problem, placed, best!.cost) : undefined;
    const bins = exact ?? repackGroups(problem, best!.bins);
    best = { bins, unplaced: best!.unplaced, cost: totalCost(problem, bins) };
  }
  const bins = mergeAtEqualCost(problem, best!.bins);
  return toResult(problem, bins, best!.unplaced);
}

/** The bin for exactly these items (for the exact solver and checks), or undefined when none holds them. */
export function binFor(problem: PackProblem, items: number[]): PackedBin | undefined {
  const bin = makeBin(problem, items);
  return bin ? { items: bin.items, offers: fittingOffers(problem, bin.mask, bin.used), cost: priceOf(problem, bin.best) } : undefined;
}

