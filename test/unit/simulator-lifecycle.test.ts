// The simulated server lifecycle, walked step by step with a manual clock over real HTTP.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createManualClock, startSimulator, type Simulator } from '../../scaleway/simulator/index.ts';
import { simFetch } from '../../scaleway/simulator/testing.ts';

const ZONE = 'fr-par-2';
const SERVERS = `/instance/v1/zones/${ZONE}/servers`;
const clock = createManualClock(Date.parse('2026-07-30T12:53:17Z'));

interface ServerJson {
  id: string;
  state: string;
  state_detail: string;
  allowed_actions: string[];
  location: unknown;
  volumes: Record<string, { id: string; volume_type: string }>;
}

let sim: Simulator;

async function gpuImage(): Promise<string> {
  const { body } = await simFetch(sim, 'GET', `/marketplace/v2/local-images?image_label=ubuntu_noble_gpu_os_12&zone=${ZONE}&type=instance_sbs`);
  const image = (body as { local_images: { id: string }[] }).local_images[0];
  assert.ok(image, 'a GPU image in fr-par-2');
  return image.id;
}

async function createServer(commercialType = 'L4-1-24G'): Promise<ServerJson> {
  const response = await simFetch(sim, 'POST', SERVERS, { name: 'gpu-a', commercial_type: commercialType, image: await gpuImage(), tags: ['cluster=a'] });
  assert.equal(response.status, 201, response.text);
  return (response.body as { server: ServerJson }).server;
}

async function getServer(id: string): Promise<ServerJson> {
  const response = await simFetch(sim, 'GET', `${SERVERS}/${id}`);
  assert.equal(response.status, 200, response.text);
  return (response.body as { server: ServerJson }).server;
}

async function act(id: string, action: string): Promise<{ status: number; body: unknown }> {
  return simFetch(sim, 'POST', `${SERVERS}/${id}/action`, { action });
}

