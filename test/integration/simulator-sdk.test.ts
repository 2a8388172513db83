// The real Scaleway SDK (@scaleway/sdk-client 1.3.3) against the simulator through its apiURL override.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createClient, Errors as errors } from '@scaleway/sdk-client';
import { Blockv1 } from '@scaleway/sdk-block';
import { Instancev1 } from '@scaleway/sdk-instance';
import { Marketplacev2 } from '@scaleway/sdk-marketplace';
import { startSimulator, type Simulator } from '../../scaleway/simulator/index.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';

const ZONE = 'fr-par-2';
const CLOUD_INIT = '#cloud-config\nruncmd:\n  - [sh, -c, "echo joined"]\n';

let sim: Simulator;
let instance: Instancev1.API;
let block: Blockv1.API;
let marketplace: Marketplacev2.API;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function gpuImageId(): Promise<string> {
  const { localImages } = await marketplace.listLocalImages({ imageLabel: 'ubuntu_noble_gpu_os_12', zone: ZONE, type: 'instance_sbs' });
  const image = localImages.find((candidate) => candidate.compatibleCommercialTypes.includes('L4-1-24G'));
  assert.ok(image, 'ubuntu_noble_gpu_os_12 runs on L4-1-24G in fr-par-2');
  return image.id;
}

