// How long things take. Two profiles: `instant` for unit tests and `recorded`, whose numbers come from
// the timestamps in ../shared/scaleway (Date headers, modification_date, go-vcr durations).
// Every duration is multiplied by the simulator's timeScale.
import type { CallKind } from './routes.ts';

export type ProfileName = 'instant' | 'recorded';

export interface LifecycleTimings {
  /** poweron: stopped -> starting "allocating node" -> "provisioning node" after this long. */
  provisioningAfterMs: number;
  /** poweron: -> running "booting kernel" this long after the action. */
  runningAfterMs: number;
  /** terminate: stopping "terminating" -> gone (404) this long after the action. */
  goneAfterMs: number;
  /** poweroff: stopping -> stopped this long after the action. */
  stoppedAfterMs: number;
}

export interface LatencyProfile {
  name: ProfileName;
  /** Lifecycle of GPU types (the recorded L40S-1-48G in fr-par-2). */
  gpu: LifecycleTimings;
  /** Lifecycle of other types (the recorded DEV1-S in fr-par-1). */
  other: LifecycleTimings;
  /** Response time of each call, [min, max] ms, drawn uniformly. */
  responseMs: (kind: CallKind) => readonly [number, number];
}

const NO_DELAY = [0, 0] as const;

export const INSTANT: LatencyProfile = {
  name: 'instant',
  gpu: { provisioningAfterMs: 0, runningAfterMs: 0, goneAfterMs: 0, stoppedAfterMs: 0 },
  other: { provisioningAfterMs: 0, runningAfterMs: 0, goneAfterMs: 0, stoppedAfterMs: 0 },
  responseMs: () => NO_DELAY,
};

export const RECORDED: LatencyProfile = {
  name: 'recorded',
  gpu: {
    // L40S-1-48G: "allocating node" at 12:53:21.7, "provisioning node" seen at :27, running at :39.34
    // (modification_date), i.e. 17.6 s after the action; a poller every 5 s sees it after ~21 s.
    provisioningAfterMs: 4_000,
    runningAfterMs: 17_600,
    // terminate at :42.37, still stopping at :53, 404 at :58 -> gone between 11.6 and 15.6 s.
    goneAfterMs: 14_000,
    // Not recorded; assumed like a shutdown of a running GPU node.
    stoppedAfterMs: 10_000,
  },
  other: {
    // DEV1-S: starting at 12:54:45.56, running at :48.75 (modification_date) -> 3.2 s.
    provisioningAfterMs: 1_500,
    runningAfterMs: 3_200,
    // terminate at :53.68, still stopping at 12:55:04, 404 at :09 -> between 10.3 and 15.3 s.
    goneAfterMs: 14_000,
    stoppedAfterMs: 6_000,
  },
  responseMs: (kind) => RECORDED_RESPONSE_MS[kind] ?? [50, 100],
};

/** go-vcr durations of the recorded calls (rounded); everything else answers in 50-100 ms. */
const RECORDED_RESPONSE_MS: Partial<Record<CallKind, readonly [number, number]>> = {
  createServer: [2_400, 2_800],
  serverAction: [195, 610],
  setServerUserData: [225, 270],
  deleteVolume: [70, 195],
  updateVolume: [60, 200],
  getVolume: [35, 185],
  listServersTypes: [20, 110],
  getServerTypesAvailability: [40, 80],
  listLocalImages: [50, 65],
  listImages: [115, 205],
};

export function profileByName(name: ProfileName): LatencyProfile {
  return name === 'instant' ? INSTANT : RECORDED;
}

export function scaleTimings(timings: LifecycleTimings, timeScale: number): LifecycleTimings {
  return {
    provisioningAfterMs: timings.provisioningAfterMs * timeScale,
    runningAfterMs: timings.runningAfterMs * timeScale,
    goneAfterMs: timings.goneAfterMs * timeScale,
    stoppedAfterMs: timings.stoppedAfterMs * timeScale,
  };
}

/** A response delay for a call, already scaled. */
export function responseDelayMs(profile: LatencyProfile, kind: CallKind, timeScale: number, random: () => number = Math.random): number {
  const [min, max] = profile.responseMs(kind);
  return (min + (max - min) * random()) * timeScale;
}
