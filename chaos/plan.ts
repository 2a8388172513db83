// The seeded schedule of a chaos run: what happens when, decided up front from
// the seed alone, so that a failing run can be replayed step for step with the
// same --seed. Choices that depend on the live cluster (which pod to delete,
// which NodeClaim) are fixed here as fractions, resolved against the sorted
// candidates when the step runs.
import { mulberry32 } from '../scaleway/simulator/faults.ts';

export const KILL_TARGETS = ['worker', 'watcher', 'temporal', 'apiserver'] as const;
export type KillTarget = (typeof KILL_TARGETS)[number];

export type PlanAction =
  /** A burst of one-GPU pods, each of which needs a node of its own (hostname anti-affinity). */
  | { kind: 'pods'; count: number }
  /** Deletes `count` live pods, picked at `pick` (0-1) of the sorted names: disruption removes their nodes. */
  | { kind: 'delete-pods'; count: number; pick: number }
  /** A NodeClaim without pods, made by the suite (as a user or another controller would). */
  | { kind: 'nodeclaim'; name: string }
  /** Deletes a NodeClaim that is not Ready yet (or the named one), picked at `pick` of the sorted names. */
  | { kind: 'delete-nodeclaim'; pick: number; name?: string }
  /** SIGKILL (worker, watcher, Temporal) or a restart (apiserver), back after `downMs`. */
  | { kind: 'kill'; target: KillTarget; downMs: number }
  /** The last step: no more faults; the settle period begins once every step is done. */
  | { kind: 'faults-off' };

export interface PlanStep {
  /** From the start of the run. */
  atMs: number;
  action: PlanAction;
}

export interface PlanOptions {
  seed: number;
  /** NodeClaims the plan asks for: one per pod, plus the suite's own. */
  provisionings: number;
  /** Pause between two bursts, [min, max] ms. */
  burstGapMs?: [number, number];
  /** Pause between two kills, [min, max] ms; at least one kill of each target when the run is long enough. */
  killGapMs?: [number, number];
  /**
   * Faults and kills go on this long after the last burst, so that the last provisionings meet
   * them too (a provisioning takes tens of seconds); the plan ends with a `faults-off` step.
   */
  tailMs?: number;
}

export const DEFAULT_BURST_GAP_MS: [number, number] = [1_500, 5_000];
export const DEFAULT_KILL_GAP_MS: [number, number] = [8_000, 25_000];
export const DEFAULT_TAIL_MS = 40_000;
/** Share of provisionings that are NodeClaims made by the suite rather than by the provisioner. */
const DIRECT_NODECLAIM_SHARE = 0.15;
const MAX_BURST = 4;

export function makePlan(options: PlanOptions): PlanStep[] {
  const random = mulberry32(options.seed);
  const between = ([min, max]: [number, number]): number => Math.round(min + random() * (max - min));
  const steps: PlanStep[] = [];
  let at = 1_000;
  let left = options.provisionings;
  let direct = 0;
  while (left > 0) {
    if (random() < DIRECT_NODECLAIM_SHARE) {
      const name = `chaos-direct-${++direct}`;
      steps.push({ atMs: at, action: { kind: 'nodeclaim', name } });
      left -= 1;
      // Most are deleted while they provision; the others become Ready and, empty, are consolidated.
      if (random() < 0.6) steps.push({ atMs: at + between([500, 15_000]), action: { kind: 'delete-nodeclaim', pick: 0, name } });
    } else {
      const count = Math.min(left, 1 + Math.floor(random() * MAX_BURST));
      steps.push({ atMs: at, action: { kind: 'pods', count } });
      left -= count;
    }
    if (random() < 0.3) steps.push({ atMs: at + between([2_000, 20_000]), action: { kind: 'delete-pods', count: 1 + Math.floor(random() * 2), pick: random() } });
    if (random() < 0.12) steps.push({ atMs: at + between([500, 8_000]), action: { kind: 'delete-nodeclaim', pick: random() } });
    at += between(options.burstGapMs ?? DEFAULT_BURST_GAP_MS);
  }
  const end = at + (options.tailMs ?? DEFAULT_TAIL_MS);

  // Kills on their own timeline over the same span, each target in turn (shuffled rounds), so that
  // even a short run restarts every process.
  const [minGap, maxGap] = options.killGapMs ?? DEFAULT_KILL_GAP_MS;
  const gap: [number, number] = [Math.min(minGap, end / 6), Math.min(maxGap, end / 4)];
  let round: KillTarget[] = [];
  for (let t = 2_000 + between(gap); t < end; t += between(gap)) {
    if (round.length === 0) round = shuffle([...KILL_TARGETS], random);
    const target = round.pop() ?? 'worker';
    const downMs = target === 'temporal' ? between([1_000, 5_000]) : target === 'apiserver' ? between([0, 3_000]) : between([0, 6_000]);
    steps.push({ atMs: t, action: { kind: 'kill', target, downMs } });
  }
  const sorted = steps.sort((a, b) => a.atMs - b.atMs);
  sorted.push({ atMs: Math.max(end, sorted.at(-1)?.atMs ?? 0), action: { kind: 'faults-off' } });
  return sorted;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** The candidate at fraction `pick` of the sorted list (the plan's way to choose without knowing the list). */
export function pickAt<T>(sorted: readonly T[], pick: number): T | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor(pick * sorted.length))];
}

/** A line for the run's log. */
export function describeAction(action: PlanAction): string {
  switch (action.kind) {
    case 'pods':
      return `burst of ${action.count} GPU pod(s)`;
    case 'delete-pods':
      return `delete ${action.count} pod(s) (pick ${action.pick.toFixed(3)})`;
    case 'nodeclaim':
      return `NodeClaim ${action.name} (no pods)`;
    case 'delete-nodeclaim':
      return action.name ? `delete NodeClaim ${action.name}` : `delete a provisioning NodeClaim (pick ${action.pick.toFixed(3)})`;
    case 'faults-off':
      return 'faults off';
    case 'kill':
      return action.target === 'apiserver' ? `restart kube-apiserver (down ${action.downMs} ms more)` : `SIGKILL ${action.target}, back after ${action.downMs} ms`;
  }
}

/** Seeds for the simulator and the kubelets, derived from the run's seed so one number replays all. */
export function derivedSeed(seed: number, purpose: 'scaleway' | 'kubelet'): number {
  return (Math.imul(seed >>> 0, 2_654_435_761) ^ (purpose === 'scaleway' ? 0x5ca1e : 0x6b1e7)) >>> 0;
}
