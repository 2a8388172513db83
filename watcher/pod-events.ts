// NodeClaim status.lastPodEventTime, as Karpenter core's podevents controller
// keeps it (pkg/controllers/nodeclaim/podevents): the last time a pod was
// bound to the NodeClaim's node (its PodScheduled transition) or left it (went
// terminal, began terminating, or was deleted while still running). DaemonSet
// pods do not count: they come and go with the node itself.
//
// A busy node is not a status write per pod: a NodeClaim's time is written at
// most once per LAST_POD_EVENT_WRITE_INTERVAL_MS, unless it moved forward by
// more than that, and the latest time is always written in the end (a trailing
// write). Nothing is written before the NodeClaim is Initialized: nothing
// reads the time before then (consolidation waits for initialization), and
// the lifecycle activities' resourceVersion-guarded status writes of
// registration and initialization would conflict with it. The disruption loop
// does not wait for the write: it reads the exact times seen here
// (lastPodEventAt) as well as the status.
import { z } from 'zod';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeRest } from '../kube/rest.ts';
import { isNotFound } from '../kube/rest.ts';
import { TimestampSchema, type NodeClaim } from '../kube/api/schemas.ts';
import { ClusterState } from './state/cluster-state.ts';
import { CONDITION } from '../kube/api/constants.ts';
import { isConditionTrue } from '../kube/api/conditions.ts';
import { patchNodeClaimStatus } from '../kube/objects.ts';
import { KeyedQueue } from './queue.ts';

/** Upstream dedupes lastPodEventTime writes over 10 s: consolidateAfter is rarely shorter, and pod churn is often faster. */
export const LAST_POD_EVENT_WRITE_INTERVAL_MS = 10_000;

/** The part of a pod its events are read from; client-node's V1Pod and raw JSON both fit. */
const PodEventViewSchema = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    deletionTimestamp: TimestampSchema.optional(),
    ownerReferences: z.array(z.object({ kind: z.string() })).optional(),
  }),
  spec: z.object({ nodeName: z.string().optional() }).prefault({}),
  status: z
    .object({
      phase: z.string().optional(),
      conditions: z.array(z.object({ type: z.string(), status: z.string(), lastTransitionTime: TimestampSchema.optional() })).default([]),
    })
    .prefault({}),
});
export type PodEventView = z.output<typeof PodEventViewSchema>;

/** What is remembered of a pod between its events. */
export interface PodState {
  readonly nodeName: string | undefined;
  /** Terminal (Succeeded, Failed) or terminating: it has left its node already. */
  readonly gone: boolean;
}

export interface PodEvent {
  readonly nodeName: string;
  readonly at: Date;
}

export function podStateOf(pod: PodEventView): PodState {
  const terminal = pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed';
  return { nodeName: pod.spec.nodeName, gone: terminal || pod.metadata.deletionTimestamp !== undefined };
}

/** When the pod was bound: its PodScheduled=True transition, never later than now. */
function scheduledAt(pod: PodEventView, now: Date): Date {
  const since = pod.status.conditions.find((c) => c.type === 'PodScheduled' && c.status === 'True')?.lastTransitionTime;
  const ms = since === undefined ? Number.NaN : new Date(since).getTime();
  return Number.isNaN(ms) || ms > now.getTime() ? now : new Date(ms);
}

/**
 * The pod event this watch event is, given what was known of the pod before
 * (undefined: nothing, e.g. the first list). A pod first seen already gone
 * tells nothing: when it left is not known.
 */
