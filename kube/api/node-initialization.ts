// When a Node counts as initialized, as Karpenter's core decides it: Ready, its
// startup and known ephemeral taints gone, and every extended resource its
// NodeClaim asked for (its GPUs) allocatable. The worker's initialization check
// and the watcher's choice of when to wake a provisioning workflow read it here.
import { EPHEMERAL_TAINT_PREFIX, KNOWN_EPHEMERAL_TAINT_KEYS, REASON, RESOURCE_NVIDIA_GPU } from './constants.ts';
import { isNodeReady, type Node } from './core.ts';
import type { NodeClaim } from './schemas.ts';
import { parseQuantity } from '../quantity.ts';

export type TaintLike = { key: string; value?: string | undefined; effect: string };
export const sameTaint = (a: TaintLike, b: TaintLike): boolean => a.key === b.key && a.effect === b.effect;

/** Why the Node is not initialized yet, in core's order of checks, or undefined when it is. */
export function initializationBlocker(node: Node, startupTaints: readonly TaintLike[], requested: Readonly<Record<string, string>>, expectsGpu: boolean): { reason: string; message: string } | undefined {
  if (!isNodeReady(node)) return { reason: REASON.NodeNotReady, message: 'node is not Ready' };
  const startup = node.spec.taints.find((t) => startupTaints.some((s) => sameTaint(s, t)));
  if (startup) return { reason: REASON.StartupTaintsExist, message: `startup taint ${startup.key}:${startup.effect} still on the node` };
  const ephemeral = node.spec.taints.find((t) => KNOWN_EPHEMERAL_TAINT_KEYS.includes(t.key) || t.key.startsWith(EPHEMERAL_TAINT_PREFIX));
  if (ephemeral) return { reason: REASON.KnownEphemeralTaintsExist, message: `taint ${ephemeral.key}:${ephemeral.effect} still on the node` };
  const extended = new Set(Object.keys(requested).filter((k) => k.includes('/')));
  if (expectsGpu) extended.add(RESOURCE_NVIDIA_GPU);
  for (const resource of extended) {
    const value = node.status.allocatable[resource];
    if (value === undefined || parseQuantity(value) <= 0) return { reason: REASON.ResourceNotRegistered, message: `${resource} is not allocatable yet (device plugin not up)` };
  }
  return undefined;
}

/** The blocker of the Node launched for this NodeClaim: its startup taints, its requests, and GPUs when its capacity has them. */
export function nodeClaimNodeBlocker(node: Node, nodeClaim: NodeClaim): { reason: string; message: string } | undefined {
  const gpus = nodeClaim.status.capacity?.[RESOURCE_NVIDIA_GPU];
  return initializationBlocker(node, nodeClaim.spec.startupTaints, nodeClaim.spec.resources.requests, gpus !== undefined && parseQuantity(gpus) > 0);
}
