// `scw-karpenter status NODECLAIM [--output table|json] [--progress]`: where a
// NodeClaim's provisioning stands, from the three places that know. The
// workflow's `status` query (its current step, chosen offering, server and
// launch attempts), the workflow's description (its status, and the pending
// activity with its attempts and last failure: what is being retried right now),
// and the NodeClaim's conditions in the apiserver, when a kubeconfig is at hand.
// The workflow ID is the watcher's: provision/<name>/<uid> (workflows/contract.ts).
import { WorkflowNotFoundError, type WorkflowExecutionDescription, type WorkflowHandle } from '@temporalio/client';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow/codec-helpers.js';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
// A CommonJS module whose exports Node cannot list statically: import the namespace, then pick.
import proto from '@temporalio/proto';
import type { ProvisioningStatus } from '../activities/contract.ts';
import type { ProvisionNodeClaimResult } from '../workflows/provision-nodeclaim.ts';
import { getNodeClaim } from '../kube/objects.ts';
import type { KubeRest } from '../kube/rest.ts';
import type { NodeClaim } from '../kube/api/schemas.ts';
import { loadSettings } from '../runtime/config.ts';
import { loadTemporalSettings } from '../runtime/temporal-connection.ts';
import { workflowUiLink } from '../watcher/nodeclaim-lifecycle.ts';
import { provisioningWorkflowId, statusQuery, terminationWorkflowId, WORKFLOW, type ProvisionNodeClaimWorkflow } from '../workflows/contract.ts';
import { connectKube, connectTemporal, kubeconfigAvailable, type TemporalCli } from './clients.ts';
import { CliError, COMMON_OPTIONS, configOrUsageError, errorText, EXIT, fields, json, outputFormat, parseCommandArgs, progressReporter, table, usageError, type Progress } from './output.ts';

export const STATUS_USAGE = `usage: scw-karpenter status NODECLAIM [--output table|json] [--progress]
  The NodeClaim's provisioning workflow: its current step, the pending activity's attempts and
  last failure, the workflow status, the NodeClaim's conditions (when a kubeconfig is available)
  and the Temporal Web UI link.
  -o, --output   table (default) or json
  --progress     progress lines on stderr even when it is not a terminal`;

/** A query needs a worker to replay the workflow: one that is down must not hang the command. */
const QUERY_TIMEOUT_MS = 5_000;

export interface PendingActivityReport {
  activityType: string;
  activityId: string;
  state: string;
  attempt: number;
  /** 0: no limit (retried until the activity's schedule-to-close or the workflow's own deadline). */
  maximumAttempts: number;
  lastFailure: string | undefined;
  lastFailureType: string | undefined;
  scheduledAt: string | undefined;
  lastStartedAt: string | undefined;
  lastHeartbeatAt: string | undefined;
  nextAttemptAt: string | undefined;
}

export interface NodeClaimReport {
  name: string;
  uid: string | undefined;
  deleting: boolean;
  providerID: string | undefined;
  nodeName: string | undefined;
  conditions: { type: string; status: string; reason: string | undefined; message: string | undefined; lastTransitionTime: string | undefined }[];
}

export interface StatusReport {
  nodeClaim: string;
  workflowId: string;
  runId: string;
  workflowStatus: string;
  startTime: string;
  closeTime: string | undefined;
  /** What it is doing now: the query's step, else the pending activity, else the workflow's status. */
  step: string;
  stepFrom: 'query' | 'pending-activity' | 'workflow-status';
  /** The query's answer: offering, server and launch attempts so far. */
  provisioning: ProvisioningStatus | undefined;
  /** Why the query gave nothing (no worker polling, payloads encrypted with a key not given). */
  queryError: string | undefined;
  pendingActivities: PendingActivityReport[];
  /** A completed run's result: Ready, or Failed or Gone with the reason. */
  outcome: ProvisionNodeClaimResult | undefined;
  /** A failed, terminated or timed-out run's reason. */
  failure: string | undefined;
  /** The NodeClaim being deleted: its termination workflow's status. */
  termination: { workflowId: string; status: string; webUi: string } | undefined;
  /** undefined: no kubeconfig; `error`: the apiserver could not be read. */
  kubernetes: { found: true; nodeClaim: NodeClaimReport } | { found: false } | { error: string } | undefined;
  webUi: string;
}

