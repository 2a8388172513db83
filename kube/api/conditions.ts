// Status conditions (metav1.Condition shape) as pure functions over arrays, so
// controllers and activities compute the next status without a client. The
// Ready summary follows upstream Karpenter (awslabs/operatorpkg ConditionSet):
// True when every dependent is True at the current generation, False as soon as
// one is False at the current generation, Unknown otherwise.
import { REASON, NODECLAIM_READY_DEPENDENTS, CONDITION } from './constants.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason?: string | undefined;
  message?: string | undefined;
  lastTransitionTime: string;
  observedGeneration?: number | undefined;
}

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
}

const REASON_PATTERN = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

function timestamp(now: Date | string): string {
  // Kubernetes stores whole seconds (RFC 3339); keep ours comparable with theirs.
  const date = typeof now === 'string' ? new Date(now) : now;
  if (Number.isNaN(date.getTime())) throw new Error(`setting condition: invalid time ${String(now)}`);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

export function isConditionFalse(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'False';
}

/**
 * Returns `conditions` with `update` applied: lastTransitionTime moves only when
 * the status changes; reason, message and observedGeneration are always taken
 * from the update. The result is sorted by type (as upstream stores it) and the
 * input is not modified.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date | string,
  observedGeneration?: number,
): Condition[] {
  if (!REASON_PATTERN.test(update.reason)) throw new Error(`setting condition ${update.type}: reason "${update.reason}" is not CamelCase`);
  const previous = findCondition(conditions, update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message ?? '',
    lastTransitionTime: previous && previous.status === update.status ? previous.lastTransitionTime : timestamp(now),
  };
  if (observedGeneration !== undefined) next.observedGeneration = observedGeneration;
  else if (previous?.observedGeneration !== undefined) next.observedGeneration = previous.observedGeneration;
  return [...(conditions ?? []).filter((c) => c.type !== update.type), next].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** Removes a condition (for informational ones such as Drifted). */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/** True when both lists hold the same conditions, ignoring order. */
export function conditionsEqual(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const left = a ?? [];
  const right = b ?? [];
  if (left.length !== right.length) return false;
  return left.every((c) => {
    const other = findCondition(right, c.type);
    return (
      other !== undefined &&
      other.status === c.status &&
      (other.reason ?? '') === (c.reason ?? '') &&
      (other.message ?? '') === (c.message ?? '') &&
      other.lastTransitionTime === c.lastTransitionTime &&
      other.observedGeneration === c.observedGeneration
    );
  });
}

/**
 * The Ready summary of `dependents`. A missing dependent counts as Unknown, and
 * when `generation` is given a dependent computed for another generation does
 * too. The message lists the dependents that are not yet True, most recent
 * transition first, e.g. "Registered=Unknown, Initialized=Unknown".
 */
export function summarizeReady(
  conditions: readonly Condition[] | undefined,
  dependents: readonly string[] = NODECLAIM_READY_DEPENDENTS,
  generation?: number,
): ConditionUpdate {
  const current = (c: Condition): boolean => generation === undefined || c.observedGeneration === undefined || c.observedGeneration === generation;
  const unhealthy: { type: string; status: ConditionStatus; at: string }[] = [];
  for (const type of dependents) {
    const c = findCondition(conditions, type);
    if (!c) unhealthy.push({ type, status: 'Unknown', at: '' });
    else if (c.status !== 'True' || !current(c)) unhealthy.push({ type, status: c.status, at: c.lastTransitionTime });
  }
  if (unhealthy.length === 0) return { type: CONDITION.Ready, status: 'True', reason: REASON.Ready, message: '' };
  const failed = dependents.some((type) => {
    const c = findCondition(conditions, type);
    return c?.status === 'False' && current(c);
  });
  // Stable sort: equal times keep lifecycle order.
  unhealthy.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return {
    type: CONDITION.Ready,
    status: failed ? 'False' : 'Unknown',
    reason: failed ? REASON.UnhealthyDependents : REASON.ReconcilingDependents,
    message: unhealthy.map((u) => `${u.type}=${u.status}`).join(', '),
  };
}

/** `conditions` with Ready recomputed from `dependents` (NodeClaim's by default). */
export function withReadyCondition(
  conditions: readonly Condition[] | undefined,
  now: Date | string,
  generation?: number,
  dependents: readonly string[] = NODECLAIM_READY_DEPENDENTS,
): Condition[] {
  return setCondition(conditions, summarizeReady(conditions, dependents, generation), now, generation);
}

/**
 * `setCondition` followed by the Ready recomputation: what a lifecycle step uses
 * to record Launched/Registered/Initialized.
 */
export function setLifecycleCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date | string,
  generation?: number,
  dependents: readonly string[] = NODECLAIM_READY_DEPENDENTS,
): Condition[] {
  return withReadyCondition(setCondition(conditions, update, now, generation), now, generation, dependents);
}

/** Sets every missing dependent and Ready to Unknown/AwaitingReconciliation, as upstream does for new objects. */
export function initializeConditions(
  conditions: readonly Condition[] | undefined,
  now: Date | string,
  generation?: number,
  dependents: readonly string[] = NODECLAIM_READY_DEPENDENTS,
): Condition[] {
  let next = [...(conditions ?? [])];
  for (const type of [...dependents, CONDITION.Ready]) {
    if (!findCondition(next, type)) {
      next = setCondition(next, { type, status: 'Unknown', reason: REASON.AwaitingReconciliation, message: 'object is awaiting reconciliation' }, now, generation);
    }
  }
  return next;
}
