// The durable runbook for one NodeClaim: from a GPU offering to a joined,
// GPU-ready Node, or to nothing at all. Each step is an activity retried by
// Temporal; a capacity failure moves on to the next offering; a timeout or a
// failure that retrying cannot fix rolls back every resource created.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { NodeClaimRef, Offering, ProvisioningStatus, ServerRef } from '../activities/contract.ts';
import { QUERY_STATUS, SIGNAL_NODE_REGISTERED } from './ids.ts';

export interface ProvisionNodeClaimInput {
  nodeClaim: NodeClaimRef;
}

export type ProvisionNodeClaimResult =
  | { outcome: 'Ready'; providerID: string; nodeName: string; offering: Offering }
  | { outcome: 'Failed'; reason: string; message: string };

export const nodeRegisteredSignal = defineSignal<[{ nodeName: string }]>(SIGNAL_NODE_REGISTERED);
export const statusQuery = defineQuery<ProvisioningStatus>(QUERY_STATUS);

// Quick Kubernetes and Scaleway calls: a few seconds each, retried with backoff.
const api = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

// Everything up to the create call runs as local activities: the NodeClass and offering reads and
// the createServer call itself run in the first workflow task, with no task-queue round trip
// between a new NodeClaim and its server. Still retried and recorded (as markers); a createServer
// run again after a crash finds the server the first run made (see activities/servers.ts).
const launch = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '10 minutes',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

// Waits on the server's boot: heartbeats every poll, so a dead worker is noticed in a minute.
const waits = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/** How often the workflow checks the Node itself, in case the watcher's signal was missed. */
const NODE_CHECK_INTERVAL_MS = 15_000;

export async function provisionNodeClaim(input: ProvisionNodeClaimInput): Promise<ProvisionNodeClaimResult> {
  const ref = input.nodeClaim;
  const status: ProvisioningStatus = { step: 'ResolvingNodeClassAndOfferings', offering: undefined, server: undefined, providerID: undefined, nodeName: undefined, attempts: [] };
  let signalledNode: string | undefined;
  // Every signal about the Node (it appeared, it changed) wakes the waits below at once.
  let nodeEvents = 0;
  setHandler(statusQuery, () => status);
  setHandler(nodeRegisteredSignal, ({ nodeName }) => {
    signalledNode = nodeName;
    nodeEvents++;
  });

  // 1-2. The NodeClass must be Ready before anything is created; offerings come cheapest first, minus
  // those recently out of stock. Both are reads, run side by side; the NodeClass's verdict comes first.
  const [nodeClass, choice] = await Promise.all([launch.resolveNodeClass(ref), launch.chooseOfferings(ref)]);
  if (!nodeClass.ready) {
    await api.recordFailure({ ref, conditionType: 'Launched', reason: nodeClass.reason, message: nodeClass.message });
    return { outcome: 'Failed', reason: nodeClass.reason, message: nodeClass.message };
  }
  if (!choice.ok) {
    // Bad input (an unknown GPU type, an impossible requirement): keep the NodeClaim so the user sees why.
    await api.recordFailure({ ref, conditionType: 'Launched', reason: choice.reason, message: choice.message });
    return { outcome: 'Failed', reason: choice.reason, message: choice.message };
  }

  // 3. Create the server on the first offering that has capacity.
  status.step = 'CreatingServer';
  let server: ServerRef | undefined;
  let offering: Offering | undefined;
  for (const candidate of choice.offerings) {
    const created = await launch.createServer({ ref, offering: candidate, nodeClassName: nodeClass.nodeClassName });
    status.attempts.push({ zone: candidate.zone, commercialType: candidate.commercialType, outcome: created.ok ? (created.reused ? 'Reused' : 'Created') : created.reason });
    if (created.ok) {
      server = created.server;
      offering = candidate;
      break;
    }
    log.info('offering unavailable, trying the next', { commercialType: candidate.commercialType, zone: candidate.zone, reason: created.reason });
  }
  if (!server || !offering) {
    const message = `no capacity for any of ${choice.offerings.length} offerings: ${status.attempts.map((a) => `${a.commercialType}@${a.zone} ${a.outcome}`).join(', ')}`;
    await api.rollback({ ref, server: undefined, conditionType: 'Launched', reason: 'InsufficientCapacity', message, deleteNodeClaim: true });
    return { outcome: 'Failed', reason: 'InsufficientCapacity', message };
  }
  status.server = server;
  status.offering = offering;
  const launched = server;

  // From here on every resource is ours to clean up if the node does not come.
  try {
    // 4-5. Bootstrap user data (rendered and set inside one activity: no secret in history), power on, wait.
    status.step = 'Bootstrapping';
    await api.configureBootstrap({ ref, server: launched, nodeClassName: nodeClass.nodeClassName });
    status.step = 'PoweringOn';
    await api.powerOnServer({ ref, server: launched });
    await waits.waitForServerRunning({ ref, server: launched });

    // 6. Launched: providerID, capacity, labels on the NodeClaim.
    const { providerID } = await api.markLaunched({ ref, server: launched, offering });
    status.providerID = providerID;

    // 7. Registered: the watcher signals when the Node appears; a periodic check backs it up.
    status.step = 'WaitingForNode';
    const nodeName = await waitFor(nodeClass.registrationTimeoutSeconds, async () => {
      if (signalledNode) return signalledNode;
      const check = await api.checkNodeRegistration({ ref, providerID });
      return check.registered ? check.nodeName : undefined;
    }, () => nodeEvents);
    if (!nodeName) throw new ProvisioningTimeout('Registered', 'RegistrationTimeout', `the node did not join within ${nodeClass.registrationTimeoutSeconds} s of launch`);
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
    if (!initialized) throw new ProvisioningTimeout('Initialized', 'InitializationTimeout', `the node was not initialized within ${nodeClass.initializationTimeoutSeconds} s: waiting for ${waitingFor}`);
    await api.markInitialized({ ref, nodeName });
    status.step = 'Ready';
    return { outcome: 'Ready', providerID, nodeName, offering };
  } catch (err) {
    if (isCancellation(err)) throw err; // the termination workflow owns cleanup after a delete
    const failure = describeFailure(err);
    status.step = `RollingBack: ${failure.reason}`;
    await CancellationScope.nonCancellable(() =>
      api.rollback({ ref, server: launched, conditionType: failure.conditionType, reason: failure.reason, message: failure.message, deleteNodeClaim: true }),
    );
    return { outcome: 'Failed', reason: failure.reason, message: failure.message };
  }
}

class ProvisioningTimeout extends Error {
  constructor(readonly conditionType: 'Registered' | 'Initialized', readonly reason: string, message: string) {
    super(message);
  }
}

function describeFailure(err: unknown): { conditionType: 'Launched' | 'Registered' | 'Initialized'; reason: string; message: string } {
  if (err instanceof ProvisioningTimeout) return { conditionType: err.conditionType, reason: err.reason, message: err.message };
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return { conditionType: 'Launched', reason: err.cause.type ?? 'LaunchFailed', message: `${err.activityType}: ${err.cause.message}` };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { conditionType: 'Launched', reason: 'LaunchFailed', message };
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
