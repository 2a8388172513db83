// One watcher replica acts at a time: leader election on a
// coordination.k8s.io/v1 Lease, after client-go's tools/leaderelection. The
// leader renews the Lease every retry period; a standby takes it over once it
// has seen the same record for a whole lease duration; a leader that could not
// renew within the renew deadline stops acting, which is before any standby
// may take over. A graceful stop releases the Lease, so a rollout hands over
// at once instead of after a lease duration.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isAlreadyExists, isConflict, type KubeRest } from '../kube/rest.ts';
import { recordEvent } from '../kube/objects.ts';
import { log as rootLog } from '../runtime/log.ts';

/** client-go's defaults (and controller-runtime's). A silent leader's Lease is taken over after this long. */
export const LEASE_DURATION_MS = 15_000;
/** Shorter than the lease: a leader that cannot renew stops acting before a standby may take over. */
export const RENEW_DEADLINE_MS = 10_000;
/** How often the leader renews and a standby looks again. */
export const RETRY_PERIOD_MS = 2_000;

export const DEFAULT_LEASE_NAME = 'scw-karpenter-watcher';
/** Outside a Pod (no POD_NAMESPACE), the namespace every cluster has, where the control plane keeps its own Leases. */
export const DEFAULT_LEASE_NAMESPACE = 'kube-system';

const LEASE_API_VERSION = 'coordination.k8s.io/v1';
/** client-go's reason for the Event recorded on the Lease at each new leader. */
const EVENT_REASON = 'LeaderElection';

const leaseSpecSchema = z.looseObject({
  holderIdentity: z.string().nullish(),
  leaseDurationSeconds: z.number().int().nullish(),
  acquireTime: z.string().nullish(),
  renewTime: z.string().nullish(),
  leaseTransitions: z.number().int().nullish(),
});
// Loose: a PUT sends back what it read, labels, annotations and fields we do not know included.
const leaseSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.string(), uid: z.string().optional(), resourceVersion: z.string().optional() }),
  spec: leaseSpecSchema.default({}),
});

export type LeaseSpec = z.infer<typeof leaseSpecSchema>;
type Lease = z.infer<typeof leaseSchema>;

/** MicroTime as the apiserver parses it: RFC 3339 with exactly six fractional digits. */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/**
 * When this candidate first saw the Lease's current record, by its own clock.
 * Expiry is judged on that, not on renewTime, so machines whose clocks
 * disagree cannot both think they lead (client-go does the same).
 */
export interface Observation {
  record: string;
  atMs: number;
}

export function observe(previous: Observation | undefined, spec: LeaseSpec, nowMs: number): Observation {
  const record = JSON.stringify([spec.holderIdentity ?? '', spec.renewTime ?? '', spec.acquireTime ?? '', spec.leaseDurationSeconds ?? 0, spec.leaseTransitions ?? 0]);
  return previous?.record === record ? previous : { record, atMs: nowMs };
}

/** ours: we hold it; free: released; expired: its holder went silent; held: someone else leads. */
export type LeaseVerdict = 'ours' | 'free' | 'expired' | 'held';

export function judgeLease(spec: LeaseSpec, identity: string, observedAtMs: number, nowMs: number): LeaseVerdict {
  const holder = spec.holderIdentity ?? '';
  if (holder === identity) return 'ours';
  if (holder === '') return 'free';
  const durationMs = (spec.leaseDurationSeconds ?? LEASE_DURATION_MS / 1000) * 1000;
  return nowMs >= observedAtMs + durationMs ? 'expired' : 'held';
}

/** The spec that holds (or renews) the Lease for `identity`. */
export function heldSpec(previous: LeaseSpec | undefined, identity: string, leaseDurationMs: number, now: Date): LeaseSpec {
  const stamp = microTime(now);
  const renewal = previous?.holderIdentity === identity;
  return {
    ...previous,
    holderIdentity: identity,
    leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
    acquireTime: renewal && previous.acquireTime ? previous.acquireTime : stamp,
    renewTime: stamp,
    leaseTransitions: previous === undefined ? 0 : (previous.leaseTransitions ?? 0) + (renewal ? 0 : 1),
  };
}

/** The spec a graceful stop leaves: no holder, so any standby takes it at its next look (client-go's ReleaseOnCancel). */
export function releasedSpec(previous: LeaseSpec, now: Date): LeaseSpec {
  const stamp = microTime(now);
  return { ...previous, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: stamp, renewTime: stamp };
}

/** The Pod's name (unique, and kept across container restarts), else the hostname with a random suffix. */
export function leaderIdentity(env: NodeJS.ProcessEnv = process.env): string {
  return env.POD_NAME || `${hostname()}_${randomBytes(4).toString('hex')}`;
}

export interface LeaderElectionSettings {
  enabled: boolean;
  namespace: string;
  name: string;
  identity: string;
}

