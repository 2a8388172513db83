// Registration health per NodePool: a NodeClass whose nodes never join (a
// wrong endpoint, an image without kubeadm) must not buy a GPU server every
// 15 minutes forever. Each NodeClaim rolled back with RegistrationTimeout
// counts against its NodePool and its offering (zone + commercial type): the
// offering backs off (1 min doubling to 30 min), and after
// REGISTRATION_FAILURE_LIMIT consecutive failures the pool stops buying until
// its NodeClass (generation or drift hash) or the NodePool itself changes, or
// one of its nodes registers. Upstream Karpenter's NodeRegistrationHealthy
// condition (pkg/controllers/nodepool/registrationhealth) says so on the
// NodePool, and ours on the ScalewayNodeClass.
//
// The counters live in an annotation on the NodePool, so a restarted watcher
// keeps backing off. Failures seen since the last write wait in memory
// (RegistrationFailureInbox): the NodeClaim is deleted right after its
// rollback, and the provisioner must not buy the same offering again meanwhile.
import { z } from 'zod';
import type { KubernetesObject } from '@kubernetes/client-node';
import { NodeClaimSchema, type NodeClaim, type NodePool, type ScalewayNodeClass } from '../kube/api/schemas.ts';
import { findCondition, type ConditionUpdate } from '../kube/api/conditions.ts';
import { ANNOTATION_NODECLASS_HASH, ANNOTATION_REGISTRATION_HEALTH, CONDITION, LABEL_INSTANCE_TYPE, LABEL_NODEPOOL, LABEL_ZONE, REASON } from '../kube/api/constants.ts';
import { parseProviderId } from '../kube/api/provider-id.ts';

/** First backoff of an offering after a registration failure; it doubles with each further one. */
export const REGISTRATION_BACKOFF_BASE_MS = 60_000;
/** Longest backoff: a fixed fault (a typo in the endpoint) still gets one try per half hour per offering at most. */
export const REGISTRATION_BACKOFF_MAX_MS = 30 * 60_000;
/** Consecutive failures after which a NodePool stops buying: three 15-minute boots is proof enough. */
export const REGISTRATION_FAILURE_LIMIT = 3;
/** NodeClaim UIDs remembered as counted, so a re-list never counts one twice. */
const COUNTED_KEPT = 32;

const OfferingFailuresSchema = z.object({ failures: z.number().int().min(1), lastAt: z.string() });
const HealthSchema = z.object({
  /** What the counters are about (NodePool generation, NodeClass generation and hash); another value resets them. */
  epoch: z.string(),
  /** When the epoch began: only registrations after it make the pool healthy again. */
  since: z.string(),
  consecutive: z.number().int().min(0),
  offerings: z.record(z.string(), OfferingFailuresSchema),
  last: z.object({ nodeClaim: z.string(), offering: z.string(), at: z.string(), message: z.string() }).optional(),
  counted: z.array(z.string()),
});
export type RegistrationHealth = z.output<typeof HealthSchema>;

/** One NodeClaim rolled back because its node never registered. */
export interface RegistrationFailure {
  uid: string;
  nodeClaim: string;
  nodePool: string;
  /** `commercialType@zone`. */
  offering: string;
  at: string;
  message: string;
}

export const offeringKey = (commercialType: string, zone: string): string => `${commercialType}@${zone}`;
const describeOffering = (key: string): string => key.replace('@', ' in ');

/** The epoch of a pool and its NodeClass: a change to either gives the NodeClass a fresh chance. */
export function healthEpoch(pool: Pick<NodePool, 'metadata'>, nodeClass: Pick<ScalewayNodeClass, 'metadata'> | undefined): string {
  return `${pool.metadata.generation ?? 0}|${nodeClass?.metadata.generation ?? 0}|${nodeClass?.metadata.annotations?.[ANNOTATION_NODECLASS_HASH] ?? ''}`;
}

const fresh = (epoch: string, since: Date): RegistrationHealth => ({ epoch, since: since.toISOString(), consecutive: 0, offerings: {}, counted: [] });

/**
 * The pool's stored counters, or fresh ones when absent or unreadable (every
 * failure seen counts) or about another epoch (only failures from now on count).
 */
export function readHealth(pool: Pick<NodePool, 'metadata'>, epoch: string, now: Date): RegistrationHealth {
  const raw = pool.metadata.annotations?.[ANNOTATION_REGISTRATION_HEALTH];
  let stored: RegistrationHealth | undefined;
  try {
    const parsed = raw ? HealthSchema.safeParse(JSON.parse(raw)) : undefined;
    stored = parsed?.success ? parsed.data : undefined;
  } catch {
    stored = undefined;
  }
  if (!stored) return fresh(epoch, new Date(0));
  return stored.epoch === epoch ? stored : fresh(epoch, now);
}

