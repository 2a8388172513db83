// The durable runbook for one NodeClaim: from a GPU offering to a joined,
// GPU-ready Node, or to nothing at all. Each step is an activity retried by
// Temporal; a capacity failure moves on to the next offering; a timeout or a
// failure that retrying cannot fix rolls back every resource created. Every
// exit but a delete (which the termination workflow owns) leaves a condition
// and a Warning Event on the NodeClaim, and the NodeClaim is either Ready, kept
// with its reason, or deleted so its pods are planned again.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { FailureRecord, NodeClaimRef, NodeClassResolution, Offering, OfferingChoice, ProvisioningStatus, ServerRef } from '../activities/contract.ts';
import { REASON } from '../kube/api/constants.ts';
import { WORKFLOW_PATCH, nodeRegisteredSignal, statusQuery } from './contract.ts';

export interface ProvisionNodeClaimInput {
  nodeClaim: NodeClaimRef;
}

export type ProvisionNodeClaimResult =
  | { outcome: 'Ready'; providerID: string; nodeName: string; offering: Offering }
  | { outcome: 'Failed'; reason: string; message: string }
  /** The NodeClaim was deleted (or is being deleted) before a server was bought: its termination workflow owns what is left. */
  | { outcome: 'Gone'; reason: string };

// Quick Kubernetes and Scaleway calls: a few seconds each, retried with backoff.
const api = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

// A note on the NodeClaim while a launch step is retried: worth a try, not worth waiting on.
const notes = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds' },
});

// The last word of a workflow (record the reason, release by tag, delete the NodeClaim) must land
// whatever the apiserver or Scaleway say: no schedule-to-close, unlimited attempts, backoff capped at a
// minute. A rollback waiting on a server still starting or locked throws CleanupPending, retried here.
const cleanup = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Everything up to the create call runs as local activities: the NodeClass and offering reads and
// the createServer call itself run in the first workflow task, with no task-queue round trip
// between a new NodeClaim and its server. Still retried and recorded (as markers); a createServer
// run again after a crash finds the server the first run made (see activities/servers.ts).
// A few quick attempts per round: the longer backoff is the workflow's own (launchStep), because a local
// activity's retry timer does not stop at its schedule-to-close and would overrun the launch timeout.
// A round is at most a minute; the launch timeout is checked between rounds (it may be overrun by one
// round at most), not cut into one: a create timed out mid-call may still land after the rollback looked.
const launch = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 minute',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '4 seconds', maximumAttempts: 3 },
});

// Waits on the server's boot: heartbeats every poll, so a dead worker is noticed in a minute.
const waits = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/** How often the workflow checks the Node itself, in case the watcher's signal was missed. */
const NODE_CHECK_INTERVAL_MS = 15_000;
/** Upstream core's launch timeout (NODECLASS_DEFAULTS.launchTimeout), until the NodeClass says otherwise. */
const DEFAULT_LAUNCH_TIMEOUT_SECONDS = 300;
/** Between launch rounds: from a second, doubling, capped at a minute (Karpenter requeues launch errors alike). */
const LAUNCH_BACKOFF_INITIAL_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

/** Activity failure types that mean the NodeClaim itself went away: nothing to buy, nothing to record. */
const NODECLAIM_GONE = new Set(['NodeClaimNotFound', 'NodeClaimDeleting']);
/** The NodeClass cannot be used: Karpenter deletes the NodeClaim (after saying why) so its pods re-plan. */
const NODECLASS_UNUSABLE = new Set<string>([REASON.NodeClassNotReady, REASON.NodeClassNotFound]);

type Failure = { conditionType: 'Launched' | 'Registered' | 'Initialized'; reason: string; message: string };

/** How the launch (everything before a server exists) ended, when it did not give a server. */
type LaunchEnd =
  | { end: 'gone'; reason: string }
  /** Record the reason; `deleteNodeClaim` false keeps the NodeClaim so the user sees why (bad input). */
  | { end: 'failed'; failure: Failure; deleteNodeClaim: boolean };

type Launch = { end: 'created'; server: ServerRef; offering: Offering; nodeClass: Extract<NodeClassResolution, { ready: true }> } | LaunchEnd;

