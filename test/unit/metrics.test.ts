// The metrics the Scaleway adapter keeps, against the in-process simulator:
// each request counted by call and HTTP status, each adapter call timed as a
// cloud provider method, a throttled answer counted, a failure classified.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimulator, type Simulator } from '../../scaleway/simulator/index.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';
import { createScalewayCloud, type ScalewayCloud } from '../../scaleway/cloud.ts';
import { TokenBucket } from '../../scaleway/rate-limiter.ts';
import { CONTROLLER, registry, withController } from '../../runtime/metrics.ts';
import { MockActivityEnvironment } from '@temporalio/testing';
import { instrumentActivities } from '../../activities/instrumentation.ts';
import { WORKFLOW } from '../../workflows/contract.ts';

const ZONE = 'fr-par-2';
let sim: Simulator;
let cloud: ScalewayCloud;

async function value(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name.replace(/_(count|sum)$/, ''));
  const suffix = /_(count|sum)$/.exec(name)?.[0];
  const samples = (metric?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[];
  return samples
    .filter((s) => (suffix ? s.metricName === name : true) && Object.entries(labels).every(([k, v]) => String(s.labels[k]) === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('Scaleway adapter metrics', () => {
  before(async () => {
    sim = await startSimulator({ profile: 'instant' });
    cloud = createScalewayCloud({ ...TEST_CREDENTIALS, apiUrl: sim.url }, { rateLimiter: new TokenBucket() });
  });
  after(async () => sim.close());

  it('counts a create_server request and times the createServer call', async () => {
    const image = await cloud.resolveImage(ZONE, 'ubuntu_noble_gpu_os_12', 'L4-1-24G', 'sbs_volume');
    const before = await value('scw_karpenter_scaleway_calls_total', { kind: 'create_server' });
    await withController(CONTROLLER.nodeClaimLifecycle, () => cloud.createServer({ zone: ZONE, name: 'gpu', commercialType: 'L4-1-24G', imageId: image.id, tags: ['t'], rootVolume: { sizeBytes: 20_000_000_000, type: 'sbs_volume' }, publicIp: 'none' }));
    assert.equal(await value('scw_karpenter_scaleway_calls_total', { kind: 'create_server' }) - before, 1);
    assert.ok(await value('scw_karpenter_scaleway_calls_total', { kind: 'create_server', status: '201' }) + await value('scw_karpenter_scaleway_calls_total', { kind: 'create_server', status: '200' }) >= 1, 'by HTTP status');
    assert.equal(await value('karpenter_cloudprovider_duration_seconds_count', { controller: CONTROLLER.nodeClaimLifecycle, method: 'createServer', provider: 'scaleway' }), 1);
    assert.equal(await value('karpenter_cloudprovider_duration_seconds_count', { method: 'resolveImage', provider: 'scaleway' }), 1);
  });

  it('counts a throttled request, and the retry that followed', async () => {
    const throttled = await value('scw_karpenter_scaleway_throttled_total', {});
    sim.faults.failNext({ kind: 'listServers', error: 'too_many_requests', times: 1 });
    await cloud.listServersByTags(ZONE, ['nothing']);
    assert.equal(await value('scw_karpenter_scaleway_throttled_total', {}) - throttled, 1);
    assert.ok(await value('scw_karpenter_scaleway_calls_total', { kind: 'list_servers_by_tags', status: '429' }) >= 1);
    assert.ok(await value('scw_karpenter_scaleway_calls_total', { kind: 'list_servers_by_tags', status: '200' }) >= 1);
  });

  it('counts a failed call under the error its translation gives', async () => {
    sim.faults.failNext({ kind: 'listServers', error: 'out_of_stock', times: 1 });
    await assert.rejects(cloud.listServersByTags(ZONE, ['x']));
    assert.equal(await value('karpenter_cloudprovider_errors_total', { method: 'listServersByTags', provider: 'scaleway', error: 'InsufficientCapacityError' }), 1);
  });

  it('labels an activity\'s cloud calls with the controller its workflow stands for, as Karpenter names them', async () => {
    const cases = [
      { workflowType: WORKFLOW.provisionNodeClaim, controller: CONTROLLER.nodeClaimLifecycle },
      { workflowType: WORKFLOW.terminateNodeClaim, controller: CONTROLLER.nodeClaimTermination },
      { workflowType: WORKFLOW.garbageCollect, controller: CONTROLLER.nodeClaimGarbageCollection },
    ];
    for (const { workflowType, controller } of cases) {
      // The SDK's activity context with the worker's own interceptor, around a real call to the simulator.
      const env = new MockActivityEnvironment({ workflowType, activityType: 'listServersByTags' }, { interceptors: [instrumentActivities] });
      const labels = { controller, method: 'listServersByTags', provider: 'scaleway' };
      const before = await value('karpenter_cloudprovider_duration_seconds_count', labels);
      await env.run(() => cloud.listServersByTags(ZONE, [`of-${workflowType}`]));
      assert.equal(await value('karpenter_cloudprovider_duration_seconds_count', labels) - before, 1, `${workflowType}'s call counted under ${controller}`);
    }
  });

  it('serves process metrics from the same registry', async () => {
    assert.match(await registry.metrics(), /process_cpu_user_seconds_total/);
  });
});