export function podEventOf(previous: PodState | undefined, pod: PodEventView, event: 'add' | 'update' | 'delete', now: Date): PodEvent | undefined {
  const nodeName = pod.spec.nodeName;
  if (nodeName === undefined || (pod.metadata.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet')) return undefined;
  const state = podStateOf(pod);
  if (event === 'delete') return previous?.gone === true ? undefined : { nodeName, at: now };
  if (previous === undefined || previous.nodeName === undefined) return state.gone ? undefined : { nodeName, at: scheduledAt(pod, now) };
  return !previous.gone && state.gone ? { nodeName, at: now } : undefined;
}

export interface WriteDecision {
  readonly write: boolean;
  /** When to look again for a write held back by the interval. */
  readonly retryAt?: number;
}

/**
 * Whether to write `pending` (ms) as lastPodEventTime now. `stored` is what the
 * status holds (or what we last wrote), `lastWriteAt` when we last wrote it.
 */
export function lastPodEventWrite(
  input: { stored: number | undefined; pending: number; lastWriteAt: number | undefined; now: number },
  intervalMs = LAST_POD_EVENT_WRITE_INTERVAL_MS,
): WriteDecision {
  const { stored, pending, lastWriteAt, now } = input;
  if (stored !== undefined && pending <= stored) return { write: false };
  if (stored === undefined || pending - stored >= intervalMs) return { write: true };
  if (lastWriteAt === undefined || now - lastWriteAt >= intervalMs) return { write: true };
  return { write: false, retryAt: lastWriteAt + intervalMs };
}

/** RFC 3339 in whole seconds, as metav1.Time is stored. */
const wholeSeconds = (ms: number): number => Math.floor(ms / 1000) * 1000;
const rfc3339 = (ms: number): string => new Date(wholeSeconds(ms)).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Where a node's NodeClaim is found: the watcher's cluster state (nodeClaimOfNode), or raw lists to search (tests). */
export type PodEventSources =
  | { nodeClaimOfNode(nodeName: string): NodeClaim | undefined }
  | {
      nodes(): readonly KubernetesObject[];
      nodeClaims(): readonly KubernetesObject[];
    };

export interface PodEventRecorder {
  /** Feeds one watch event of a pod. */
  observe(raw: unknown, event: 'add' | 'update' | 'delete'): void;
  /** Node name → the last pod event seen on it (ahead of any status write). */
  readonly lastPodEventAt: ReadonlyMap<string, Date>;
  /** Resolves when no write is running (tests). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function createPodEventRecorder(options: { kube: KubeRest; sources: PodEventSources; writeIntervalMs?: number; now?: () => Date }): PodEventRecorder {
  const intervalMs = options.writeIntervalMs ?? LAST_POD_EVENT_WRITE_INTERVAL_MS;
  const now = options.now ?? (() => new Date());
  const pods = new Map<string, PodState>();
  const lastPodEventAt = new Map<string, Date>();
  /** Node name → the time still to be written. */
  const pending = new Map<string, number>();
  /** NodeClaim UID → what we wrote and when, until the watched status has caught up. */
  const written = new Map<string, { value: number; at: number }>();
  const retries = new Map<string, NodeJS.Timeout>();

  const nodeClaimOfNode = (nodeName: string): NodeClaim | undefined => {
    const sources = options.sources;
    if ('nodeClaimOfNode' in sources) return sources.nodeClaimOfNode(nodeName);
    // Raw lists: read into a cluster state of their own, so the Node ↔ NodeClaim match is the state's (by providerID).
    const state = new ClusterState();
    for (const n of sources.nodes()) state.applyNode(n, 'add');
    for (const nc of sources.nodeClaims()) state.applyNodeClaim(nc, 'add');
    return state.nodeClaimOfNode(nodeName);
  };

  const retryAt = (nodeName: string, at: number): void => {
    if (retries.has(nodeName)) return;
    const timer = setTimeout(() => {
      retries.delete(nodeName);
      queue.add(nodeName);
    }, Math.max(0, at - now().getTime()));
    timer.unref();
    retries.set(nodeName, timer);
  };

  const queue: KeyedQueue = new KeyedQueue('lastPodEventTime', async (nodeName) => {
    const at = pending.get(nodeName);
    if (at === undefined) return;
    const nodeClaim = nodeClaimOfNode(nodeName);
    if (!nodeClaim || nodeClaim.metadata.deletionTimestamp !== undefined) {
      pending.delete(nodeName);
      return;
    }
    const t = now().getTime();
    if (!isConditionTrue(nodeClaim.status.conditions, CONDITION.Initialized)) {
      retryAt(nodeName, t + intervalMs);
      return;
    }
    for (const [uid, w] of written) if (t - w.at > 2 * intervalMs) written.delete(uid);
    const key = nodeClaim.metadata.uid ?? nodeClaim.metadata.name;
    const last = written.get(key);
    const status = nodeClaim.status.lastPodEventTime === undefined ? undefined : new Date(nodeClaim.status.lastPodEventTime).getTime();
    const stored = [status, last?.value].filter((v): v is number => v !== undefined && !Number.isNaN(v));
    const decision = lastPodEventWrite({ stored: stored.length > 0 ? Math.max(...stored) : undefined, pending: wholeSeconds(at), lastWriteAt: last?.at, now: t }, intervalMs);
    if (decision.retryAt !== undefined) {
      retryAt(nodeName, decision.retryAt);
      return;
    }
    if (decision.write) {
      try {
        await patchNodeClaimStatus(options.kube, nodeClaim.metadata.name, { lastPodEventTime: rfc3339(at) });
      } catch (err) {
        if (!isNotFound(err)) throw new Error(`writing lastPodEventTime of NodeClaim ${nodeClaim.metadata.name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      written.set(key, { value: wholeSeconds(at), at: t });
    }
    if (pending.get(nodeName) === at) pending.delete(nodeName);
  });

  return {
    observe: (raw, event) => {
      const parsed = PodEventViewSchema.safeParse(raw);
      if (!parsed.success) return;
      const pod = parsed.data;
      const key = pod.metadata.uid ?? `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
      const happened = podEventOf(pods.get(key), pod, event, now());
      if (event === 'delete') pods.delete(key);
      else pods.set(key, podStateOf(pod));
      if (!happened) return;
      const { nodeName, at } = happened;
      if ((lastPodEventAt.get(nodeName)?.getTime() ?? -Infinity) < at.getTime()) lastPodEventAt.set(nodeName, at);
      if ((pending.get(nodeName) ?? -Infinity) < at.getTime()) pending.set(nodeName, at.getTime());
      queue.add(nodeName);
    },
    lastPodEventAt,
    idle: () => queue.idle(),
    close: async () => {
      for (const timer of retries.values()) clearTimeout(timer);
      retries.clear();
      await queue.close();
    },
  };
}