export async function provisionNodeClaim(input: ProvisionNodeClaimInput): Promise<ProvisionNodeClaimResult> {
  const ref = input.nodeClaim;
  const root = CancellationScope.current();
  const status: ProvisioningStatus = { step: 'ResolvingNodeClassAndOfferings', offering: undefined, server: undefined, providerID: undefined, nodeName: undefined, attempts: [] };
  let signalledNode: string | undefined;
  // Every signal about the Node (it appeared, it changed) wakes the waits below at once.
  let nodeEvents = 0;
  setHandler(statusQuery, () => status);
  setHandler(nodeRegisteredSignal, ({ nodeName }) => {
    signalledNode = nodeName;
    nodeEvents++;
  });

  // 1-3. Launch: a usable NodeClass, offerings, a server. Bounded by the launch timeout.
  const launchEnd = await launchServer(ref, status);
  if (launchEnd.end === 'gone') {
    log.info('the NodeClaim went away before a server was bought', { reason: launchEnd.reason });
    status.step = `Gone: ${launchEnd.reason}`;
    return { outcome: 'Gone', reason: launchEnd.reason };
  }
  if (launchEnd.end === 'failed') {
    const { failure, deleteNodeClaim } = launchEnd;
    status.step = `Failed: ${failure.reason}`;
    // Release by tag even with no server in hand: a create whose answer was lost may have made one.
    await settle(root, () => deleteNodeClaim
      ? cleanup.rollback({ ref, server: undefined, ...failure, deleteNodeClaim: true })
      : cleanup.recordFailure({ ref, ...failure }));
    return { outcome: 'Failed', reason: failure.reason, message: failure.message };
  }
  const { server: launched, offering, nodeClass } = launchEnd;
  status.server = launched;
  status.offering = offering;

  // From here on every resource is ours to clean up if the node does not come.
  try {
    // 4. Launched: providerID, capacity, labels on the NodeClaim, as Karpenter writes them when its cloud
    // provider's Create returns: all of it is known from the offering and the server's ID. Workflows started
    // before this change marked it only once the server ran; their histories replay that order.
    let launchedID = patched(WORKFLOW_PATCH.launchedOnCreate) ? (await api.markLaunched({ ref, server: launched, offering })).providerID : undefined;
    status.providerID = launchedID;

    // 5-6. Bootstrap user data (rendered and set inside one activity: no secret in history), power on, wait.
    status.step = 'Bootstrapping';
    await api.configureBootstrap({ ref, server: launched, nodeClassName: nodeClass.nodeClassName });
    status.step = 'PoweringOn';
    await api.powerOnServer({ ref, server: launched });
    await waits.waitForServerRunning({ ref, server: launched });

    if (launchedID === undefined) {
      launchedID = (await api.markLaunched({ ref, server: launched, offering })).providerID;
      status.providerID = launchedID;
    }
    const providerID = launchedID;

    // 7. Registered: the watcher signals when the Node appears; a periodic check backs it up.
    status.step = 'WaitingForNode';
    const nodeName = await waitFor(nodeClass.registrationTimeoutSeconds, async () => {
      if (signalledNode) return signalledNode;
      const check = await api.checkNodeRegistration({ ref, providerID });
      return check.registered ? check.nodeName : undefined;
    }, () => nodeEvents);
    if (!nodeName) throw new ProvisioningTimeout('Registered', REASON.RegistrationTimeout, `the node did not join within ${nodeClass.registrationTimeoutSeconds} s of launch`);
    status.nodeName = nodeName;
    await api.registerNode({ ref, nodeName });
    // The node has joined: its user data (with the join token) and the token have done their job.
    await api.cleanupBootstrap({ ref, server: launched, scrubUserData: nodeClass.userDataOutlivesJoin });

    // 8. Initialized: Node Ready, startup taints gone, GPUs allocatable.
    status.step = 'WaitingForInitialization';
    let waitingFor = 'the node';
    const initialized = await waitFor(nodeClass.initializationTimeoutSeconds, async () => {
      const check = await api.checkNodeInitialization({ ref, nodeName });
      if (!check.initialized) waitingFor = check.waitingFor;
      return check.initialized ? true : undefined;
    }, () => nodeEvents);
    if (!initialized) throw new ProvisioningTimeout('Initialized', REASON.InitializationTimeout, `the node was not initialized within ${nodeClass.initializationTimeoutSeconds} s: waiting for ${waitingFor}`);
    await api.markInitialized({ ref, nodeName });
    status.step = 'Ready';
    return { outcome: 'Ready', providerID, nodeName, offering };
  } catch (err) {
    if (isCancellation(err)) throw err; // the termination workflow owns cleanup after a delete
    const failure = err instanceof ProvisioningTimeout ? { conditionType: err.conditionType, reason: err.reason, message: err.message } : describeFailure(err);
    status.step = `RollingBack: ${failure.reason}`;
    await settle(root, () => cleanup.rollback({ ref, server: launched, ...failure, deleteNodeClaim: true }));
    return { outcome: 'Failed', reason: failure.reason, message: failure.message };
  }
}

