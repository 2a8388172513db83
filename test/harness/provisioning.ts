// The whole product on real parts, for the provisioning tests: control plane
// with controllers, Temporal dev server, the simulator, the worker and the
// watcher (each as its own ServiceAccount, held to the chart's roles) and the
// simulated kubelet; plus helpers to create objects and wait on them. A test's
// own reads and writes go through product.adminKube.
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../scaleway/simulator/index.ts';
import { startProduct, type ProductOptions, type RunningProduct } from '../../sandbox/product.ts';
import { onTeardown, useControlPlane, useTemporal } from './stack.ts';
import type { ControlPlane } from '../../sandbox/control-plane.ts';
import type { TemporalDevServer } from '../../sandbox/temporal-dev-server.ts';
import { NODECLAIM_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { clusterPath } from '../../kube/objects.ts';
import { parseNodeClaim, type NodeClaim } from '../../kube/api/schemas.ts';

export interface ProvisioningStack {
  controlPlane: ControlPlane;
  temporal: TemporalDevServer;
  simulator: Simulator;
  product: RunningProduct;
}

export async function useProvisioningStack(opts: { simulator?: SimulatorOptions; product?: Partial<ProductOptions> } = {}): Promise<ProvisioningStack> {
  const [controlPlane, temporal, simulator] = await Promise.all([
    useControlPlane({ withControllers: true }),
    useTemporal(),
    startSimulator({ profile: 'instant', ...opts.simulator }),
  ]);
  onTeardown(() => simulator.close());
  const product = await startProduct({ controlPlane, temporal, simulator, pollIntervalMs: 200, ...opts.product });
  onTeardown(() => product.stop());
  return { controlPlane, temporal, simulator, product };
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    await sleep(intervalMs);
  }
}

export function nodeClassObject(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: SCALEWAY_NODECLASS_GVR.apiVersion,
    kind: SCALEWAY_NODECLASS_GVR.kind,
    metadata: { name },
    spec: { bootstrap: { mode: 'kubeadm' }, zones: ['fr-par-2'], ...spec },
  };
}

export function nodeClaimObject(name: string, opts: { nodeClass: string; nodePool?: string; requirements?: unknown[]; requests?: Record<string, string>; taints?: unknown[]; startupTaints?: unknown[] }): Record<string, unknown> {
  return {
    apiVersion: NODECLAIM_GVR.apiVersion,
    kind: NODECLAIM_GVR.kind,
    metadata: { name, labels: { 'karpenter.sh/nodepool': opts.nodePool ?? 'gpu' } },
    spec: {
      nodeClassRef: { group: SCALEWAY_NODECLASS_GVR.group, kind: SCALEWAY_NODECLASS_GVR.kind, name: opts.nodeClass },
      requirements: opts.requirements ?? [],
      resources: { requests: opts.requests ?? {} },
      ...(opts.taints ? { taints: opts.taints } : {}),
      ...(opts.startupTaints ? { startupTaints: opts.startupTaints } : {}),
    },
  };
}

export async function getNodeClaim(stack: ProvisioningStack, name: string): Promise<NodeClaim | undefined> {
  const raw = await stack.product.adminKube.getOrUndefined<unknown>(clusterPath(NODECLAIM_GVR, name));
  return raw === undefined ? undefined : parseNodeClaim(raw);
}

export const conditionOf = (nodeClaim: NodeClaim | undefined, type: string): { status: string; reason?: string | undefined; message?: string | undefined } | undefined =>
  nodeClaim?.status.conditions.find((c) => c.type === type);