describe('simulator lifecycle (recorded timings, manual clock)', () => {
  before(async () => {
    sim = await startSimulator({ profile: 'recorded', clock, requestLatency: false });
  });
  after(async () => sim.close());
  beforeEach(() => sim.reset());

  it('creates a GPU server stopped, with an SBS root volume attached', async () => {
    const server = await createServer();
    assert.equal(server.state, 'stopped');
    assert.deepEqual(server.allowed_actions, ['poweron', 'backup']);
    assert.equal(server.location, null);
    const root = server.volumes['0'];
    assert.equal(root?.volume_type, 'sbs_volume');
    const volume = await simFetch(sim, 'GET', `/block/v1/zones/${ZONE}/volumes/${root?.id}`);
    assert.equal(volume.status, 200);
    assert.equal((volume.body as { status: string }).status, 'in_use');
    assert.equal((volume.body as { size: number }).size, 20_000_000_000);
  });

  it('powers on through allocating node, provisioning node, then running', async () => {
    const { id } = await createServer();
    const task = await act(id, 'poweron');
    assert.equal(task.status, 202);
    assert.equal((task.body as { task: { status: string } }).task.status, 'pending');

    let server = await getServer(id);
    assert.deepEqual([server.state, server.state_detail], ['starting', 'allocating node']);
    assert.deepEqual(server.allowed_actions, ['stop_in_place', 'backup']);
    clock.advance(4_000);
    server = await getServer(id);
    assert.deepEqual([server.state, server.state_detail], ['starting', 'provisioning node']);
    assert.notEqual(server.location, null);
    clock.advance(13_500);
    assert.equal((await getServer(id)).state, 'starting');
    clock.advance(100);
    server = await getServer(id);
    assert.deepEqual([server.state, server.state_detail], ['running', 'booting kernel']);
    assert.ok(server.allowed_actions.includes('terminate'));
  });

  it('refuses a second action while starting with transient_state', async () => {
    const { id } = await createServer();
    await act(id, 'poweron');
    const refused = await act(id, 'poweroff');
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body, {
      type: 'transient_state',
      message: 'resource is in a transient state',
      resource: 'instance_server',
      resource_id: id,
      current_state: 'starting',
    });
  });

  it('terminates to a 404 and leaves the SBS root volume available', async () => {
    const { id, volumes } = await createServer();
    await act(id, 'poweron');
    clock.advance(20_000);
    assert.equal((await act(id, 'terminate')).status, 202);
    const stopping = await getServer(id);
    assert.deepEqual([stopping.state, stopping.state_detail, stopping.allowed_actions], ['stopping', 'terminating', []]);
    clock.advance(13_000);
    assert.equal((await getServer(id)).state, 'stopping');
    clock.advance(1_000);
    const gone = await simFetch(sim, 'GET', `${SERVERS}/${id}`);
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, { type: 'not_found', message: 'resource is not found', resource: 'instance_server', resource_id: id });

    const volume = await simFetch(sim, 'GET', `/block/v1/zones/${ZONE}/volumes/${volumes['0']?.id}`);
    const json = volume.body as { status: string; references: unknown[]; last_detached_at: string | null };
    assert.equal(json.status, 'available');
    assert.deepEqual(json.references, []);
    assert.notEqual(json.last_detached_at, null);
    assert.equal((await simFetch(sim, 'DELETE', `/block/v1/zones/${ZONE}/volumes/${volumes['0']?.id}`)).status, 204);
    assert.equal((await simFetch(sim, 'GET', `/block/v1/zones/${ZONE}/volumes/${volumes['0']?.id}`)).status, 404);
  });

  it('powers off a running server back to stopped, then deletes it', async () => {
    const { id, volumes } = await createServer('RENDER-S');
    await act(id, 'poweron');
    clock.advance(20_000);
    assert.equal((await simFetch(sim, 'DELETE', `${SERVERS}/${id}`)).status, 400, 'a running server cannot be deleted');
    await act(id, 'poweroff');
    assert.equal((await getServer(id)).state, 'stopping');
    clock.advance(10_000);
    const stopped = await getServer(id);
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.location, null);
    assert.equal((await simFetch(sim, 'DELETE', `${SERVERS}/${id}`)).status, 204);
    assert.equal((await simFetch(sim, 'GET', `${SERVERS}/${id}`)).status, 404);
    const volume = await simFetch(sim, 'GET', `/block/v1/zones/${ZONE}/volumes/${volumes['0']?.id}`);
    assert.equal((volume.body as { status: string }).status, 'available');
  });

  it('refuses to delete an attached block volume', async () => {
    const { volumes } = await createServer();
    const refused = await simFetch(sim, 'DELETE', `/block/v1/zones/${ZONE}/volumes/${volumes['0']?.id}`);
    assert.equal(refused.status, 412);
    assert.equal((refused.body as { type: string }).type, 'precondition_failed');
  });

  it('runs non-GPU types on their faster recorded timings', async () => {
    const image = await simFetch(sim, 'GET', '/marketplace/v2/local-images?image_label=ubuntu_focal&zone=fr-par-1&type=instance_sbs&arch=x86_64');
    const imageId = (image.body as { local_images: { id: string }[] }).local_images[0]?.id;
    assert.equal(imageId, 'fc4d4e26-849d-4e03-b933-cb1626ca8cad', 'the recorded image id is kept');
    const created = await simFetch(sim, 'POST', '/instance/v1/zones/fr-par-1/servers', { commercial_type: 'DEV1-S', image: imageId });
    assert.equal(created.status, 201, created.text);
    const { id } = (created.body as { server: ServerJson }).server;
    const path = `/instance/v1/zones/fr-par-1/servers/${id}`;
    const stateNow = async (): Promise<string> => ((await simFetch(sim, 'GET', path)).body as { server: ServerJson }).server.state;
    assert.equal((await simFetch(sim, 'POST', `${path}/action`, { action: 'poweron' })).status, 202);
    clock.advance(3_100);
    assert.equal(await stateNow(), 'starting');
    clock.advance(200);
    assert.equal(await stateNow(), 'running');
  });
});

describe('simulator lifecycle (instant profile)', () => {
  let instant: Simulator;
  before(async () => {
    instant = await startSimulator({ profile: 'instant' });
  });
  after(async () => instant.close());

  it('reaches running and gone on the next read', async () => {
    const images = await simFetch(instant, 'GET', `/marketplace/v2/local-images?image_label=ubuntu_noble_gpu_os_12&zone=${ZONE}&type=instance_sbs`);
    const imageId = (images.body as { local_images: { id: string }[] }).local_images[0]?.id;
    const created = await simFetch(instant, 'POST', SERVERS, { commercial_type: 'L4-1-24G', image: imageId });
    const { id } = (created.body as { server: ServerJson }).server;
    await simFetch(instant, 'POST', `${SERVERS}/${id}/action`, { action: 'poweron' });
    const running = await simFetch(instant, 'GET', `${SERVERS}/${id}`);
    assert.equal((running.body as { server: ServerJson }).server.state, 'running');
    await simFetch(instant, 'POST', `${SERVERS}/${id}/action`, { action: 'terminate' });
    assert.equal((await simFetch(instant, 'GET', `${SERVERS}/${id}`)).status, 404);
  });
});
