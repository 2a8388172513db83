// How the CLI prints: aligned tables and fields, the --output choice, progress
// only where someone watches, and the status and gc reports as a person reads
// them. Also the dry run's guarantee: its clients refuse every write.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fields, outputFormat, progressReporter, table } from '../../cli/output.ts';
import { formatStatus, type StatusReport } from '../../cli/status.ts';
import { formatDryRun, readOnlyCloud, readOnlyKube, type DryRunReport } from '../../cli/gc.ts';
import { createScalewayCloud } from '../../scaleway/cloud.ts';
import { createKubeRest } from '../../kube/rest.ts';
import { credentialsOfKubeConfig } from '../../kube/credentials.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';
import { KubeConfig } from '@kubernetes/client-node';

describe('CLI output', () => {
  it('pads table columns to the widest cell and right-aligns numeric columns', () => {
    assert.equal(
      table(['ZONE', 'GPUS', 'TYPE'], [['fr-par-2', 1, 'L4-1-24G'], ['nl-ams-1', 8, 'H100-SXM-8-80G']]),
      ['ZONE      GPUS  TYPE', 'fr-par-2     1  L4-1-24G', 'nl-ams-1     8  H100-SXM-8-80G'].join('\n'),
    );
    assert.equal(table(['A', 'B'], []), 'A  B');
  });

  it('aligns field labels and leaves out empty values', () => {
    assert.equal(fields([['Step', 'Ready'], ['Server', undefined], ['Web UI', 'http://x'], ['Node', '']]), 'Step:    Ready\nWeb UI:  http://x');
  });

  it('takes --output table or json, and catalog\'s --json as json', () => {
    assert.equal(outputFormat(undefined), 'table');
    assert.equal(outputFormat('json'), 'json');
    assert.equal(outputFormat(undefined, true), 'json');
    assert.equal(outputFormat('json', true), 'json');
    assert.throws(() => outputFormat('yaml'), /--output must be table or json, got yaml/);
    assert.throws(() => outputFormat('table', true), /--json and --output table disagree/);
  });

  it('writes progress to a terminal or when asked, else nothing', () => {
    const stream = (isTTY: boolean) => {
      const lines: string[] = [];
      return { lines, isTTY, write: (text: string) => lines.push(text) > 0 };
    };
    const tty = stream(true);
    progressReporter(undefined, tty)('reading fr-par-2...');
    assert.deepEqual(tty.lines, ['reading fr-par-2...\n']);
    const pipe = stream(false);
    progressReporter(undefined, pipe)('reading fr-par-2...');
    assert.deepEqual(pipe.lines, []);
    progressReporter(true, pipe)('reading fr-par-2...');
    assert.deepEqual(pipe.lines, ['reading fr-par-2...\n']);
  });
});

const running: StatusReport = {
  nodeClaim: 'gpu-a',
  workflowId: 'provision/gpu-a/uid-1',
  runId: 'run-1',
  workflowStatus: 'RUNNING',
  startTime: '2026-12-02T10:00:00.000Z',
  closeTime: undefined,
  step: 'Bootstrapping',
  stepFrom: 'query',
  provisioning: {
    step: 'Bootstrapping',
    offering: { zone: 'fr-par-2', commercialType: 'L4-1-24G', hourlyPriceEur: 0.75, gpuCount: 1 },
    server: { zone: 'fr-par-2', serverId: 'srv-1', commercialType: 'L4-1-24G', rootVolumeId: 'vol-1' },
    providerID: undefined,
    nodeName: undefined,
    attempts: [{ zone: 'fr-par-2', commercialType: 'L4-1-24G', outcome: 'Created' }],
  },
  queryError: undefined,
  pendingActivities: [{
    activityType: 'configureBootstrap', activityId: '4', state: 'SCHEDULED', attempt: 3, maximumAttempts: 0,
    lastFailure: 'setting cloud-init of server srv-1 in fr-par-2: internal error', lastFailureType: 'CloudError',
    scheduledAt: undefined, lastStartedAt: undefined, lastHeartbeatAt: undefined, nextAttemptAt: '2026-12-02T10:00:08.000Z',
  }],
  outcome: undefined,
  failure: undefined,
  termination: undefined,
  kubernetes: { found: true, nodeClaim: { name: 'gpu-a', uid: 'uid-1', deleting: false, providerID: undefined, nodeName: undefined, conditions: [{ type: 'Launched', status: 'Unknown', reason: 'Launching', message: 'creating', lastTransitionTime: '2026-12-02T10:00:01Z' }] } },
  webUi: 'http://127.0.0.1:8233/namespaces/default/workflows/provision%2Fgpu-a%2Fuid-1',
};

