// The disruption loop: every few seconds, the decisions of decide.ts applied.
// A chosen NodeClaim is deleted (its termination workflow drains the node and
// gives the server back); what is held back is told on the NodeClaim once.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeRest } from '../../kube/rest.ts';
import { parsePod, parseNode } from '../../kube/api/core.ts';
import { parseNodeClaim, parseNodePool, isScalewayNodeClassRef } from '../../kube/api/schemas.ts';
import { NODECLAIM_GVR } from '../../kube/api/constants.ts';
import { clusterPath, nodeClaimEventTarget, recordEvent } from '../../kube/objects.ts';
import type { CatalogCache } from '../../scaleway/caches.ts';
import { decideDisruptions, priceFromOffers } from './decide.ts';

/** How often candidates are looked for: short enough for a 30 s consolidateAfter to be kept to within seconds. */
export const DISRUPTION_INTERVAL_MS = 5_000;

export interface DisruptionSources {
  pods(): readonly KubernetesObject[];
  nodes(): readonly KubernetesObject[];
  nodeClaims(): readonly KubernetesObject[];
  nodePools(): readonly KubernetesObject[];
}

export interface DisruptionController {
  /** A pod bound to, or left, this node now. */
  podEvent(nodeName: string, at?: Date): void;
  /** Runs one pass now (tests). */
  runOnce(): Promise<string[]>;
  stop(): Promise<void>;
}

function parsed<T>(parse: (o: unknown) => T, list: readonly unknown[]): T[] {
  return list.flatMap((raw) => {
    try {
      return [parse(raw)];
    } catch {
      return [];
    }
  });
}

export function startDisruptionController(opts: { kube: KubeRest; catalog: CatalogCache; sources: DisruptionSources; intervalMs?: number; zones: () => string[] }): DisruptionController {
  const lastPodEventAt = new Map<string, Date>();
  const told = new Map<string, string>();
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();

  const runOnce = async (): Promise<string[]> => {
    const nodePools = parsed(parseNodePool, opts.sources.nodePools()).filter((p) => isScalewayNodeClassRef(p.spec.template.spec.nodeClassRef));
    const pools = new Set(nodePools.map((p) => p.metadata.name));
    const nodeClaims = parsed(parseNodeClaim, opts.sources.nodeClaims()).filter((nc) => pools.has(nc.metadata.labels?.['karpenter.sh/nodepool'] ?? ''));
    if (nodeClaims.length === 0) return [];
    const offers = (await Promise.all(opts.zones().map((z) => opts.catalog.offers(z).catch(() => [])))).flat();
    const plan = decideDisruptions({
      nodePools,
      nodeClaims,
      nodes: parsed(parseNode, opts.sources.nodes()),
      pods: parsed(parsePod, opts.sources.pods()).filter((p) => p.spec.nodeName),
      now: new Date(),
      lastPodEventAt,
      priceOf: priceFromOffers(offers),
    });
    const deleted: string[] = [];
    for (const d of plan.decisions) {
      const name = d.nodeClaim.metadata.name;
      await recordEvent(opts.kube, nodeClaimEventTarget(d.nodeClaim), 'Normal', `Disruption${d.reason}`, `deleting: ${d.message}`);
      await opts.kube.delete(clusterPath(NODECLAIM_GVR, name), { preconditions: { uid: d.nodeClaim.metadata.uid } });
      deleted.push(name);
    }
    for (const b of plan.blocked) {
      const key = b.nodeClaim.metadata.uid ?? b.nodeClaim.metadata.name;
      if (told.get(key) === b.message) continue;
      told.set(key, b.message);
      await recordEvent(opts.kube, nodeClaimEventTarget(b.nodeClaim), 'Normal', 'DisruptionBlocked', `${b.reason} but not disrupted: ${b.message}`);
    }
    for (const error of plan.errors) console.warn(`[disruption] ${error}`);
    return deleted;
  };

  const loop = (): void => {
    if (stopped) return;
    running = runOnce()
      .catch((err: unknown) => console.warn(`[disruption] pass failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        if (!stopped) setTimeout(loop, opts.intervalMs ?? DISRUPTION_INTERVAL_MS).unref();
      });
  };
  setTimeout(loop, opts.intervalMs ?? DISRUPTION_INTERVAL_MS).unref();

  return {
    podEvent: (nodeName, at = new Date()) => lastPodEventAt.set(nodeName, at),
    runOnce,
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}
