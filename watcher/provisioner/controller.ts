// The provisioner: Karpenter's provisioning job for NodePools of a
// ScalewayNodeClass. Unschedulable pods are batched, planned against the live
// catalog, the existing nodes and the NodeClaims still launching, and become
// NodeClaims (which the provisioning workflows then fulfil). Pods are told
// where they will go, or why nothing can run them.
import type { KubeRest } from '../../kube/rest.ts';
import { isAlreadyExists } from '../../kube/rest.ts';
import { isPodUnschedulable, type Pod } from '../../kube/api/core.ts';
import { isScalewayNodeClassRef, parseNodeClaim, type NodeClaim, type NodePool, type ScalewayNodeClass } from '../../kube/api/schemas.ts';
import { findCondition, isConditionTrue } from '../../kube/api/conditions.ts';
import { ANNOTATION_NOMINATED_PODS, ANNOTATION_PLANNED_OFFERING, CONDITION, REASON, FINALIZER_TERMINATION, LABEL_INSTANCE_TYPE, LABEL_NODEPOOL, NODECLAIM_GVR, NODEPOOL_GVR } from '../../kube/api/constants.ts';
import { clusterPath, recordEvent, type EventTarget } from '../../kube/objects.ts';
import type { CatalogCache } from '../../scaleway/caches.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import { instanceCapacity, toResourceList } from '../../scaleway/instance-types.ts';
import { nodeClassZones } from '../../scaleway/offerings.ts';
import type { KubeletSettings } from '../../scaleway/kubelet-reservations.ts';
import { rootVolumeOf } from '../../kube/api/nodeclass-defaults.ts';
import { poolResources } from '../nodepool-status.ts';
import { existingFromNode, existingFromNodeClaim, plan, type Plan, type PlanNodePool } from './planner.ts';
import { nodeClaimName } from './nodeclaim-packing.ts';
import { daemonSetOverhead, daemonSetsStillToCome } from './daemonset-overhead.ts';
import { subtractResources, toAmounts } from './pod-requests.ts';
import { Batcher } from './batcher.ts';
import { servedByOtherProvisioner } from './other-provisioners.ts';
import { TokenBucket } from '../../scaleway/rate-limiter.ts';
import { zonesOfNodeClasses } from '../../scaleway/catalog-warmup.ts';
import { nodeClassHashAnnotations, nodePoolHashAnnotations } from '../drift-hashes.ts';
import type { ClusterState } from '../state/cluster-state.ts';
import { CONTROLLER, nodeClaimsCreated, withController } from '../../runtime/metrics.ts';
import { errorMessage, log } from '../../runtime/log.ts';

const logger = log.child({ logger: 'watcher.provisioner' });

export interface ProvisionerOptions {
  kube: KubeRest;
  catalog: CatalogCache;
  /** The watcher's typed objects, parsed when they arrived. */
  state: ClusterState;
  batchIdleMs?: number;
  batchMaxMs?: number;
  /**
   * Called for each NodeClaim made, as soon as the apiserver has it: the
   * watcher starts its workflow here rather than wait for the watch to bring it.
   * A failure is logged; the NodeClaim reconcile starts the workflow anyway.
   */
  onNodeClaimCreated?: (nodeClaim: { name: string; uid: string }) => Promise<unknown>;
  /**
   * Registration backoff of a pool (registration-health.ts): offerings to skip
   * and whether the pool buys at all. Nothing is held back without it.
   */
  registrationGate?: (pool: NodePool, nodeClass: ScalewayNodeClass) => { blocked: (offer: { commercialType: string; zone: string }) => string | undefined; stopped: string | undefined };
  /** Called after each planning round (benchmarks, tests). */
  onPlanned?: (plan: Plan, createdNodeClaims: string[]) => void;
}

const podKey = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;
/** Names tried for one planned NodeClaim beyond its first, each taken by a NodeClaim that could not hold its pods. */
const MAX_NAME_ATTEMPTS = 8;
const keyOfPod = (p: Pod): string => podKey({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name });
const podTarget = (p: { namespace: string; name: string; uid?: string | undefined }): EventTarget => ({ apiVersion: 'v1', kind: 'Pod', name: p.name, namespace: p.namespace, uid: p.uid });