const iso = (ts: Parameters<typeof optionalTsToMs>[0]): string | undefined => {
  const ms = optionalTsToMs(ts);
  return ms === undefined ? undefined : new Date(ms).toISOString();
};

const activityState = (state: number | null | undefined): string =>
  (proto.temporal.api.enums.v1.PendingActivityState[state ?? 0] ?? String(state)).replace(/^PENDING_ACTIVITY_STATE_/, '');

function nodeClaimReport(nc: NodeClaim): NodeClaimReport {
  return {
    name: nc.metadata.name,
    uid: nc.metadata.uid,
    deleting: nc.metadata.deletionTimestamp !== undefined,
    providerID: nc.status.providerID,
    nodeName: nc.status.nodeName,
    conditions: nc.status.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime })),
  };
}

async function pendingActivities(cli: TemporalCli, description: WorkflowExecutionDescription): Promise<PendingActivityReport[]> {
  const converter = cli.client.options.loadedDataConverter;
  return Promise.all((description.raw.pendingActivities ?? []).map(async (a): Promise<PendingActivityReport> => {
    let lastFailure: Error | undefined;
    try {
      // Failure messages are in the encrypted payload (runtime/failure-converter.ts): decoded with the key, when given.
      lastFailure = await decodeOptionalFailureToOptionalError(converter, a.lastFailure);
    } catch (err) {
      lastFailure = new Error(`(not decoded: ${errorText(err)})`);
    }
    return {
      activityType: a.activityType?.name ?? '?',
      activityId: a.activityId ?? '?',
      state: activityState(a.state),
      attempt: a.attempt ?? 0,
      maximumAttempts: a.maximumAttempts ?? 0,
      lastFailure: lastFailure?.message,
      lastFailureType: a.lastFailure?.applicationFailureInfo?.type ?? undefined,
      scheduledAt: iso(a.scheduledTime),
      lastStartedAt: iso(a.lastStartedTime),
      lastHeartbeatAt: iso(a.lastHeartbeatTime),
      nextAttemptAt: iso(a.nextAttemptScheduleTime),
    };
  }));
}

async function queryStatus(cli: TemporalCli, handle: WorkflowHandle<ProvisionNodeClaimWorkflow>): Promise<{ status: ProvisioningStatus | undefined; error: string | undefined }> {
  try {
    const status = await cli.client.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(statusQuery));
    return { status, error: undefined };
  } catch (err) {
    const text = errorText(err);
    if (/DEADLINE_EXCEEDED|deadline/i.test(text)) return { status: undefined, error: `the status query was not answered within ${QUERY_TIMEOUT_MS / 1000} s: is a worker polling the task queue?` };
    if (!cli.decrypts && /encod|encrypt|converter/i.test(text)) {
      return { status: undefined, error: `the workflow's payloads are encrypted: give the key (PAYLOAD_CODEC_KEY or PAYLOAD_CODEC_KEY_SECRET) to read its status (${text})` };
    }
    return { status: undefined, error: `the status query failed: ${text}` };
  }
}

/** How a closed run ended: a completed run's outcome (Ready, Failed, Gone: the workflow's own verdict), else its failure, decoded. */
async function endOf(handle: WorkflowHandle<ProvisionNodeClaimWorkflow>, status: string): Promise<{ outcome: ProvisionNodeClaimResult | undefined; failure: string | undefined }> {
  if (status === 'RUNNING') return { outcome: undefined, failure: undefined };
  try {
    return { outcome: await handle.result(), failure: undefined };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { outcome: undefined, failure: `${errorText(err)}${cause}` };
  }
}

/** The provisioning workflow of a NodeClaim: by its UID when the apiserver has it, else the latest run of that name in Temporal. */
async function findWorkflowId(cli: TemporalCli, name: string, nodeClaim: NodeClaim | undefined, progress: Progress): Promise<string | undefined> {
  if (nodeClaim?.metadata.uid) return provisioningWorkflowId(name, nodeClaim.metadata.uid);
  const prefix = provisioningWorkflowId(name, '');
  progress(`looking for workflows ${prefix}* in namespace ${cli.namespace}...`);
  const found: { workflowId: string; startTime: Date }[] = [];
  const query = `WorkflowType = '${WORKFLOW.provisionNodeClaim}' AND WorkflowId STARTS_WITH '${prefix.replace(/'/g, "\\'")}'`;
  for await (const execution of cli.client.workflow.list({ query })) found.push({ workflowId: execution.workflowId, startTime: execution.startTime });
  found.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  if (found.length > 1) progress(`${found.length} NodeClaims named ${name} had a provisioning workflow; showing the latest`);
  return found[0]?.workflowId;
}

