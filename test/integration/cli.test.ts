// The operator's CLI against the real stack, run as its own process the way a
// user runs it: `status` follows a NodeClaim's provisioning workflow (a step
// retried on Scaleway errors, then Ready), and `gc --dry-run` lists a server
// leaked behind the product's back without touching it; `gc --trigger` then
// has the worker's Schedule release it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import { clusterPath } from '../../kube/objects.ts';
import { NODECLAIM_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { resourceTags, rootVolumeName } from '../../activities/deps.ts';
import { codecKeysEnv, generateCodecKeys } from '../../runtime/codec-key.ts';
import { AesGcmPayloadCodec } from '../../runtime/payload-codec.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';
import { workflowUiLink } from '../../watcher/nodeclaim-lifecycle.ts';
import type { StatusReport } from '../../cli/status.ts';
import type { DryRunReport } from '../../cli/gc.ts';
import { conditionOf, eventually, getNodeClaim, nodeClaimObject, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';
import { runCli, type CliRun } from '../unit/cli-process.ts';

const ZONE = 'fr-par-2';
const CLUSTER = 'sandbox';
const GRACE_MS = 2_000;
const L4 = [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4'] }];
const GPU_REQUEST = { 'nvidia.com/gpu': '1', cpu: '2', memory: '8Gi' };

describe('scw-karpenter CLI on the real stack', () => {
  let stack: ProvisioningStack;
  // The product's key, given to the CLI as an operator would: the query answers and failures are encrypted.
  const keys = generateCodecKeys();
  let env: Record<string, string>;

  before(async () => {
    stack = await useProvisioningStack({
      product: {
        payloadCodec: new AesGcmPayloadCodec(keys),
        // A day between runs: the Schedule exists, only `gc --trigger` runs it.
        garbageCollection: { intervalMs: 24 * 3_600_000, gracePeriodMs: GRACE_MS, dryRun: false },
      },
    });
    await stack.product.kube.post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
    env = {
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_NAMESPACE: stack.temporal.namespace,
      TEMPORAL_UI_URL: stack.temporal.uiUrl,
      KUBECONFIG: stack.controlPlane.kubeconfig,
      SCW_ACCESS_KEY: TEST_CREDENTIALS.accessKey,
      SCW_SECRET_KEY: TEST_CREDENTIALS.secretKey,
      SCW_DEFAULT_PROJECT_ID: TEST_CREDENTIALS.projectId,
      SCW_API_URL: stack.simulator.url,
      CLUSTER_NAME: CLUSTER,
      GC_GRACE_PERIOD: `${GRACE_MS / 1000}s`,
      ...codecKeysEnv(keys),
    };
  });

  const status = async (name: string, extraEnv: Record<string, string | undefined> = {}): Promise<StatusReport> => {
    const run = await runCli(['status', name, '--output', 'json'], { ...env, ...extraEnv });
    assert.equal(run.code, 0, `status ${name}: ${run.stderr}`);
    return JSON.parse(run.stdout) as StatusReport;
  };

  it('status shows the step being retried, its attempts and last failure, then Ready with the conditions and the Web UI link', async () => {
    // Scaleway refuses the user data until the fault is cleared: configureBootstrap (an activity) is retried.
    const fault = stack.simulator.faults.failNext({ kind: 'setServerUserData', error: 'internal_error', times: 1_000 });
    await stack.product.kube.post(clusterPath(NODECLAIM_GVR), nodeClaimObject('cli-a', { nodeClass: 'gpu', requirements: L4, requests: GPU_REQUEST }));
    const retrying = await eventually('configureBootstrap retried', async () => {
      const report = await status('cli-a');
      const pending = report.pendingActivities.find((a) => a.activityType === 'configureBootstrap');
      return pending && pending.attempt >= 2 && pending.lastFailure ? { report, pending } : undefined;
    }, 90_000, 1_000);
    assert.equal(retrying.report.workflowStatus, 'RUNNING');
    assert.equal(retrying.report.step, 'Bootstrapping');
    assert.equal(retrying.report.stepFrom, 'query');
    assert.equal(retrying.report.provisioning?.offering?.commercialType, 'L4-1-24G');
    assert.ok(retrying.report.provisioning?.server?.serverId, 'the server of the query');
    // Decrypted with the key: the message is Scaleway's, not "Encoded failure".
    assert.doesNotMatch(retrying.pending.lastFailure ?? '', /encoded failure/i);
    assert.match(retrying.pending.lastFailure ?? '', /internal|500|server error/i, retrying.pending.lastFailure);
    const nc = await getNodeClaim(stack, 'cli-a');
    assert.equal(retrying.report.workflowId, `provision/cli-a/${nc?.metadata.uid}`);
    assert.equal(retrying.report.webUi, workflowUiLink(stack.temporal.uiUrl, stack.temporal.namespace, retrying.report.workflowId));
    assert.ok(retrying.report.kubernetes && 'found' in retrying.report.kubernetes && retrying.report.kubernetes.found);

    // The table says the same to a person.
    const table = await runCli(['status', 'cli-a'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Step:\s+Bootstrapping$/m);
    assert.match(table.stdout, /^configureBootstrap\s+\S+\s+\d+/m);
    assert.ok(table.stdout.includes(retrying.report.webUi), table.stdout);
    assert.equal(table.stderr, '', 'no progress on stderr when it is not a terminal');
    console.log(`[cli] scw-karpenter status cli-a, while configureBootstrap is retried:\n${table.stdout}`);

    stack.simulator.faults.clear(fault);
    await eventually('cli-a Ready', async () => (conditionOf(await getNodeClaim(stack, 'cli-a'), 'Ready')?.status === 'True' ? true : undefined), 120_000);
    const done = await eventually('the workflow completed', async () => {
      const report = await status('cli-a');
      return report.workflowStatus === 'COMPLETED' ? report : undefined;
    });
    assert.equal(done.step, 'Ready');
    assert.equal(done.outcome?.outcome, 'Ready');
    assert.deepEqual(done.pendingActivities, []);
    const conditions = done.kubernetes && 'found' in done.kubernetes && done.kubernetes.found ? done.kubernetes.nodeClaim.conditions : [];
    for (const type of ['Launched', 'Registered', 'Initialized', 'Ready']) assert.equal(conditions.find((c) => c.type === type)?.status, 'True', type);

    // Without a kubeconfig, the workflow is found in Temporal by the NodeClaim's name alone.
    const temporalOnly = await status('cli-a', { KUBECONFIG: undefined });
    assert.equal(temporalOnly.workflowId, done.workflowId);
    assert.equal(temporalOnly.kubernetes, undefined);
    assert.equal(temporalOnly.step, 'Ready');

    // --progress: the steps on stderr, stdout still one JSON document.
    const withProgress = await runCli(['status', 'cli-a', '-o', 'json', '--progress'], env);
    assert.equal(withProgress.code, 0, withProgress.stderr);
    assert.match(withProgress.stderr, /connecting to Temporal/);
    assert.equal((JSON.parse(withProgress.stdout) as StatusReport).workflowId, done.workflowId);
  });

  it('status of a NodeClaim that does not exist says so and exits 1', async () => {
    const run = await runCli(['status', 'no-such-nodeclaim'], env);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /no NodeClaim no-such-nodeclaim: not in the apiserver, and no provisioning workflow provision\/no-such-nodeclaim\/\*/);
    const temporalOnly = await runCli(['status', 'no-such-nodeclaim'], { ...env, KUBECONFIG: undefined });
    assert.equal(temporalOnly.code, 1);
    assert.match(temporalOnly.stderr, /no provisioning workflow provision\/no-such-nodeclaim\/\* .*no kubeconfig/);
  });

  it('gc --dry-run lists a leaked server with its reason and releases nothing; gc --trigger has the Schedule release it', async () => {
    const image = await stack.product.cloud.resolveImage(ZONE, 'ubuntu_noble_gpu_os_12', 'L4-1-24G', 'sbs_volume');
    const gone = { name: 'cli-leaked', uid: randomUUID() };
    // Created on the simulator directly, tagged as ours for a NodeClaim that never existed.
    const leaked = await stack.product.cloud.createServer({
      zone: ZONE, name: 'cli-leaked', commercialType: 'L4-1-24G', imageId: image.id,
      tags: resourceTags(CLUSTER, gone, 'gpu'), rootVolume: { sizeBytes: 20e9, type: 'sbs_volume', name: rootVolumeName(CLUSTER, gone) }, publicIp: 'none',
    });
    await sleep(GRACE_MS + 500);
    const requestsBefore = stack.simulator.requests.length;

    const dry = await runCli(['gc', '--dry-run', '--output', 'json'], env);
    assert.equal(dry.code, 0, dry.stderr);
    const report = JSON.parse(dry.stdout) as DryRunReport;
    assert.equal(report.clusterName, CLUSTER);
    const action = report.actions.find((a) => a.kind === 'server' && a.serverId === leaked.id);
    assert.ok(action, `the leaked server in the plan: ${dry.stdout}`);
    assert.equal(action.reason, 'NodeClaimNotFound');
    // cli-a is live: its server is not garbage.
    assert.ok(!report.actions.some((a) => a.kind === 'server' && a.serverName === 'cli-a'), dry.stdout);
    assert.deepEqual(report.skippedZones, []);
    // Nothing changed: the server is there, and the CLI made only reads.
    assert.ok(stack.simulator.servers(ZONE).some((s) => s.id === leaked.id));
    const writes = stack.simulator.requests.slice(requestsBefore).filter((r) => !['GET', 'HEAD'].includes(r.method));
    assert.deepEqual(writes.map((r) => `${r.method} ${r.path}`), []);

    const table: CliRun = await runCli(['gc', '--dry-run'], env);
    assert.equal(table.code, 0, table.stderr);
    console.log(`[cli] scw-karpenter gc --dry-run:\n${table.stdout}`);
    assert.match(table.stdout, new RegExp(`^server\\s+${ZONE}\\s+cli-leaked \\(${leaked.id}\\)\\s+NodeClaimNotFound`, 'm'));

    // Without --dry-run or --trigger: a refusal that names the Schedule, exit 2.
    const refused = await runCli(['gc'], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /Schedule scw-karpenter-gc-sandbox/);
    assert.ok(stack.simulator.servers(ZONE).some((s) => s.id === leaked.id));

    const triggered = await runCli(['gc', '--trigger'], env);
    assert.equal(triggered.code, 0, triggered.stderr);
    assert.match(triggered.stdout, /triggered one run of Schedule scw-karpenter-gc-sandbox/);
    await eventually('the leaked server released', () => Promise.resolve(stack.simulator.servers(ZONE).some((s) => s.id === leaked.id) ? undefined : true), 60_000);
    assert.equal(conditionOf(await getNodeClaim(stack, 'cli-a'), 'Ready')?.status, 'True', 'the live NodeClaim untouched');
  });
});