/**
 * After its node is initialized, how long a NodeClaim's nominated pods stay
 * spoken for: the scheduler binds them within seconds, but until it has, a new
 * plan must not buy capacity for them a second time.
 */
export const NOMINATION_GRACE_MS = 60_000;

/** A NodeClaim whose node is not there yet. */
function launching(nc: NodeClaim): boolean {
  return !nc.metadata.deletionTimestamp && !isConditionTrue(nc.status.conditions, CONDITION.Initialized);
}

/** Whether the pods nominated to this NodeClaim are still its own (launching, or initialized moments ago). */
export function holdsNominations(nc: NodeClaim, now: number): boolean {
  if (nc.metadata.deletionTimestamp) return false;
  // A launch that failed for good (kept so the user sees why) will never run its pods: free them.
  if (findCondition(nc.status.conditions, CONDITION.Launched)?.status === 'False') return false;
  if (launching(nc)) return true;
  const initialized = findCondition(nc.status.conditions, CONDITION.Initialized);
  return initialized !== undefined && now - Date.parse(initialized.lastTransitionTime) < NOMINATION_GRACE_MS;
}

/** `namespace/name` of the pods a NodeClaim was made for. */
const nominatedKeys = (nc: NodeClaim): string[] => (nc.metadata.annotations?.[ANNOTATION_NOMINATED_PODS] ?? '').split(',').filter(Boolean);

/** Capacity a NodeClaim holds against its pool's limits: its status, or its cheapest type's while it launches. */
function claimedCapacity(nc: NodeClaim, offers: readonly ServerTypeOffer[], rootVolumeBytes: number, kubelet: KubeletSettings | undefined): Record<string, string> {
  if (nc.status.capacity) return nc.status.capacity;
  const types = nc.spec.requirements.find((r) => r.key === LABEL_INSTANCE_TYPE && r.operator === 'In')?.values ?? [];
  const offer = offers.find((o) => o.commercialType === types[0]);
  if (!offer) return {};
  return toResourceList(instanceCapacity(offer, rootVolumeBytes, kubelet));
}

/** Longest a NodeClaim this provisioner made is counted before its informer delivers it: a watch that lags longer has broken and relists. */
const MADE_NOT_SEEN_MS = 30_000;

/**
 * Karpenter's limit on Nominated Events (5 a second, bursts of 10), past which
 * they are dropped: a 1000-pod burst would otherwise be a thousand Event
 * writes before the next pass. The NodeClaim's nominated-pods annotation says
 * where every pod goes.
 */
export const NOMINATION_EVENT_RATE = { ratePerSecond: 5, burst: 10 } as const;

/**
 * Writes to the apiserver at most this many at a time: a 500-pod burst is not
 * 500 round trips in a row. Karpenter sends a plan's NodeClaims all at once,
 * bounded by its client's 200 QPS; API Priority and Fairness (the chart's
 * FlowSchemas) protects the apiserver on its side.
 */
const WRITE_CONCURRENCY = 64;

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, items.length) }, worker));
}

export interface Provisioner {
  /** A pod went pending (its UID as the key: it extends the batch window once), or capacity went away: plan soon (batched). */
  trigger(key?: string): void;
  /** Plans now, once (tests and benchmarks). */
  provisionOnce(): Promise<Plan | undefined>;
  close(): Promise<void>;
}