/**
 * Steps 1-3, within the launch timeout (measured from the workflow's start, as
 * Karpenter measures it from the NodeClaim's creation): the NodeClass must be
 * Ready, the offerings come cheapest first minus those recently out of stock,
 * and the first offering with capacity gets the server.
 */
async function launchServer(ref: NodeClaimRef, status: ProvisioningStatus): Promise<Launch> {
  const limit: LaunchLimit = { startedAt: Date.now(), timeoutSeconds: DEFAULT_LAUNCH_TIMEOUT_SECONDS };
  const step = <T>(name: string, run: () => Promise<T>): Promise<StepResult<T>> => launchStep(ref, name, limit, run);

  // 1-2. Both are reads, run side by side; the NodeClass's verdict comes first.
  const resolved = await step('resolving the NodeClass and offerings', async () => {
    const [nodeClass, choice] = await Promise.allSettled([launch.resolveNodeClass(ref), launch.chooseOfferings(ref)]);
    if (nodeClass.status === 'rejected') throw nodeClass.reason;
    if (!nodeClass.value.ready) return { nodeClass: nodeClass.value, choice: undefined };
    // From here the NodeClass's own launch timeout bounds the launch, an offering read that keeps failing included.
    limit.timeoutSeconds = nodeClass.value.launchTimeoutSeconds ?? DEFAULT_LAUNCH_TIMEOUT_SECONDS;
    if (choice.status === 'rejected') throw choice.reason;
    return { nodeClass: nodeClass.value, choice: choice.value };
  });
  if (!resolved.ok) return resolved.end;
  const nodeClass = resolved.value.nodeClass;
  if (!nodeClass.ready) {
    if (NODECLAIM_GONE.has(nodeClass.reason)) return { end: 'gone', reason: nodeClass.reason };
    return { end: 'failed', failure: { conditionType: 'Launched', reason: nodeClass.reason, message: nodeClass.message }, deleteNodeClaim: true };
  }
  const choice = resolved.value.choice as OfferingChoice;
  if (!choice.ok) {
    // Bad input (an unknown GPU type, an impossible requirement): keep the NodeClaim so the user sees why.
    return { end: 'failed', failure: { conditionType: 'Launched', reason: choice.reason, message: choice.message }, deleteNodeClaim: false };
  }

  // 3. Create the server on the first offering that has capacity.
  status.step = 'CreatingServer';
  for (const candidate of choice.offerings) {
    const created = await step(`creating a ${candidate.commercialType} server in ${candidate.zone}`, () => launch.createServer({ ref, offering: candidate, nodeClassName: nodeClass.nodeClassName }));
    if (!created.ok) return created.end;
    const result = created.value;
    status.attempts.push({ zone: candidate.zone, commercialType: candidate.commercialType, outcome: result.ok ? (result.reused ? 'Reused' : 'Created') : result.reason });
    if (result.ok) return { end: 'created', server: result.server, offering: candidate, nodeClass };
    log.info('offering unavailable, trying the next', { commercialType: candidate.commercialType, zone: candidate.zone, reason: result.reason });
  }
  const message = `no capacity for any of ${choice.offerings.length} offerings: ${status.attempts.map((a) => `${a.commercialType}@${a.zone} ${a.outcome}`).join(', ')}`;
  return { end: 'failed', failure: { conditionType: 'Launched', reason: REASON.InsufficientCapacity, message }, deleteNodeClaim: true };
}

type StepResult<T> = { ok: true; value: T } | { ok: false; end: LaunchEnd };
/** The launch timeout, known once the NodeClass is read; until then upstream's default. */
interface LaunchLimit {
  startedAt: number;
  timeoutSeconds: number;
}

