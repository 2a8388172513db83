// Resolving a NodeClaim's ScalewayNodeClass: it must exist, be valid and not be
// marked not Ready, or nothing is created.
import type { ActivityDeps } from './deps.ts';
import type { NodeClaimRef, NodeClassResolution } from './contract.ts';
import { getNodeClaimOf, getNodeClassRaw } from '../kube/objects.ts';
import { parseScalewayNodeClass, InvalidObjectError, isScalewayNodeClassRef, type ScalewayNodeClass } from '../kube/api/schemas.ts';
import { findCondition } from '../kube/api/conditions.ts';
import { CONDITION, REASON } from '../kube/api/constants.ts';
import { parseDuration } from '../kube/api/duration.ts';
import { translated } from './failures.ts';
import { ApplicationFailure } from '@temporalio/activity';
import { NODECLASS_FRESH_MS } from './shared-reads.ts';
import type { NodeClaim } from '../kube/api/schemas.ts';

export type NodeClassLookup = { ok: true; nodeClass: ScalewayNodeClass } | { ok: false; reason: string; message: string };

/** The NodeClass by name, one read shared by the worker's activities for NODECLASS_FRESH_MS. */
function readNodeClass(deps: ActivityDeps, name: string): Promise<unknown> {
  const read = (): Promise<unknown> => getNodeClassRaw(deps.kube, name);
  return deps.reads ? deps.reads.get(`nodeclass/${name}`, NODECLASS_FRESH_MS, read) : read();
}

/**
 * How long a NodeClaim read answers later callers: from a new NodeClaim's first two reads to its create, a
 * few seconds apart on a busy worker. Its spec does not change; what does (deletion, annotations) the create
 * only trusts under a resourceVersion precondition (activities/servers.ts, markCreateAttempt).
 */
export const NODECLAIM_FRESH_MS = 10_000;

/**
 * The NodeClaim for its spec (immutable: requirements, requests, nodeClassRef) and its existence: one GET
 * for the activities of a new NodeClaim's first task (resolveNodeClass and chooseOfferings side by side,
 * then createServer, which marks its attempt on this read's resourceVersion).
 */
export function readNodeClaimSpec(deps: ActivityDeps, ref: NodeClaimRef): Promise<NodeClaim | undefined> {
  const read = (): Promise<NodeClaim | undefined> => getNodeClaimOf(deps.kube, ref);
  return deps.reads ? deps.reads.get(`nodeclaim/${ref.uid}`, NODECLAIM_FRESH_MS, read) : read();
}

/** The NodeClass by name, validated, or why it cannot be used. */
export async function lookUpNodeClass(deps: ActivityDeps, name: string): Promise<NodeClassLookup> {
  const raw = await readNodeClass(deps, name);
  if (raw === undefined) return { ok: false, reason: REASON.NodeClassNotFound, message: `ScalewayNodeClass "${name}" does not exist` };
  let nodeClass: ScalewayNodeClass;
  try {
    nodeClass = parseScalewayNodeClass(raw);
  } catch (err) {
    if (err instanceof InvalidObjectError) return { ok: false, reason: REASON.NodeClassNotReady, message: err.message };
    throw err;
  }
  const ready = findCondition(nodeClass.status.conditions, CONDITION.Ready);
  const current = nodeClass.status.observedGeneration === nodeClass.metadata.generation;
  if (ready?.status === 'False' && current) {
    return { ok: false, reason: REASON.NodeClassNotReady, message: `ScalewayNodeClass "${name}" is not ready: ${ready.reason ?? ''}${ready.message ? `: ${ready.message}` : ''}` };
  }
  if (ready?.status !== 'True' || !current) {
    // The watcher has not judged this generation yet: wait for it (Temporal retries with backoff) rather than guess.
    throw ApplicationFailure.retryable(`ScalewayNodeClass "${name}" generation ${nodeClass.metadata.generation ?? '?'} has no Ready verdict yet`, 'NodeClassNotReconciled');
  }
  return { ok: true, nodeClass };
}

export function resolveNodeClassActivity(deps: ActivityDeps) {
  return (ref: NodeClaimRef): Promise<NodeClassResolution> => translated(async () => {
    const nodeClaim = await readNodeClaimSpec(deps, ref);
    const refName = nodeClaim?.spec.nodeClassRef.name ?? '';
    if (!nodeClaim) return { ready: false, nodeClassName: refName, reason: 'NodeClaimNotFound', message: `NodeClaim ${ref.name} (${ref.uid}) no longer exists` };
    if (!isScalewayNodeClassRef(nodeClaim.spec.nodeClassRef)) {
      const r = nodeClaim.spec.nodeClassRef;
      return { ready: false, nodeClassName: refName, reason: REASON.NodeClassNotFound, message: `nodeClassRef ${r.group}/${r.kind} is not a ScalewayNodeClass` };
    }
    const lookup = await lookUpNodeClass(deps, refName);
    if (!lookup.ok) return { ready: false, nodeClassName: refName, reason: lookup.reason, message: lookup.message };
    const timeouts = lookup.nodeClass.spec.timeouts;
    return {
      ready: true,
      nodeClassName: refName,
      bootstrapMode: lookup.nodeClass.spec.bootstrap.mode,
      userDataOutlivesJoin: lookup.nodeClass.spec.bootstrap.mode !== 'kubeadm' || Boolean(lookup.nodeClass.spec.userData),
      launchTimeoutSeconds: Math.round(parseDuration(timeouts.launch) / 1000),
      registrationTimeoutSeconds: Math.round(parseDuration(timeouts.registration) / 1000),
      initializationTimeoutSeconds: Math.round(parseDuration(timeouts.initialization) / 1000),
    };
  });
}
