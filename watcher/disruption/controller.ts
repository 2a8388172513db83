// The disruption loop: every few seconds, the decisions of decide.ts applied.
// The Drifted and Consolidatable conditions the pass computed are written
// first; a chosen NodeClaim is then deleted (its termination workflow drains
// the node and gives the server back); what is held back (DisruptionBlocked)
// or cannot go (Unconsolidatable) is told once on the NodeClaim and its Node.
// Every object comes typed from the watcher's cluster state (PodDisruptionBudgets as the pods do).
import type { KubeRest } from '../../kube/rest.ts';
import type { Node } from '../../kube/api/core.ts';
import { isConflict, isNotFound } from '../../kube/rest.ts';
import { isScalewayNodeClassRef, type NodeClaim } from '../../kube/api/schemas.ts';
import { NODECLAIM_GVR } from '../../kube/api/constants.ts';
import { clusterPath, nodeClaimEventTarget, recordEvent, updateNodeClaimStatus } from '../../kube/objects.ts';
import type { CatalogCache } from '../../scaleway/caches.ts';
import { decideDisruptions, priceFromOffers } from './decide.ts';
import type { ClusterState } from '../state/cluster-state.ts';
import { errorMessage, log } from '../../runtime/log.ts';
import { CONTROLLER, withController } from '../../runtime/metrics.ts';

const logger = log.child({ logger: 'watcher.disruption' });

/** How often candidates are looked for: short enough for a 30 s consolidateAfter to be kept to within seconds. */
export const DISRUPTION_INTERVAL_MS = 5_000;

export interface DisruptionController {
  /** Runs one pass now (tests). */
  runOnce(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Upstream's Event messages start with a capital ("Pdb prevents pod evictions ..."). */
const capitalized = (message: string): string => message.charAt(0).toUpperCase() + message.slice(1);

export interface DisruptionControllerOptions {
  kube: KubeRest;
  catalog: CatalogCache;
  /** The watcher's typed objects, parsed when they arrived. */
  state: ClusterState;
  /** Node name → the last pod bind or removal seen there (pod-events.ts), ahead of status.lastPodEventTime. */
  lastPodEventAt?: ReadonlyMap<string, Date>;
  intervalMs?: number;
  zones: () => string[];
}

export function startDisruptionController(opts: DisruptionControllerOptions): DisruptionController {
  const told = new Map<string, string>();
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();

  const runOnce = async (): Promise<string[]> => {
    const { state } = opts;
    const nodePools = state.nodePools.list().filter((p) => isScalewayNodeClassRef(p.spec.template.spec.nodeClassRef));
    const pools = new Set(nodePools.map((p) => p.metadata.name));
    const nodeClaims = state.nodeClaims.list().filter((nc) => pools.has(nc.metadata.labels?.['karpenter.sh/nodepool'] ?? ''));
    if (nodeClaims.length === 0) return [];
    // The catalog's Scaleway calls count under karpenter_cloudprovider_*{controller="disruption"}, as Karpenter's do.
    const offers = (await withController(CONTROLLER.disruption, () => Promise.all(opts.zones().map((z) => opts.catalog.offers(z).catch(() => []))))).flat();
    const plan = decideDisruptions({
      nodePools,
      nodeClaims,
      nodes: state.nodes.list(),
      nodeOf: (nodeClaim) => state.nodeOf(nodeClaim),
      pods: state.pods.list().filter((p) => p.spec.nodeName),
      nodeClasses: state.nodeClasses.list(),
      pdbs: state.podDisruptionBudgets.list(),
      now: new Date(),
      ...(opts.lastPodEventAt ? { lastPodEventAt: opts.lastPodEventAt } : {}),
      priceOf: priceFromOffers(offers),
    });
    for (const change of plan.conditions) {
      try {
        await updateNodeClaimStatus(opts.kube, change.nodeClaim, () => ({ conditions: change.conditions }));
      } catch (err) {
        // Written with the resourceVersion it was read at: a newer NodeClaim is looked at in the next pass.
        if (!isConflict(err) && !isNotFound(err)) logger.warn('writing the disruption conditions of the NodeClaim', { nodeClaim: change.nodeClaim.metadata.name, nodePool: change.nodeClaim.metadata.labels?.['karpenter.sh/nodepool'], error: errorMessage(err) });
      }
    }
    const deleted: string[] = [];
    for (const d of plan.decisions) {
      const name = d.nodeClaim.metadata.name;
      await recordEvent(opts.kube, nodeClaimEventTarget(d.nodeClaim), 'Normal', `Disruption${d.reason}`, `deleting: ${d.message}`);
      await opts.kube.delete(clusterPath(NODECLAIM_GVR, name), { preconditions: { uid: d.nodeClaim.metadata.uid } });
      deleted.push(name);
    }
    // Told on the NodeClaim and on its Node, as upstream does (kubectl describe node shows why it stays).
    const tell = async (nodeClaim: NodeClaim, node: Node, key: string, reason: string, message: string): Promise<void> => {
      if (told.get(key) === message) return;
      told.set(key, message);
      await recordEvent(opts.kube, nodeClaimEventTarget(nodeClaim), 'Normal', reason, message);
      await recordEvent(opts.kube, { apiVersion: 'v1', kind: 'Node', name: node.metadata.name, uid: node.metadata.uid }, 'Normal', reason, message);
    };
    for (const b of plan.blocked) {
      // Per reason: a drifted node may also be held back as underutilized, for another cause.
      await tell(b.nodeClaim, b.node, `${b.nodeClaim.metadata.uid ?? b.nodeClaim.metadata.name}/${b.reason}`, 'DisruptionBlocked', `${capitalized(b.message)} (${b.reason}, not disrupted)`);
    }
    for (const u of plan.unconsolidatable) {
      await tell(u.nodeClaim, u.node, `${u.nodeClaim.metadata.uid ?? u.nodeClaim.metadata.name}/Unconsolidatable`, 'Unconsolidatable', capitalized(u.message));
    }
    for (const error of plan.errors) logger.warn(error);
    return deleted;
  };

  const loop = (): void => {
    if (stopped) return;
    running = runOnce()
      .catch((err: unknown) => logger.warn('disruption pass failed', { error: errorMessage(err) }))
      .finally(() => {
        if (!stopped) setTimeout(loop, opts.intervalMs ?? DISRUPTION_INTERVAL_MS).unref();
      });
  };
  setTimeout(loop, opts.intervalMs ?? DISRUPTION_INTERVAL_MS).unref();

  return {
    runOnce,
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}
