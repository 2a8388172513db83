// The simulator's chaos faults over HTTP: a dropped connection, the lost answer
// of a create that committed, a server held in starting for a while, SBS
// volumes slow to detach after terminate.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, type Simulator } from '../../scaleway/simulator/index.ts';
import { simFetch } from '../../scaleway/simulator/testing.ts';

const ZONE = 'fr-par-2';
const SERVERS = `/instance/v1/zones/${ZONE}/servers`;

describe('simulator chaos faults over HTTP', () => {
  let sim: Simulator;
  let image = '';
  const create = (name: string): Promise<Awaited<ReturnType<typeof simFetch>>> =>
    simFetch(sim, 'POST', SERVERS, { name, commercial_type: 'L4-1-24G', image, tags: [`t=${name}`] });
  const serversNamed = (name: string): number => sim.servers(ZONE).filter((s) => s.name === name).length;

  before(async () => {
    sim = await startSimulator({ profile: 'instant' });
    const { body } = await simFetch(sim, 'GET', `/marketplace/v2/local-images?image_label=ubuntu_noble_gpu_os_12&zone=${ZONE}&type=instance_sbs`);
    image = (body as { local_images: { id: string }[] }).local_images[0]?.id ?? '';
  });
  after(() => sim.close());

  it('drops the connection before handling the call (nothing created)', async () => {
    sim.faults.chaos({ seed: 1, rates: { connection_reset: 1 } });
    await assert.rejects(create('reset'));
    sim.faults.chaosOff();
    assert.equal(serversNamed('reset'), 0);
    assert.equal(sim.faults.chaosCounts().connection_reset, 1);
  });

  it('creates the server, then answers 503 or drops the answer (the lost response)', async () => {
    sim.faults.chaos({ seed: 1, rates: { lost_create_error: 1 } });
    const answer = await create('lost-error');
    assert.equal(answer.status, 503);
    sim.faults.chaos({ seed: 1, rates: { lost_create_drop: 1 } });
    await assert.rejects(create('lost-drop'));
    const counts = sim.faults.chaosCounts();
    sim.faults.chaosOff();
    assert.equal(serversNamed('lost-error'), 1, 'committed despite the 503');
    assert.equal(serversNamed('lost-drop'), 1, 'committed despite the dropped connection');
    assert.equal(counts.lost_create_drop, 1);
  });

  it('holds a server in starting for a while, then lets it run', async () => {
    const id = ((await create('stuck')).body as { server: { id: string } }).server.id;
    sim.faults.chaos({ seed: 1, rates: { stuck_starting: 1 }, stuckMs: [300, 300] });
    await simFetch(sim, 'POST', `${SERVERS}/${id}/action`, { action: 'poweron' });
    assert.equal(sim.servers(ZONE).find((s) => s.id === id)?.state, 'starting');
    await sleep(600);
    assert.equal(sim.servers(ZONE).find((s) => s.id === id)?.state, 'running');
    sim.faults.chaosOff();
  });

  it('keeps a terminated server\'s SBS volume attached (detaching) for a while: deleting it answers 412', async () => {
    const server = ((await create('detach')).body as { server: { id: string; volumes: Record<string, { id: string }> } }).server;
    const volumeId = server.volumes['0']?.id ?? '';
    await simFetch(sim, 'POST', `${SERVERS}/${server.id}/action`, { action: 'poweron' });
    sim.faults.chaos({ seed: 1, rates: { slow_detach: 1 }, detachMs: [500, 500] });
    await simFetch(sim, 'POST', `${SERVERS}/${server.id}/action`, { action: 'terminate' });
    sim.faults.chaosOff();
    await sleep(50);
    assert.equal(serversNamed('detach'), 0, 'the server is gone');
    const volume = sim.volumes(ZONE).find((v) => v.id === volumeId);
    assert.equal(volume?.status, 'in_use');
    assert.equal((volume?.references as { status: string }[])[0]?.status, 'detaching');
    assert.equal((await simFetch(sim, 'DELETE', `/block/v1/zones/${ZONE}/volumes/${volumeId}`)).status, 412);
    await sleep(600);
    assert.equal(sim.volumes(ZONE).find((v) => v.id === volumeId)?.status, 'available');
    assert.equal((await simFetch(sim, 'DELETE', `/block/v1/zones/${ZONE}/volumes/${volumeId}`)).status, 204);
  });
});