export function createProvisioner(options: ProvisionerOptions): Provisioner {
  const { kube, state } = options;
  // Events already told, so a pod pending for an hour is not told the same thing every second.
  const told = new Map<string, string>();
  // With a limiter, an Event past its rate is dropped (and not remembered as told).
  const tell = async (key: string, target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string, limiter?: TokenBucket): Promise<void> => {
    if (told.get(key) === `${reason}:${message}`) return;
    if (limiter && !limiter.tryAcquire()) return;
    told.set(key, `${reason}:${message}`);
    await recordEvent(kube, target, type, reason, message);
  };

  const nominationEvents = new TokenBucket(NOMINATION_EVENT_RATE);
  // Workflow starts still in flight. A pass does not wait for its own: at 500 NodeClaims they come back for
  // seconds after the last POST, and pods that went pending meanwhile would wait that long for the next pass.
  const startsInFlight = new Set<Promise<unknown>>();
  // NodeClaims this provisioner made that its informer has not delivered yet. Karpenter puts a NodeClaim into
  // its cluster state as it creates it: a pass that starts right after a 400-NodeClaim pass, before their watch
  // events arrive, must count them, or it buys their pods' capacity a second time. Each entry goes once the
  // informer has the NodeClaim, or after MADE_NOT_SEEN_MS whatever happened to it.
  const madeNotSeen = new Map<string, { nodeClaim: NodeClaim; madeAt: number }>();
  const rememberMade = (raw: { metadata: { name: string } }): void => {
    try {
      madeNotSeen.set(raw.metadata.name, { nodeClaim: parseNodeClaim(raw), madeAt: Date.now() });
    } catch (err) {
      logger.debug('a NodeClaim just made cannot be read; counted once its informer delivers it', { nodeClaim: raw.metadata.name, error: errorMessage(err) });
    }
  };

  /**
   * POSTs a planned NodeClaim under its derived name, or the next in its
   * sequence when that name belongs to a NodeClaim this pass already counted
   * (the planner found it could not hold these pods: the scheduler put another
   * pod on it). A name taken by one it has not seen yet is the same plan made
   * by a pass before the watch caught up: nothing is bought twice.
   */
  const postPlannedNodeClaim = async (planned: Plan['nodeClaims'][number], body: (name: string) => Record<string, unknown>): Promise<{ metadata: { name: string; uid: string } } | undefined> => {
    const podKeys = planned.pods.map(podKey);
    for (let attempt = 0; attempt <= MAX_NAME_ATTEMPTS; attempt++) {
      const name = attempt === 0 ? planned.name : nodeClaimName(planned.nodePool, podKeys, attempt);
      try {
        return await kube.post<{ metadata: { name: string; uid: string } }>(clusterPath(NODECLAIM_GVR), body(name));
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        if (!state.nodeClaims.get(name) && !madeNotSeen.has(name)) return undefined;
      }
    }
    logger.warn('every name for this NodeClaim is taken by one that cannot hold its pods; planned again next pass', { nodeClaim: planned.name, nodePool: planned.nodePool, pods: podKeys.length });
    return undefined;
  };

  const provisionOnce = async (): Promise<Plan | undefined> => {
    const allPods = state.pods.list();
    const now = Date.now();
    for (const [name, made] of madeNotSeen) if (state.nodeClaims.get(name) || now - made.madeAt > MADE_NOT_SEEN_MS) madeNotSeen.delete(name);
    const nodeClaims = madeNotSeen.size === 0 ? state.nodeClaims.list() : [...state.nodeClaims.list(), ...[...madeNotSeen.values()].map((m) => m.nodeClaim)];
    const spokenFor = new Set<string>();
    for (const nc of nodeClaims) {
      if (!holdsNominations(nc, now)) continue;
      for (const key of nominatedKeys(nc)) spokenFor.add(key);
    }
    const pending = allPods.filter((p) => !p.spec.nodeName && !p.metadata.deletionTimestamp && isPodUnschedulable(p));
    const unclaimed = pending.filter((p) => !spokenFor.has(keyOfPod(p)));
    if (unclaimed.length === 0) return undefined;

    const nodeClasses = new Map<string, ScalewayNodeClass>(state.nodeClasses.list().map((nc) => [nc.metadata.name, nc]));
    const allPools = state.nodePools.list();
    const pools = allPools.filter((p) => isScalewayNodeClassRef(p.spec.template.spec.nodeClassRef) && !p.metadata.deletionTimestamp);
    const ours = new Set(pools.map((p) => p.metadata.name));
    const others = new Set(allPools.filter((p) => !isScalewayNodeClassRef(p.spec.template.spec.nodeClassRef)).map((p) => p.metadata.name));
    const pods = unclaimed.filter((p) => !servedByOtherProvisioner(p, ours, others));
    if (pods.length === 0) return undefined;
    const zones = zonesOfNodeClasses(pools.map((pool) => nodeClasses.get(pool.spec.template.spec.nodeClassRef.name) ?? {}));
    const offers = (await withController(CONTROLLER.provisioner, () => Promise.all(zones.map((z) => options.catalog.offers(z))))).flat();

    // Each DaemonSet's pod, read when the DaemonSet arrived, for every pool it may run on.
    const daemonPods = state.daemonSets.list();
    const planPools: PlanNodePool[] = [];
    for (const pool of pools) {
      const nodeClass = nodeClasses.get(pool.spec.template.spec.nodeClassRef.name);
      // A NodeClass that is not Ready makes nothing; its pods are told so below by the planner's absence of a pool.
      if (!nodeClass || !isConditionTrue(nodeClass.status.conditions, CONDITION.Ready)) continue;
      const rootVolumeBytes = rootVolumeOf(nodeClass).sizeBytes;
      const claims = nodeClaims.filter((nc) => nc.metadata.labels?.[LABEL_NODEPOOL] === pool.metadata.name && !nc.metadata.deletionTimestamp);
      const usage = poolResources(claims.map((nc) => ({ ...nc, status: { ...nc.status, capacity: claimedCapacity(nc, offers, rootVolumeBytes, nodeClass.spec.kubelet) } })));
      const gate = options.registrationGate?.(pool, nodeClass);
      planPools.push({
        nodePool: pool,
        nodeClass: nodeClass.metadata.name,
        blocked: gate?.blocked,
        stopped: gate?.stopped,
        zones: nodeClassZones(nodeClass.spec.zones),
        rootVolumeBytes,
        kubelet: nodeClass.spec.kubelet,
        daemonSetOverhead: daemonSetOverhead(pool, daemonPods),
        usage,
      });
    }

    const nodes = state.nodes.list().filter((n) => !n.metadata.deletionTimestamp);
    const nodeNames = new Set(nodes.map((n) => n.metadata.name));
    const existing = [
      ...nodes.map((n) => {
        const here = state.podsOn(n.metadata.name).filter((p) => !['Succeeded', 'Failed'].includes(p.status.phase ?? ''));
        const entry = existingFromNode(n, here);
        return { ...entry, available: subtractResources(toAmounts(entry.available), daemonSetsStillToCome(entry, daemonPods, here)) };
      }),
      // A launching NodeClaim whose Node has registered under it is counted as that Node, not twice.
      ...nodeClaims.filter((nc) => launching(nc) && !(nc.status.nodeName && nodeNames.has(nc.status.nodeName))).map((nc) => {
        const nodeClass = nodeClasses.get(nc.spec.nodeClassRef.name);
        const departedPods = nominatedKeys(nc).flatMap((key) => {
          const p = state.pods.get(key);
          return p?.spec.nodeName && p.spec.nodeName !== nc.status.nodeName ? [p] : [];
        });
        return existingFromNodeClaim(nc, { offers, rootVolumeBytes: nodeClass ? rootVolumeOf(nodeClass).sizeBytes : 0, kubelet: nodeClass?.spec.kubelet, departedPods });
      }),
    ];

    const planStartedAt = Date.now();
    const result = plan({ pods, nodePools: planPools, offers, existing });
    const plannedAt = Date.now();
    const created: string[] = [];
    /** Planned names taken by a NodeClaim this pass had already counted, and the names posted instead. */
    const renamed = new Map<string, string>();
    await inParallel(result.nodeClaims, async (planned) => {
      const pool = pools.find((p) => p.metadata.name === planned.nodePool);
      if (!pool) return;
      const template = pool.spec.template.spec;
      const nodeClass = nodeClasses.get(template.nodeClassRef.name);
      const body = (name: string): Record<string, unknown> => ({
        apiVersion: NODECLAIM_GVR.apiVersion,
        kind: NODECLAIM_GVR.kind,
        metadata: {
          name,
          labels: { ...planned.labels, [LABEL_NODEPOOL]: planned.nodePool },
          annotations: {
            ...pool.spec.template.metadata.annotations,
            // What it was made from, for drift: a later change to either marks it Drifted.
            ...nodePoolHashAnnotations(pool),
            ...(nodeClass ? nodeClassHashAnnotations(nodeClass) : {}),
            [ANNOTATION_NOMINATED_PODS]: planned.pods.map(podKey).join(','),
            [ANNOTATION_PLANNED_OFFERING]: `${planned.offering.commercialType}@${planned.offering.zone} €${planned.hourlyPriceEur}/h`,
          },
          ownerReferences: [{ apiVersion: NODEPOOL_GVR.apiVersion, kind: NODEPOOL_GVR.kind, name: pool.metadata.name, uid: pool.metadata.uid ?? '', blockOwnerDeletion: true }],
          // Born with it: the lifecycle controller need not patch it in before starting the workflow.
          finalizers: [FINALIZER_TERMINATION],
        },
        spec: {
          nodeClassRef: template.nodeClassRef,
          requirements: planned.requirements,
          resources: planned.resources,
          taints: planned.taints,
          startupTaints: planned.startupTaints,
          expireAfter: template.expireAfter,
          ...(template.terminationGracePeriod ? { terminationGracePeriod: template.terminationGracePeriod } : {}),
        },
      });
      const made = await postPlannedNodeClaim(planned, body);
      if (!made) return;
      if (made.metadata.name !== planned.name) renamed.set(planned.name, made.metadata.name);
      created.push(made.metadata.name);
      if (!state.nodeClaims.get(made.metadata.name)) rememberMade(made);
      nodeClaimsCreated.inc({ reason: 'provisioning', nodepool: planned.nodePool, min_values_relaxed: 'false' });
      logger.info('created NodeClaim', { nodeClaim: made.metadata.name, nodePool: planned.nodePool, commercialType: planned.offering.commercialType, zone: planned.offering.zone, pods: planned.pods.length });
      // Not awaited here: the next NodeClaim's POST does not wait for this one's workflow start.
      const start = Promise.resolve(options.onNodeClaimCreated?.({ name: made.metadata.name, uid: made.metadata.uid })).catch((err: unknown) => {
        logger.warn('starting the workflow of the NodeClaim failed (the NodeClaim reconcile will retry)', { nodeClaim: made.metadata.name, nodePool: planned.nodePool, error: errorMessage(err) });
      });
      startsInFlight.add(start);
      void start.finally(() => startsInFlight.delete(start));
    });
    await inParallel(result.nominations, (n) =>
      tell(podKey(n.pod), podTarget({ ...n.pod, uid: state.pods.get(podKey(n.pod))?.metadata.uid }), 'Normal', 'Nominated', `Pod should schedule on: ${n.kind === 'Node' ? 'node' : 'nodeclaim'}/${(n.planned && renamed.get(n.name)) || n.name}`, nominationEvents));
    await inParallel(result.podErrors, (e) => tell(podKey(e.pod), podTarget(e.pod), 'Warning', 'FailedScheduling', `Failed to schedule pod, ${e.reason}`));
    // Upstream's Event for a NodePool that has nothing to launch, with the step that emptied its offerings.
    for (const p of result.poolProblems) {
      await tell(`pool-offerings/${p.nodePool}`, { apiVersion: NODEPOOL_GVR.apiVersion, kind: NODEPOOL_GVR.kind, name: p.nodePool }, 'Warning', p.reason === REASON.RegistrationStopped || p.reason === REASON.RegistrationBackoff ? p.reason : REASON.NoCompatibleInstanceTypes, p.message);
    }
    for (const e of result.limitEvents) {
      await tell(`pool/${e.nodePool}`, { apiVersion: NODEPOOL_GVR.apiVersion, kind: NODEPOOL_GVR.kind, name: e.nodePool }, 'Warning', 'LimitReached', e.message);
    }
    if (planPools.length === 0 && pools.length > 0) {
      for (const p of pods) await tell(keyOfPod(p), podTarget({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name, uid: p.metadata.uid }), 'Warning', 'FailedScheduling', 'Failed to schedule pod, no NodePool has a Ready ScalewayNodeClass');
    }
    // As Karpenter logs its scheduling result: what a pass found, made and took, each step timed.
    logger.info('computed new nodeclaim(s) to fit pod(s)', {
      pods: pods.length,
      otherProvisionersPods: unclaimed.length - pods.length,
      nodeClaims: result.nodeClaims.length,
      created: created.length,
      podErrors: result.podErrors.length,
      readMs: planStartedAt - now,
      planMs: plannedAt - planStartedAt,
      writeMs: Date.now() - plannedAt,
    });
    options.onPlanned?.(result, created);
    return result;
  };

  const batcher = new Batcher(async () => {
    await provisionOnce();
  }, options.batchIdleMs, options.batchMaxMs);

  return {
    trigger: (key) => batcher.trigger(key),
    provisionOnce,
    close: async () => {
      await batcher.close();
      await Promise.all(startsInFlight);
    },
  };
}