/**
 * Runs one launch step in rounds until it answers or the launch deadline
 * passes. Within a round the local activities retry on their own; a round that
 * fails is shown on the NodeClaim (Launched=Unknown with the reason) and the
 * next starts after a backoff. Past the deadline: LaunchTimeout, rolled back.
 */
async function launchStep<T>(ref: NodeClaimRef, name: string, limit: LaunchLimit, run: () => Promise<T>): Promise<StepResult<T>> {
  const deadline = (): number => limit.startedAt + limit.timeoutSeconds * 1000;
  let backoffMs = LAUNCH_BACKOFF_INITIAL_MS;
  for (;;) {
    try {
      return { ok: true, value: await run() };
    } catch (err) {
      if (isCancellation(err)) throw err;
      const type = failureType(err);
      if (type && NODECLAIM_GONE.has(type)) return { ok: false, end: { end: 'gone', reason: type } };
      const failure = describeFailure(err);
      if (type && NODECLASS_UNUSABLE.has(type)) return { ok: false, end: { end: 'failed', failure, deleteNodeClaim: true } };
      const left = deadline() - Date.now();
      if (left <= 0) {
        const message = `not launched within the launch timeout (${limit.timeoutSeconds} s): ${name}: ${failure.message}`;
        return { ok: false, end: { end: 'failed', failure: { conditionType: 'Launched', reason: REASON.LaunchTimeout, message }, deleteNodeClaim: true } };
      }
      log.warn('launch step failed, trying again', { step: name, reason: failure.reason, message: failure.message });
      await note({ ref, conditionType: 'Launched', status: 'Unknown', reason: failure.reason, message: `${name}: ${failure.message}; retrying for up to ${Math.ceil(left / 1000)} s more` });
      await sleep(Math.min(backoffMs, Math.max(1, deadline() - Date.now())));
      backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
    }
  }
}

/** A progress note on the NodeClaim; an apiserver that does not answer must not stop the retry itself. */
async function note(record: FailureRecord): Promise<void> {
  try {
    await notes.recordFailure(record);
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('could not note the launch retry on the NodeClaim', { error: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * Runs the workflow's last word to its end, out of reach of cancellation: the
 * retry policy retries retryable failures forever; a non-retryable one (a
 * permission the controller lacks) is tried again every minute, unless a
 * delete has since handed cleanup to the termination workflow.
 */
async function settle(root: CancellationScope, last: () => Promise<unknown>): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    for (;;) {
      try {
        await last();
        return;
      } catch (err) {
        if (root.consideredCancelled) return;
        log.warn('the final record or rollback failed; trying again', { error: err instanceof Error ? err.message : String(err) });
        await sleep(BACKOFF_MAX_MS);
      }
    }
  });
}

class ProvisioningTimeout extends Error {
  constructor(readonly conditionType: 'Registered' | 'Initialized', readonly reason: string, message: string) {
    super(message);
  }
}

/** The ApplicationFailure an activity failed with, through a timeout's last failure if it timed out. */
function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  let cause: unknown = err instanceof ActivityFailure ? err.cause : err;
  for (let depth = 0; depth < 3 && cause instanceof Error; depth++) {
    if (cause instanceof ApplicationFailure) return cause;
    cause = cause.cause;
  }
  return undefined;
}

function failureType(err: unknown): string | undefined {
  return applicationFailureOf(err)?.type ?? undefined;
}

function describeFailure(err: unknown): Failure {
  const app = applicationFailureOf(err);
  const activity = err instanceof ActivityFailure ? `${err.activityType}: ` : '';
  if (app) return { conditionType: 'Launched', reason: app.type ?? REASON.LaunchFailed, message: `${activity}${app.message}` };
  const inner = err instanceof ActivityFailure && err.cause ? err.cause : err;
  const message = inner instanceof Error ? inner.message : String(inner);
  return { conditionType: 'Launched', reason: REASON.LaunchFailed, message: `${activity}${message}` };
}

/**
 * Polls `check` until it yields a value or `timeoutSeconds` pass. Between checks
 * it sleeps, waking early when the `events` counter moves (a signal arrived).
 * Date.now() is the workflow's deterministic clock here, replayed from history.
 */
async function waitFor<T>(timeoutSeconds: number, check: () => Promise<T | undefined>, events: () => number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const seen = events();
    const value = await check();
    if (value !== undefined) return value;
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) return undefined;
    await condition(() => events() !== seen, Math.min(NODE_CHECK_INTERVAL_MS, remainingMs));
  }
}