describe('status report', () => {
  it('shows the step, the offering and server, the retried activity with its attempts and last failure, the conditions and the link', () => {
    const text = formatStatus(running);
    assert.match(text, /^Step:\s+Bootstrapping$/m);
    assert.match(text, /^Offering:\s+L4-1-24G in fr-par-2$/m);
    assert.match(text, /^Server:\s+srv-1 \(L4-1-24G\) in fr-par-2$/m);
    assert.match(text, /^configureBootstrap\s+SCHEDULED\s+3\s+2026-12-02T10:00:08.000Z\s+CloudError: setting cloud-init of server srv-1 in fr-par-2: internal error$/m);
    assert.match(text, /^Launched\s+Unknown\s+Launching\s+2026-12-02T10:00:01Z\s+creating$/m);
    assert.match(text, /^Web UI:\s+http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/provision%2Fgpu-a%2Fuid-1$/m);
  });

  it('says where the step came from when the query gave nothing, and why the conditions are missing', () => {
    const text = formatStatus({ ...running, provisioning: undefined, stepFrom: 'pending-activity', step: 'configureBootstrap', queryError: 'the status query was not answered within 5 s: is a worker polling the task queue?', kubernetes: undefined });
    assert.match(text, /^Step:\s+configureBootstrap \(from the pending activity: the status query was not answered/m);
    assert.match(text, /Conditions: not read \(no kubeconfig: set KUBECONFIG\)/);
    assert.doesNotMatch(text, /^Offering:/m);
    assert.match(formatStatus({ ...running, kubernetes: { found: false } }), /NodeClaim gpu-a is no longer in the apiserver/);
    const bare = { name: 'gpu-a', uid: 'uid-1', deleting: false, providerID: undefined, nodeName: undefined, conditions: [] };
    assert.match(formatStatus({ ...running, kubernetes: { found: true, nodeClaim: bare } }), /^Conditions: none yet$/m);
    const failed = formatStatus({ ...running, workflowStatus: 'COMPLETED', outcome: { outcome: 'Failed', reason: 'InsufficientCapacity', message: 'no capacity' }, pendingActivities: [] });
    assert.match(failed, /^Outcome:\s+Failed: InsufficientCapacity: no capacity$/m);
    assert.doesNotMatch(failed, /Pending activities/);
  });
});

describe('gc dry run', () => {
  const report: DryRunReport = {
    clusterName: 'sandbox',
    gracePeriod: '10m',
    zones: ['fr-par-2'],
    skippedZones: [],
    actions: [
      { kind: 'server', zone: 'fr-par-2', serverId: 'srv-9', serverName: 'leaked', nodeClaimUid: 'uid-9', nodeClaim: undefined, volumes: [], reason: 'NodeClaimNotFound', message: 'server leaked (srv-9) in fr-par-2 belongs to no NodeClaim' },
      { kind: 'token', secretName: 'bootstrap-token-abcdef', nodeClaimUid: 'uid-9', reason: 'NodeClaimNotFound', message: 'bootstrap token Secret kube-system/bootstrap-token-abcdef belongs to NodeClaim UID uid-9, which no longer exists' },
      { kind: 'nodeclaim', nodeClaim: { name: 'gpu-b', uid: 'uid-b' }, providerID: 'scaleway://instance/fr-par-2/srv-b', reason: 'ServerNotFound', message: 'NodeClaim gpu-b is launched on scaleway://instance/fr-par-2/srv-b, which no longer exists' },
    ],
  };

  it('lists each resource with its kind, zone, reason and why', () => {
    const lines = formatDryRun(report).split('\n');
    assert.equal(lines[0], 'cluster sandbox, grace period 10m: 3 to release');
    assert.match(lines[1] ?? '', /^KIND\s+ZONE\s+RESOURCE\s+REASON\s+WHY$/);
    assert.match(lines[2] ?? '', /^server\s+fr-par-2\s+leaked \(srv-9\)\s+NodeClaimNotFound\s+server leaked/);
    assert.match(lines[3] ?? '', /^token\s+-\s+kube-system\/bootstrap-token-abcdef\s+NodeClaimNotFound/);
    assert.match(lines[4] ?? '', /^nodeclaim\s+-\s+gpu-b \(scaleway:\/\/instance\/fr-par-2\/srv-b\)\s+ServerNotFound/);
    assert.equal(formatDryRun({ ...report, actions: [] }), 'cluster sandbox, grace period 10m: 0 to release');
  });

  it('plans on clients that refuse every write, before any request is sent', () => {
    const cloud = readOnlyCloud(createScalewayCloud({ ...TEST_CREDENTIALS, apiUrl: 'http://127.0.0.1:1' }), () => undefined);
    for (const write of [() => cloud.terminate('fr-par-2', 'srv'), () => cloud.deleteVolume('fr-par-2', 'vol'), () => cloud.createServer({} as never), () => cloud.powerOn('fr-par-2', 'srv')]) {
      assert.throws(write, /gc --dry-run changes nothing, yet planning called cloud\.\w+/);
    }
    assert.equal(typeof cloud.listServersByTags, 'function');
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const kube = readOnlyKube(createKubeRest(credentialsOfKubeConfig(kc)));
    assert.throws(() => kube.delete('/api/v1/namespaces/kube-system/secrets/x'), /called kube\.delete/);
    assert.throws(() => kube.patch('/x', {}), /called kube\.patch/);
    assert.throws(() => kube.post('/x', {}), /called kube\.post/);
  });
});