describe('Scaleway SDK against the simulator', () => {
  before(async () => {
    // The recorded timings, 20 times faster: a GPU power-on takes ~0.9 s, a terminate ~0.7 s.
    sim = await startSimulator({ profile: 'recorded', timeScale: 0.05, secretKey: TEST_CREDENTIALS.secretKey });
    const client = createClient({
      accessKey: TEST_CREDENTIALS.accessKey,
      secretKey: TEST_CREDENTIALS.secretKey,
      apiURL: sim.url,
      defaultZone: ZONE,
      defaultRegion: 'fr-par',
      defaultProjectId: TEST_CREDENTIALS.projectId,
    });
    instance = new Instancev1.API(client);
    block = new Blockv1.API(client);
    marketplace = new Marketplacev2.API(client);
  });
  after(async () => sim.close());
  beforeEach(() => sim.reset());

  it('lists GPU server types with prices and availability across pages', async () => {
    const pages = await Promise.all([1, 2, 3].map((page) => instance.listServersTypes({ zone: ZONE, page })));
    const types = Object.assign({}, ...pages.map((page) => page.servers)) as Record<string, Instancev1.ServerType>;
    assert.equal(pages[0]?.totalCount, 135);
    assert.equal(Object.keys(types).length, 135);
    const gpus = Object.entries(types).filter(([, type]) => (type.gpu ?? 0) > 0);
    assert.ok(gpus.length >= 10, `GPU types in fr-par-2: ${gpus.length}`);
    const l4 = types['L4-1-24G'];
    assert.equal(l4?.hourlyPrice, 0.7875);
    assert.equal(l4?.gpuInfo?.gpuName, 'L4');
    assert.equal(l4?.gpuInfo?.gpuMemory, 25_769_803_776);

    const availability = await instance.getServerTypesAvailability({ zone: ZONE, perPage: 100 });
    assert.equal(availability.servers['L4-1-24G']?.availability, 'available');
    assert.equal(availability.totalCount, 135);
  });

  it('provisions an L4-1-24G end to end and cleans up its root volume', async () => {
    const image = await gpuImageId();
    const { server } = await instance.createServer({
      zone: ZONE,
      protected: false,
      name: 'nodeclaim-gpu-abc',
      commercialType: 'L4-1-24G',
      image,
      volumes: { '0': { size: 100_000_000_000, volumeType: 'sbs_volume' } },
      tags: ['scw-karpenter/cluster=test', 'scw-karpenter/nodeclaim=gpu-abc'],
    });
    assert.ok(server, 'createServer answers the server');
    assert.equal(server.state, 'stopped');
    const rootVolumeId = server.volumes['0']?.id;
    assert.ok(rootVolumeId);

    await instance.setServerUserData({ zone: ZONE, serverId: server.id, key: 'cloud-init', content: CLOUD_INIT });
    assert.deepEqual((await instance.listServerUserData({ zone: ZONE, serverId: server.id })).userData, ['cloud-init']);
    assert.equal(await instance.getServerUserData({ zone: ZONE, serverId: server.id, key: 'cloud-init' }), CLOUD_INIT);

    const found = await instance.listServers({ zone: ZONE, tags: ['scw-karpenter/nodeclaim=gpu-abc'] });
    assert.deepEqual(found.servers.map((candidate) => candidate.id), [server.id]);

    await instance.serverAction({ zone: ZONE, serverId: server.id, action: 'poweron' });
    const details = new Set<string>();
    const running = await until('running', async () => {
      const current = (await instance.getServer({ zone: ZONE, serverId: server.id })).server;
      assert.ok(current);
      details.add(`${current.state}/${current.stateDetail}`);
      return current.state === 'running' ? current : undefined;
    });
    assert.equal(running.stateDetail, 'booting kernel');
    assert.ok(details.has('starting/allocating node'), [...details].join(', '));
    assert.ok(running.location?.zoneId === ZONE);

    const volume = await block.getVolume({ zone: ZONE, volumeId: rootVolumeId });
    assert.deepEqual([volume.status, volume.type, volume.size], ['in_use', 'sbs_5k', 100_000_000_000]);

    await instance.serverAction({ zone: ZONE, serverId: server.id, action: 'terminate' });
    await until('404 after terminate', async () => {
      try {
        await instance.getServer({ zone: ZONE, serverId: server.id });
        return undefined;
      } catch (error) {
        assert.ok(error instanceof errors.ResourceNotFoundError, String(error));
        return true;
      }
    });

    const survivor = await block.getVolume({ zone: ZONE, volumeId: rootVolumeId });
    assert.equal(survivor.status, 'available');
    assert.deepEqual(survivor.references, []);
    await block.deleteVolume({ zone: ZONE, volumeId: rootVolumeId });
    await assert.rejects(block.getVolume({ zone: ZONE, volumeId: rootVolumeId }), errors.ResourceNotFoundError);
    assert.equal(sim.countRequests({ kind: 'createServer' }), 1);
  });

  it('surfaces simulator errors as the SDK typed errors', async () => {
    const image = await gpuImageId();
    const create = (): Promise<unknown> => instance.createServer({ zone: ZONE, protected: false, commercialType: 'L4-1-24G', image });

    sim.faults.stockOut(ZONE, 'L4-1-24G');
    await assert.rejects(create(), (error: unknown) => error instanceof errors.OutOfStockError && error.resource === 'server');
    sim.faults.restock(ZONE, 'L4-1-24G');

    sim.faults.failNext({ kind: 'createServer', error: 'quotas_exceeded' });
    await assert.rejects(create(), (error: unknown) => error instanceof errors.QuotasExceededError && error.list[0]?.resource === 'instances_l4_1_24g');

    sim.faults.failNext({ kind: 'createServer', error: 'too_many_requests' });
    await assert.rejects(create(), (error: unknown) => error instanceof errors.TooManyRequestsError && error.status === 429);

    sim.faults.failNext({ kind: 'createServer', error: 'permissions_denied' });
    await assert.rejects(create(), errors.PermissionsDeniedError);

    sim.faults.failNext({ kind: 'createServer', error: 'service_unavailable' });
    await assert.rejects(create(), (error: unknown) => error instanceof errors.ScalewayError && error.status === 503);

    await assert.rejects(
      instance.createServer({ zone: ZONE, protected: false, commercialType: 'L4-1-24G', image: '' }),
      (error: unknown) => error instanceof errors.InvalidArgumentsError,
    );
    await assert.rejects(
      marketplace.listLocalImages({ imageLabel: 'macos', zone: ZONE, type: 'instance_sbs' }),
      (error: unknown) => error instanceof errors.ResourceNotFoundError && error.resource === 'MarketplaceImage',
    );

    const { server } = (await create()) as { server?: Instancev1.Server };
    assert.ok(server);
    await instance.serverAction({ zone: ZONE, serverId: server.id, action: 'poweron' });
    await assert.rejects(
      instance.serverAction({ zone: ZONE, serverId: server.id, action: 'terminate' }),
      (error: unknown) => error instanceof errors.TransientStateError && error.currentState === 'starting',
    );
    sim.faults.lock(server.id);
    await assert.rejects(instance.deleteServer({ zone: ZONE, serverId: server.id }), errors.ResourceLockedError);
  });

  it('rejects a client with the wrong secret key', async () => {
    const stranger = new Instancev1.API(createClient({
      accessKey: TEST_CREDENTIALS.accessKey,
      secretKey: '9d2f7c4a-1b3e-4f5a-8c6d-0e1f2a3b4c5d',
      apiURL: sim.url,
      defaultZone: ZONE,
    }));
    await assert.rejects(stranger.listServers({ zone: ZONE }), errors.DeniedAuthenticationError);
  });
});