/** The registration failure a NodeClaim records (Registered=False, RegistrationTimeout), if any. */
export function registrationFailureOf(nodeClaim: NodeClaim): RegistrationFailure | undefined {
  const registered = findCondition(nodeClaim.status.conditions, CONDITION.Registered);
  if (registered?.status !== 'False' || registered.reason !== REASON.RegistrationTimeout) return undefined;
  const nodePool = nodeClaim.metadata.labels?.[LABEL_NODEPOOL];
  if (!nodePool) return undefined;
  // The launched instance's labels; before them, the providerID's zone and the only type it could be.
  const labels = nodeClaim.metadata.labels ?? {};
  const types = nodeClaim.spec.requirements.find((r) => r.key === LABEL_INSTANCE_TYPE && r.operator === 'In')?.values ?? [];
  const type = labels[LABEL_INSTANCE_TYPE] ?? (types.length === 1 ? types[0] : undefined) ?? 'unknown';
  const zone = labels[LABEL_ZONE] ?? (nodeClaim.status.providerID ? parseProviderId(nodeClaim.status.providerID)?.zone : undefined) ?? 'unknown';
  return {
    uid: nodeClaim.metadata.uid ?? nodeClaim.metadata.name,
    nodeClaim: nodeClaim.metadata.name,
    nodePool,
    offering: offeringKey(type, zone),
    at: registered.lastTransitionTime,
    message: registered.message ?? '',
  };
}

/** The counters after `failures` (already counted ones are skipped) and the registrations of `claims`. */
export function updateHealth(health: RegistrationHealth, failures: readonly RegistrationFailure[], claims: readonly NodeClaim[]): RegistrationHealth {
  let next: RegistrationHealth = { ...health, offerings: { ...health.offerings }, counted: [...health.counted] };
  const since = Date.parse(health.since);
  for (const f of [...failures].sort((a, b) => a.at.localeCompare(b.at))) {
    // A failure from before the epoch (an old NodeClass) says nothing about the current one.
    if (next.counted.includes(f.uid) || Date.parse(f.at) < since) continue;
    const previous = next.offerings[f.offering];
    next.offerings[f.offering] = { failures: (previous?.failures ?? 0) + 1, lastAt: f.at };
    next.consecutive += 1;
    next.last = { nodeClaim: f.nodeClaim, offering: f.offering, at: f.at, message: f.message.slice(0, 300) };
    next.counted = [...next.counted, f.uid].slice(-COUNTED_KEPT);
  }
  // A node of the pool that registered after the last failure proves the NodeClass can join.
  const lastFailure = next.last ? Date.parse(next.last.at) : since;
  for (const nc of claims) {
    const registered = findCondition(nc.status.conditions, CONDITION.Registered);
    if (registered?.status !== 'True' || Date.parse(registered.lastTransitionTime) < Math.max(lastFailure, since)) continue;
    if (next.consecutive === 0 && Object.keys(next.offerings).length === 0) continue;
    const offering = offeringKey(nc.metadata.labels?.[LABEL_INSTANCE_TYPE] ?? '', nc.metadata.labels?.[LABEL_ZONE] ?? '');
    const { [offering]: _healed, ...others } = next.offerings;
    next = { ...next, consecutive: 0, offerings: others };
  }
  return next;
}

/** When an offering may be tried again (ms since the epoch). */
export function backoffUntil(o: { failures: number; lastAt: string }): number {
  return Date.parse(o.lastAt) + Math.min(REGISTRATION_BACKOFF_MAX_MS, REGISTRATION_BACKOFF_BASE_MS * 2 ** (o.failures - 1));
}

/** What the planner needs: offerings it must skip now, and whether the pool buys at all. */
export interface PoolRegistrationGate {
  blocked: (offer: { commercialType: string; zone: string }) => string | undefined;
  stopped: string | undefined;
}

const clock = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function registrationGate(pool: string, nodeClass: string, health: RegistrationHealth, now: Date): PoolRegistrationGate {
  const stopped = health.consecutive >= REGISTRATION_FAILURE_LIMIT
    ? `NodePool ${pool} stopped buying after ${health.consecutive} consecutive registration failures (last: NodeClaim ${health.last?.nodeClaim ?? '?'} on ${describeOffering(health.last?.offering ?? '?')}: ${health.last?.message ?? ''}); fix ScalewayNodeClass ${nodeClass} (any change resumes buying) or wait for one of its nodes to register`
    : undefined;
  return {
    stopped,
    blocked: (offer) => {
      const record = health.offerings[offeringKey(offer.commercialType, offer.zone)];
      if (!record) return undefined;
      const until = backoffUntil(record);
      return until > now.getTime() ? `backed off until ${clock(until)} after ${record.failures} registration failure(s)` : undefined;
    },
  };
}