async function readNodeClaim(kube: KubeRest, name: string): Promise<{ nodeClaim: NodeClaim | undefined; report: StatusReport['kubernetes'] }> {
  try {
    const nodeClaim = await getNodeClaim(kube, name);
    return nodeClaim ? { nodeClaim, report: { found: true, nodeClaim: nodeClaimReport(nodeClaim) } } : { nodeClaim: undefined, report: { found: false } };
  } catch (err) {
    return { nodeClaim: undefined, report: { error: `reading NodeClaim ${name}: ${errorText(err)}` } };
  }
}

export async function nodeClaimStatus(cli: TemporalCli, kube: KubeRest | undefined, name: string, uiUrl: string, progress: Progress): Promise<StatusReport> {
  let kubernetes: StatusReport['kubernetes'];
  let nodeClaim: NodeClaim | undefined;
  if (kube) {
    progress(`reading NodeClaim ${name} from the apiserver...`);
    ({ nodeClaim, report: kubernetes } = await readNodeClaim(kube, name));
  }
  const workflowId = await findWorkflowId(cli, name, nodeClaim, progress);
  const missing = (why: string): CliError => new CliError(`${why}${kubernetes && 'error' in kubernetes ? ` (${kubernetes.error})` : ''}`);
  if (!workflowId) {
    throw missing(kubernetes && 'found' in kubernetes && !kubernetes.found
      ? `no NodeClaim ${name}: not in the apiserver, and no provisioning workflow ${provisioningWorkflowId(name, '')}* in Temporal namespace ${cli.namespace}`
      : `no provisioning workflow ${provisioningWorkflowId(name, '')}* for NodeClaim ${name} in Temporal namespace ${cli.namespace}${kube ? '' : ' (no kubeconfig: only Temporal was asked)'}`);
  }
  const handle = cli.client.workflow.getHandle<ProvisionNodeClaimWorkflow>(workflowId);
  progress(`describing workflow ${workflowId}...`);
  let description: WorkflowExecutionDescription;
  try {
    description = await handle.describe();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    // The NodeClaim exists (its UID named the ID) but Temporal has no such workflow.
    throw missing(`NodeClaim ${name} exists, but Temporal namespace ${cli.namespace} has no workflow ${workflowId}: not started yet, not a ScalewayNodeClass NodeClaim, or past the namespace's retention`);
  }
  progress(`querying its status...`);
  const [query, pending, end, termination] = await Promise.all([
    queryStatus(cli, handle),
    pendingActivities(cli, description),
    endOf(handle, description.status.name),
    nodeClaim?.metadata.deletionTimestamp && nodeClaim.metadata.uid ? terminationOf(cli, terminationWorkflowId(name, nodeClaim.metadata.uid), uiUrl) : Promise.resolve(undefined),
  ]);
  const [firstPending] = pending;
  const step = query.status?.step ?? firstPending?.activityType ?? description.status.name;
  return {
    nodeClaim: name,
    workflowId,
    runId: description.runId,
    workflowStatus: description.status.name,
    startTime: description.startTime.toISOString(),
    closeTime: description.closeTime?.toISOString(),
    step,
    stepFrom: query.status ? 'query' : firstPending ? 'pending-activity' : 'workflow-status',
    provisioning: query.status,
    queryError: query.error,
    pendingActivities: pending,
    outcome: end.outcome,
    failure: end.failure,
    termination,
    kubernetes,
    webUi: workflowUiLink(uiUrl, cli.namespace, workflowId),
  };
}

async function terminationOf(cli: TemporalCli, workflowId: string, uiUrl: string): Promise<StatusReport['termination']> {
  try {
    const d = await cli.client.workflow.getHandle(workflowId).describe();
    return { workflowId, status: d.status.name, webUi: workflowUiLink(uiUrl, cli.namespace, workflowId) };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { workflowId, status: 'NOT STARTED', webUi: workflowUiLink(uiUrl, cli.namespace, workflowId) };
    throw err;
  }
}

const attemptsText = (a: PendingActivityReport): string => `${a.attempt}${a.maximumAttempts ? ` of ${a.maximumAttempts}` : ''}`;

