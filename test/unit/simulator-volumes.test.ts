// What a server leaves behind in the simulator: DELETE of a stopped server keeps
// every volume (local and SBS), and local volumes are deleted on the Instance API.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSimulator, type Simulator } from '../../scaleway/simulator/index.ts';
import { simFetch } from '../../scaleway/simulator/testing.ts';

const ZONE = 'fr-par-2';
const SERVERS = `/instance/v1/zones/${ZONE}/servers`;
const VOLUMES = `/instance/v1/zones/${ZONE}/volumes`;
let sim: Simulator;

interface ServerJson {
  id: string;
  volumes: Record<string, { id: string; volume_type: string }>;
}

async function image(type: 'instance_sbs' | 'instance_local'): Promise<string> {
  const { body } = await simFetch(sim, 'GET', `/marketplace/v2/local-images?image_label=ubuntu_noble_gpu_os_12&zone=${ZONE}&type=${type}`);
  const found = (body as { local_images: { id: string }[] }).local_images[0];
  assert.ok(found);
  return found.id;
}

/** RENDER-S: a GPU type with local storage; an l_ssd root and an SBS data volume. */
async function createMixed(): Promise<ServerJson> {
  const response = await simFetch(sim, 'POST', SERVERS, {
    name: 'gpu-mixed',
    commercial_type: 'RENDER-S',
    image: await image('instance_sbs'),
    volumes: { '0': { volume_type: 'l_ssd', size: 20_000_000_000 }, '1': { volume_type: 'sbs_volume', size: 10_000_000_000 } },
  });
  assert.equal(response.status, 201, response.text);
  return (response.body as { server: ServerJson }).server;
}

describe('volumes a server leaves behind', () => {
  before(async () => {
    sim = await startSimulator({ profile: 'instant' });
  });
  after(async () => sim.close());
  beforeEach(() => sim.reset());

  it('keeps every volume of a deleted stopped server, detached', async () => {
    const server = await createMixed();
    const local = server.volumes['0']?.id ?? '';
    const sbs = server.volumes['1']?.id ?? '';
    assert.equal(server.volumes['0']?.volume_type, 'l_ssd');
    assert.equal((await simFetch(sim, 'DELETE', `${VOLUMES}/${local}`)).status, 400, 'an attached local volume cannot be deleted');
    assert.equal((await simFetch(sim, 'DELETE', `${SERVERS}/${server.id}`)).status, 204);
    const leftLocal = await simFetch(sim, 'GET', `${VOLUMES}/${local}`);
    assert.equal(leftLocal.status, 200, 'the local volume outlives DELETE /servers');
    assert.equal((leftLocal.body as { volume: { server: unknown } }).volume.server, null);
    const leftSbs = await simFetch(sim, 'GET', `/block/v1/zones/${ZONE}/volumes/${sbs}`);
    assert.equal((leftSbs.body as { status: string }).status, 'available');

    assert.equal((await simFetch(sim, 'DELETE', `${VOLUMES}/${sbs}`)).status, 404, 'SBS volumes are not on the Instance API');
    assert.equal((await simFetch(sim, 'DELETE', `${VOLUMES}/${local}`)).status, 204);
    assert.equal((await simFetch(sim, 'GET', `${VOLUMES}/${local}`)).status, 404);
    assert.equal(sim.countRequests({ kind: 'deleteInstanceVolume' }), 3);
  });

  it('drops local volumes with a terminate and keeps SBS ones (as recorded)', async () => {
    const server = await createMixed();
    assert.equal((await simFetch(sim, 'POST', `${SERVERS}/${server.id}/action`, { action: 'poweron' })).status, 202);
    assert.equal((await simFetch(sim, 'POST', `${SERVERS}/${server.id}/action`, { action: 'terminate' })).status, 202);
    assert.equal((await simFetch(sim, 'GET', `${SERVERS}/${server.id}`)).status, 404);
    assert.equal((await simFetch(sim, 'GET', `${VOLUMES}/${server.volumes['0']?.id ?? ''}`)).status, 404);
    assert.equal((await simFetch(sim, 'GET', `/block/v1/zones/${ZONE}/volumes/${server.volumes['1']?.id ?? ''}`)).status, 200);
  });
});