export function leaderElectionSettings(
  config: { LEADER_ELECTION: 'true' | 'false'; LEADER_ELECTION_NAMESPACE?: string | undefined; LEADER_ELECTION_LEASE_NAME: string },
  env: NodeJS.ProcessEnv = process.env,
): LeaderElectionSettings {
  return {
    enabled: config.LEADER_ELECTION === 'true',
    namespace: config.LEADER_ELECTION_NAMESPACE || env.POD_NAMESPACE || DEFAULT_LEASE_NAMESPACE,
    name: config.LEADER_ELECTION_LEASE_NAME,
    identity: leaderIdentity(env),
  };
}

export interface Stoppable {
  stop(): Promise<void>;
}

export interface LeaderElectionOptions<T extends Stoppable> {
  kube: KubeRest;
  namespace: string;
  name?: string;
  identity: string;
  /** Starts what only the leader runs (the watcher); stopped when leadership ends. */
  start: () => Promise<T>;
  /** Called the moment leadership is lost (not on a graceful stop), before `start`'s result is stopped. */
  onLost?: () => void;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface LeaderElection<T> {
  readonly identity: string;
  isLeader(): boolean;
  /** What `start` returned, while leading. */
  current(): T | undefined;
  /** Resolves once this candidate leads and `start` has returned; rejects if `start` fails (the campaign goes on). */
  leading(): Promise<T>;
  /** Graceful stop: stops what runs as leader, then releases the Lease. */
  stop(): Promise<void>;
  /** As a SIGKILL would: stops renewing and acting, and leaves the Lease held until it expires (tests). */
  kill(): Promise<void>;
}

interface Attempt {
  held: boolean;
  /** Who the Lease names after this attempt, when it was read. */
  holder?: string | undefined;
  /** How we came to hold it, when we did not already. */
  took?: { from: string | undefined; how: 'created' | 'free' | 'expired' } | undefined;
}

const leaderLog = rootLog.child({ logger: 'watcher.leader-election' });
const log = (line: string): void => leaderLog.info(line);
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The promise's value, or `fallback` once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Campaigns for the Lease and runs `start`'s result only while holding it; after a loss it campaigns again. */
export function startLeaderElection<T extends Stoppable>(options: LeaderElectionOptions<T>): LeaderElection<T> {
  const { kube, namespace, identity } = options;
  const name = options.name ?? DEFAULT_LEASE_NAME;
  const leaseDurationMs = options.leaseDurationMs ?? LEASE_DURATION_MS;
  const renewDeadlineMs = options.renewDeadlineMs ?? RENEW_DEADLINE_MS;
  const retryPeriodMs = options.retryPeriodMs ?? RETRY_PERIOD_MS;
  if (!(retryPeriodMs < renewDeadlineMs && renewDeadlineMs < leaseDurationMs)) {
    throw new Error(`leader election needs retryPeriod < renewDeadline < leaseDuration (got ${retryPeriodMs}, ${renewDeadlineMs}, ${leaseDurationMs} ms)`);
  }
  const collection = `/apis/${LEASE_API_VERSION}/namespaces/${encodeURIComponent(namespace)}/leases`;
  const path = `${collection}/${encodeURIComponent(name)}`;
  const where = `Lease ${namespace}/${name}`;

  let lease: Lease | undefined;
  let observation: Observation | undefined;
  let leaderSeen: string | undefined;
  let leader = false;
  let lastRenewMs = 0;
  let stopped = false;
  let current: T | undefined;
  // Starts and stops of `T` run one after the other, in the order leadership changed.
  let transitions: Promise<void> = Promise.resolve();
  let waiters: { resolve: (value: T) => void; reject: (err: unknown) => void }[] = [];
  let wakeUp: (() => void) | undefined;

  const put = async (body: Lease, spec: LeaseSpec): Promise<Lease> => leaseSchema.parse(await kube.put(path, { ...body, spec }));

  const attempt = async (): Promise<Attempt> => {
    // The leader renews what it wrote last without reading first; a conflict means someone else wrote since.
    if (leader && lease) {
      try {
        lease = await put(lease, heldSpec(lease.spec, identity, leaseDurationMs, new Date()));
        return { held: true, holder: identity };
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    const raw = await kube.getOrUndefined<unknown>(path);
    if (raw === undefined) {
      try {
        const body = { apiVersion: LEASE_API_VERSION, kind: 'Lease', metadata: { name, namespace }, spec: heldSpec(undefined, identity, leaseDurationMs, new Date()) };
        lease = leaseSchema.parse(await kube.post(collection, body));
        return { held: true, holder: identity, took: { from: undefined, how: 'created' } };
      } catch (err) {
        if (isAlreadyExists(err)) return { held: false };
        throw err;
      }
    }
    const read = leaseSchema.parse(raw);
    observation = observe(observation, read.spec, Date.now());
    const holder = read.spec.holderIdentity ?? '';
    const verdict = judgeLease(read.spec, identity, observation.atMs, Date.now());
    if (verdict === 'held') return { held: false, holder };
    try {
      lease = await put(read, heldSpec(read.spec, identity, leaseDurationMs, new Date()));
    } catch (err) {
      // Another candidate updated it first.
      if (isConflict(err)) return { held: false, holder };
      throw err;
    }
    return { held: true, holder: identity, ...(verdict === 'ours' ? {} : { took: { from: holder || undefined, how: verdict } }) };
  };

  /**
   * The attempt, or a failed one if the leader's renew deadline passes first: a
   * hung request must not keep it acting. A standby's attempt gets as long, so
   * that a hung one neither stalls its campaign nor a stop.
   */
  const attemptInTime = (): Promise<Attempt> =>
    within(attempt(), leader ? lastRenewMs + renewDeadlineMs - Date.now() : renewDeadlineMs, { held: false });

  const stopCurrent = async (): Promise<void> => {
    const running = current;
    current = undefined;
    if (!running) return;
    try {
      await running.stop();
    } catch (err) {
      log(`${identity}: stopping after leadership ended: ${errorText(err)}`);
    }
  };

  const becomeLeader = (took: Attempt['took']): void => {
    leader = true;
    const how = took?.how === 'expired' ? `, taking over from ${took.from ?? 'nobody'}, whose lease expired (not renewed for ${leaseDurationMs / 1000} s)`
      : took?.how === 'free' ? ' (released by its last holder)'
      : took?.how === 'created' ? ' (a new Lease)' : '';
    log(`${identity} acquired ${where}${how}`);
    if (took) {
      void recordEvent(kube, { apiVersion: LEASE_API_VERSION, kind: 'Lease', name, namespace, uid: lease?.metadata.uid }, 'Normal', EVENT_REASON, `${identity} became leader${how}`);
    }
    transitions = transitions.then(async () => {
      if (!leader) return;
      try {
        const started = await options.start();
        current = started;
        if (!leader) return; // lost while starting: the stop queued behind us stops it
        for (const w of waiters.splice(0)) w.resolve(started);
      } catch (err) {
        // Step down so that another replica (or this one, next round) tries again.
        log(`${identity}: starting as leader failed, releasing ${where}: ${errorText(err)}`);
        leader = false;
        for (const w of waiters.splice(0)) w.reject(err);
        await release();
      }
    });
  };

  const loseLeadership = (why: string): void => {
    leader = false;
    log(`${identity} lost ${where}: ${why}; stopping`);
    options.onLost?.();
    transitions = transitions.then(stopCurrent);
  };

  const noteLeader = (holder: string | undefined): void => {
    if (holder === undefined || holder === leaderSeen) return;
    leaderSeen = holder;
    if (holder !== identity) log(`${identity}: ${holder ? `${holder} leads` : 'no leader'} (${where}); standing by`);
  };

  // Bounded: a stop must not wait on a hung apiserver (the pod's grace period is short).
  const release = (): Promise<void> => within(releaseNow(), renewDeadlineMs, undefined);
  const releaseNow = async (): Promise<void> => {
    try {
      const raw = await kube.getOrUndefined<unknown>(path);
      const read = raw === undefined ? undefined : leaseSchema.parse(raw);
      if (read?.spec.holderIdentity !== identity) return;
      lease = await put(read, releasedSpec(read.spec, new Date()));
      log(`${identity} released ${where}`);
    } catch (err) {
      // The Lease then expires on its own, a lease duration later.
      log(`${identity}: releasing ${where}: ${errorText(err)}`);
    }
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      let result: Attempt;
      try {
        result = await attemptInTime();
      } catch (err) {
        log(`${identity}: ${leader ? 'renewing' : 'acquiring'} ${where}: ${errorText(err)}`);
        result = { held: false };
      }
      if (stopped) return;
      if (result.held) {
        lastRenewMs = Date.now();
        if (!leader) becomeLeader(result.took);
      } else if (leader && result.holder !== undefined && result.holder !== identity) {
        loseLeadership(`now held by ${result.holder || 'nobody'}`);
      } else if (leader && Date.now() - lastRenewMs >= renewDeadlineMs) {
        loseLeadership(`not renewed within ${renewDeadlineMs / 1000} s`);
      }
      noteLeader(result.holder);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryPeriodMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  log(`${identity} campaigning for ${where}`);
  const running = loop();

  const halt = async (): Promise<void> => {
    stopped = true;
    wakeUp?.();
    await running;
  };

  return {
    identity,
    isLeader: () => leader,
    current: () => (leader ? current : undefined),
    leading: () => (leader && current ? Promise.resolve(current) : new Promise<T>((resolve, reject) => waiters.push({ resolve, reject }))),
    stop: async () => {
      await halt();
      const wasLeader = leader;
      leader = false;
      waiters = [];
      await (transitions = transitions.then(stopCurrent));
      if (wasLeader) await release();
    },
    kill: async () => {
      await halt();
      leader = false;
      waiters = [];
      await (transitions = transitions.then(stopCurrent));
      log(`${identity} killed, ${where} left to expire`);
    },
  };
}