/** The NodePool's NodeRegistrationHealthy condition (upstream's reason RegistrationFailed when False). */
export function registrationCondition(pool: string, nodeClass: string, health: RegistrationHealth, claims: readonly NodeClaim[], now: Date): ConditionUpdate {
  const type = CONDITION.NodeRegistrationHealthy;
  if (health.consecutive >= REGISTRATION_FAILURE_LIMIT) {
    return { type, status: 'False', reason: REASON.RegistrationStopped, message: registrationGate(pool, nodeClass, health, now).stopped ?? '' };
  }
  if (health.consecutive > 0) {
    const backedOff = Object.entries(health.offerings).filter(([, o]) => backoffUntil(o) > now.getTime()).map(([k, o]) => `${describeOffering(k)} until ${clock(backoffUntil(o))}`);
    return {
      type,
      status: 'False',
      reason: REASON.RegistrationFailed,
      message: `${health.consecutive} consecutive node(s) of NodePool ${pool} failed to register (last: NodeClaim ${health.last?.nodeClaim ?? '?'} on ${describeOffering(health.last?.offering ?? '?')}: ${health.last?.message ?? ''})${backedOff.length > 0 ? `; backing off ${backedOff.join(', ')}` : ''}; buying stops after ${REGISTRATION_FAILURE_LIMIT}`,
    };
  }
  const since = Date.parse(health.since);
  const joined = claims.some((nc) => {
    const registered = findCondition(nc.status.conditions, CONDITION.Registered);
    return registered?.status === 'True' && Date.parse(registered.lastTransitionTime) >= since;
  });
  return joined
    ? { type, status: 'True', reason: REASON.NodeRegistered, message: '' }
    : { type, status: 'Unknown', reason: REASON.NoRegistrationYet, message: `no node of NodePool ${pool} has registered since ScalewayNodeClass ${nodeClass} or the NodePool last changed` };
}

/** Whether the stored annotation must be rewritten. */
export function healthChanged(pool: Pick<NodePool, 'metadata'>, health: RegistrationHealth): boolean {
  return pool.metadata.annotations?.[ANNOTATION_REGISTRATION_HEALTH] !== JSON.stringify(health);
}

/**
 * Failures seen on watch events and not yet in a NodePool's annotation. A
 * NodeClaim is counted from its first event that carries the failure (the
 * rollback records it before deleting), so even its deletion while the
 * annotation write is pending loses nothing.
 */
export class RegistrationFailureInbox {
  private readonly byPool = new Map<string, Map<string, RegistrationFailure>>();

  /** Feeds a NodeClaim watch event; returns the failure when it is a new one. */
  observe(raw: KubernetesObject): RegistrationFailure | undefined {
    const parsed = NodeClaimSchema.safeParse(raw);
    if (!parsed.success) return undefined;
    const failure = registrationFailureOf(parsed.data);
    if (!failure) return undefined;
    const pool = this.byPool.get(failure.nodePool) ?? new Map<string, RegistrationFailure>();
    if (pool.has(failure.uid)) return undefined;
    pool.set(failure.uid, failure);
    this.byPool.set(failure.nodePool, pool);
    return failure;
  }

  pending(nodePool: string): RegistrationFailure[] {
    return [...(this.byPool.get(nodePool)?.values() ?? [])];
  }

  /** Forgets what the stored counters now hold. */
  settle(nodePool: string, health: RegistrationHealth): void {
    const pool = this.byPool.get(nodePool);
    if (!pool) return;
    // Counted, or from before the epoch (and so never to be counted).
    for (const [uid, f] of pool) if (health.counted.includes(uid) || Date.parse(f.at) < Date.parse(health.since)) pool.delete(uid);
    if (pool.size === 0) this.byPool.delete(nodePool);
  }
}

/** The planner's gate for a pool: its stored counters plus the failures seen since they were written. */
export function currentGate(pool: Pick<NodePool, 'metadata'>, nodeClass: Pick<ScalewayNodeClass, 'metadata'>, inbox: RegistrationFailureInbox | undefined, now = new Date()): PoolRegistrationGate {
  const health = updateHealth(readHealth(pool, healthEpoch(pool, nodeClass), now), inbox?.pending(pool.metadata.name) ?? [], []);
  return registrationGate(pool.metadata.name, nodeClass.metadata.name, health, now);
}