export function formatStatus(r: StatusReport): string {
  const p = r.provisioning;
  const nc = r.kubernetes && 'found' in r.kubernetes && r.kubernetes.found ? r.kubernetes.nodeClaim : undefined;
  const sections = [fields([
    ['NodeClaim', r.nodeClaim],
    ['Workflow', `${r.workflowId} (run ${r.runId})`],
    ['Status', `${r.workflowStatus}${r.closeTime ? ` at ${r.closeTime}` : ''}, started ${r.startTime}`],
    ['Step', `${r.step}${r.stepFrom === 'query' ? '' : ` (from the ${r.stepFrom === 'pending-activity' ? 'pending activity' : 'workflow status'}: ${r.queryError ?? 'no status query'})`}`],
    ['Offering', p?.offering ? `${p.offering.commercialType} in ${p.offering.zone}` : undefined],
    ['Server', p?.server ? `${p.server.serverId} (${p.server.commercialType}) in ${p.server.zone}` : undefined],
    ['ProviderID', p?.providerID ?? nc?.providerID],
    ['Node', p?.nodeName ?? nc?.nodeName],
    ['Launch attempts', p?.attempts.length ? p.attempts.map((a) => `${a.commercialType}/${a.zone}: ${a.outcome}`).join('; ') : undefined],
    ['Outcome', r.outcome ? [r.outcome.outcome, 'reason' in r.outcome ? r.outcome.reason : undefined, 'message' in r.outcome ? r.outcome.message : undefined].filter(Boolean).join(': ') : undefined],
    ['Failure', r.failure],
    ['Termination', r.termination ? `${r.termination.workflowId} (${r.termination.status})  ${r.termination.webUi}` : undefined],
    ['Web UI', r.webUi],
  ])];
  if (r.pendingActivities.length) {
    sections.push(`Pending activities:\n${table(
      ['ACTIVITY', 'STATE', 'ATTEMPT', 'NEXT ATTEMPT', 'LAST FAILURE'],
      r.pendingActivities.map((a) => [a.activityType, a.state, attemptsText(a), a.nextAttemptAt ?? '-', a.lastFailure ? `${a.lastFailureType ? `${a.lastFailureType}: ` : ''}${a.lastFailure}` : '-']),
    )}`);
  }
  if (r.kubernetes === undefined) sections.push('Conditions: not read (no kubeconfig: set KUBECONFIG)');
  else if ('error' in r.kubernetes) sections.push(`Conditions: not read: ${r.kubernetes.error}`);
  else if (!r.kubernetes.found) sections.push(`Conditions: NodeClaim ${r.nodeClaim} is no longer in the apiserver`);
  else if (nc && !nc.conditions.length) sections.push(`Conditions${nc.deleting ? ' (being deleted)' : ''}: none yet`);
  else if (nc) {
    sections.push(`Conditions${nc.deleting ? ' (being deleted)' : ''}:\n${table(
      ['TYPE', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'],
      nc.conditions.map((c) => [c.type, c.status, c.reason ?? '', c.lastTransitionTime ?? '', c.message ?? '']),
    )}`);
  }
  return sections.join('\n\n');
}

export async function runStatus(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, COMMON_OPTIONS, STATUS_USAGE, true);
  if (values.help) {
    console.log(STATUS_USAGE);
    return EXIT.ok;
  }
  const format = outputFormat(values.output);
  if (positionals.length !== 1) throw usageError(`${positionals.length ? 'one NodeClaim at a time' : 'which NodeClaim?'}\n${STATUS_USAGE}`);
  const name = positionals[0] ?? '';
  const settings = configOrUsageError(() => loadSettings());
  const temporalSettings = configOrUsageError(() => loadTemporalSettings());
  const progress = progressReporter(values.progress);

  const kube = kubeconfigAvailable() ? connectKube(settings.KUBECONFIG) : undefined;
  progress(`connecting to Temporal at ${temporalSettings.connection.address} (namespace ${temporalSettings.namespace})...`);
  const cli = await connectTemporal(temporalSettings, settings, () => kube ?? connectKube(settings.KUBECONFIG));
  try {
    const report = await nodeClaimStatus(cli, kube, name, settings.TEMPORAL_UI_URL, progress);
    console.log(format === 'json' ? json(report) : formatStatus(report));
    return EXIT.ok;
  } finally {
    await cli.close();
  }
}
