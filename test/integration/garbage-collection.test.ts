// Orphan garbage collection on the real stack: the worker keeps the cluster's
// Schedule, and one run releases exactly the orphans planted in the simulator
// and the apiserver (after a dry run that releases nothing), while another
// cluster's servers and volumes, untagged servers and live NodeClaims' servers stay.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import { clusterPath } from '../../kube/objects.ts';
import { NODECLAIM_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { parseProviderId } from '../../kube/api/provider-id.ts';
import { resourceTags, rootVolumeName } from '../../activities/deps.ts';
import { bootstrapTokenSecret, newBootstrapToken } from '../../bootstrap/kubeadm-token.ts';
import type { GarbageCollectionResult } from '../../workflows/garbage-collection.ts';
import { upsertGarbageCollectionSchedule } from '../../worker/gc-schedule.ts';
import { gcScheduleId, TASK_QUEUE } from '../../workflows/contract.ts';
import { conditionOf, eventually, getNodeClaim, nodeClaimObject, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';

const ZONE = 'fr-par-2';
const CLUSTER = 'sandbox';
const GRACE_MS = 2_000;
const GPU_REQUEST = { 'nvidia.com/gpu': '1', cpu: '2', memory: '8Gi' };
const L4 = [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4'] }];
const SECRETS = '/api/v1/namespaces/kube-system/secrets';

describe('orphan garbage collection', () => {
  let stack: ProvisioningStack;
  before(async () => {
    stack = await useProvisioningStack({
      // A day between runs: the Schedule exists, but only this test's trigger runs it.
      product: { garbageCollection: { intervalMs: 24 * 3_600_000, gracePeriodMs: GRACE_MS, dryRun: false } },
    });
    await stack.product.adminKube.post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
  });

  const serverIds = (): Set<string> => new Set(stack.simulator.servers().map((s) => String(s.id)));
  const volumeIds = (): Set<string> => new Set(stack.simulator.volumes().map((v) => String(v.id)));
  const secretExists = async (name: string): Promise<boolean> => (await stack.product.adminKube.getOrUndefined(`${SECRETS}/${name}`)) !== undefined;

  async function ready(name: string): Promise<{ uid: string; serverId: string }> {
    await stack.product.adminKube.post(clusterPath(NODECLAIM_GVR), nodeClaimObject(name, { nodeClass: 'gpu', requirements: L4, requests: GPU_REQUEST }));
    const nc = await eventually(`${name} Ready`, async () => {
      const current = await getNodeClaim(stack, name);
      return conditionOf(current, 'Ready')?.status === 'True' ? current : undefined;
    });
    const ref = parseProviderId(nc?.status.providerID ?? '');
    assert.ok(nc?.metadata.uid && ref);
    return { uid: nc.metadata.uid, serverId: ref.serverId };
  }

  async function plantServer(tags: string[], opts: { volumeName?: string; powerOn?: boolean } = {}): Promise<{ id: string; rootVolumeId: string }> {
    const image = await stack.product.cloud.resolveImage(ZONE, 'ubuntu_noble_gpu_os_12', 'L4-1-24G', 'sbs_volume');
    const server = await stack.product.cloud.createServer({
      zone: ZONE,
      name: 'planted',
      commercialType: 'L4-1-24G',
      imageId: image.id,
      tags,
      rootVolume: { sizeBytes: 20e9, type: 'sbs_volume', ...(opts.volumeName ? { name: opts.volumeName } : {}) },
      publicIp: 'none',
    });
    if (opts.powerOn) await stack.product.cloud.powerOn(ZONE, server.id);
    assert.ok(server.rootVolume);
    return { id: server.id, rootVolumeId: server.rootVolume.id };
  }

  it('keeps a Schedule per cluster, and a second worker\'s create updates it harmlessly', async () => {
    const client = stack.product.worker.client;
    const description = await client.schedule.getHandle(gcScheduleId(CLUSTER)).describe();
    assert.equal(description.action.workflowType, 'garbageCollect');
    assert.equal(description.policies.overlap, 'SKIP');
    assert.deepEqual(description.spec.intervals?.map((i) => i.every), [24 * 3_600_000]);
    const again = await upsertGarbageCollectionSchedule(client, { clusterName: CLUSTER, taskQueue: TASK_QUEUE, settings: { intervalMs: 24 * 3_600_000, gracePeriodMs: GRACE_MS, dryRun: false } });
    assert.equal(again, 'updated');
    const ids: string[] = [];
    for await (const schedule of client.schedule.list()) ids.push(schedule.scheduleId);
    assert.deepEqual(ids.filter((id) => id.startsWith('scw-karpenter-gc-')), [gcScheduleId(CLUSTER)]);
  });

  it('releases exactly the orphans: a dry run first, then one run of the Schedule', async () => {
    const kube = stack.product.adminKube;
    // Live NodeClaims: one keeps its server (and gets a late duplicate), one loses its server behind our back.
    const keep = await ready('gc-keep');
    const vanished = await ready('gc-vanished');

    const goneUid = randomUUID();
    const gone = { name: 'gc-gone', uid: goneUid };
    const orphanRunning = await plantServer(resourceTags(CLUSTER, gone, 'gpu'), { volumeName: rootVolumeName(CLUSTER, gone), powerOn: true });
    const gone2 = { name: 'gc-gone-2', uid: randomUUID() };
    // Never powered on: Scaleway refuses to terminate it, so it is deleted.
    const orphanStopped = await plantServer(resourceTags(CLUSTER, gone2, 'gpu'), { volumeName: rootVolumeName(CLUSTER, gone2) });
    const duplicate = await plantServer(resourceTags(CLUSTER, { name: 'gc-keep', uid: keep.uid }, 'gpu'), { volumeName: rootVolumeName(CLUSTER, { uid: keep.uid }), powerOn: true });
    const otherCluster = await plantServer(resourceTags('other', { name: 'theirs', uid: randomUUID() }, 'gpu'), { powerOn: true });
    const untagged = await plantServer([]);
    const noClusterTag = await plantServer(['karpenter.scaleway.com/managed', `karpenter.scaleway.com/nodeclaim-uid=${randomUUID()}`]);

    // Volumes whose servers were deleted (DELETE /servers leaves every volume, detached).
    const plantVolume = async (name: string): Promise<string> => {
      const server = await plantServer([], { volumeName: name });
      assert.ok(await stack.product.cloud.deleteServer(ZONE, server.id));
      return server.rootVolumeId;
    };
    const orphanVolume = await plantVolume(rootVolumeName(CLUSTER, { uid: randomUUID() }));
    const otherClusterVolume = await plantVolume(rootVolumeName('other', { uid: randomUUID() }));
    // Cluster `sandbox-x`'s names start with ours.
    const prefixClusterVolume = await plantVolume(rootVolumeName(`${CLUSTER}-x`, { uid: randomUUID() }));

    // A token of a NodeClaim that is gone, without the owner reference: with it, kube-controller-manager's own
    // garbage collector would delete it first (and clusters that lost it, or never ran that collector, keep it).
    const token = bootstrapTokenSecret(newBootstrapToken(), { expiresAt: new Date(Date.now() + 3_600_000), nodeClaimName: 'gc-gone', nodeClaimUid: goneUid });
    await kube.post(SECRETS, { ...token, metadata: { ...token.metadata, ownerReferences: undefined } });
    const tokenName = token.metadata?.name ?? '';
    await kube.post(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'not-a-token', namespace: 'kube-system', labels: { 'karpenter.scaleway.com/nodeclaim-uid': goneUid } }, stringData: { a: 'b' } });

    // The server of gc-vanished goes away behind our back.
    await stack.product.cloud.terminate(ZONE, vanished.serverId);
    await eventually('gc-vanished\'s server gone', () => Promise.resolve(serverIds().has(vanished.serverId) ? undefined : true));
    await sleep(GRACE_MS + 500);

    const client = stack.product.worker.client;
    const dry = await client.workflow.execute('garbageCollect', { taskQueue: TASK_QUEUE, workflowId: `gc-test/dry/${randomUUID()}`, args: [{ gracePeriodMs: GRACE_MS, dryRun: true }] }) as GarbageCollectionResult;
    const expected = [orphanRunning.id, orphanStopped.id, duplicate.id, orphanVolume, tokenName, 'gc-vanished'];
    assert.equal(dry.dryRun, true);
    assert.equal(dry.planned.length, expected.length, dry.planned.join('\n'));
    for (const what of expected) assert.ok(dry.planned.some((line) => line.includes(what)), `${what} in the plan:\n${dry.planned.join('\n')}`);
    assert.ok(dry.planned.some((line) => line.startsWith('DuplicateServer:') && line.includes(duplicate.id)));
    assert.ok(dry.planned.some((line) => line.startsWith('ServerNotFound:') && line.includes('gc-vanished')));
    // Nothing released.
    for (const id of [orphanRunning.id, orphanStopped.id, duplicate.id]) assert.ok(serverIds().has(id), id);
    assert.ok(volumeIds().has(orphanVolume));
    assert.ok(await secretExists(tokenName));
    assert.equal((await getNodeClaim(stack, 'gc-vanished'))?.metadata.deletionTimestamp, undefined);

    // One run of the Schedule itself.
    const schedule = client.schedule.getHandle(gcScheduleId(CLUSTER));
    await schedule.trigger();
    const run = await eventually('the Schedule to start a run', async () => (await schedule.describe()).info.recentActions[0]?.action.workflow);
    assert.match(run.workflowId, new RegExp(`^gc/${CLUSTER}`));
    const result = await client.workflow.getHandle<() => Promise<GarbageCollectionResult>>(run.workflowId, run.firstExecutionRunId).result();
    assert.equal(result.dryRun, false);
    assert.equal(result.released, expected.length, JSON.stringify(result));

    const servers = serverIds();
    for (const id of [orphanRunning.id, orphanStopped.id, duplicate.id]) assert.ok(!servers.has(id), `${id} released`);
    for (const id of [keep.serverId, otherCluster.id, untagged.id, noClusterTag.id]) assert.ok(servers.has(id), `${id} kept`);
    const volumes = volumeIds();
    for (const id of [orphanVolume, orphanRunning.rootVolumeId, orphanStopped.rootVolumeId, duplicate.rootVolumeId]) assert.ok(!volumes.has(id), `volume ${id} deleted`);
    for (const id of [otherClusterVolume, prefixClusterVolume, otherCluster.rootVolumeId, untagged.rootVolumeId, noClusterTag.rootVolumeId]) assert.ok(volumes.has(id), `volume ${id} kept`);
    // gc-keep's own root volume has the same name as its duplicate's: only the duplicate's went.
    const keepServer = stack.simulator.servers(ZONE).find((s) => s.id === keep.serverId) as { volumes?: Record<string, { id: string }> } | undefined;
    assert.ok(keepServer?.volumes?.['0'] && volumes.has(keepServer.volumes['0'].id), 'gc-keep\'s root volume kept');
    assert.equal(await secretExists(tokenName), false);
    assert.ok(await secretExists('not-a-token'));
    assert.equal(conditionOf(await getNodeClaim(stack, 'gc-keep'), 'Ready')?.status, 'True');

    // gc-vanished is deleted; its termination takes it (and its Node) away.
    await eventually('gc-vanished gone', async () => ((await getNodeClaim(stack, 'gc-vanished')) ? undefined : true));
    const events = (await kube.get<{ items: { reason: string; involvedObject: { name: string } }[] }>('/api/v1/namespaces/default/events')).items;
    assert.ok(events.some((e) => e.involvedObject.name === 'gc-vanished' && e.reason === 'ServerNotFound'), 'an Event on the NodeClaim whose server vanished');
    assert.ok(events.some((e) => e.involvedObject.name === 'gc-keep' && e.reason === 'DuplicateServer'), 'an Event on the NodeClaim whose duplicate was released');

    // A second run finds nothing left to do.
    const second = await client.workflow.execute('garbageCollect', { taskQueue: TASK_QUEUE, workflowId: `gc-test/again/${randomUUID()}`, args: [{ gracePeriodMs: GRACE_MS, dryRun: false }] }) as GarbageCollectionResult;
    assert.deepEqual(second.planned, []);
  });
});
