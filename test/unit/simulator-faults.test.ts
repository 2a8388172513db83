// Fault injection through the library API and the /_sim HTTP endpoints, plus request inspection.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSimulator, type Simulator } from '../../scaleway/simulator/index.ts';
import { simFetch } from '../../scaleway/simulator/testing.ts';

const ZONE = 'fr-par-2';
const SERVERS = `/instance/v1/zones/${ZONE}/servers`;
let sim: Simulator;
let image: string;

async function createL4(commercialType = 'L4-1-24G'): Promise<{ status: number; id: string; body: unknown }> {
  const response = await simFetch(sim, 'POST', SERVERS, { commercial_type: commercialType, image, tags: ['t'] });
  return { status: response.status, id: (response.body as { server?: { id: string } }).server?.id ?? '', body: response.body };
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${sim.url}/_sim${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('simulator faults', () => {
  before(async () => {
    sim = await startSimulator({ profile: 'instant' });
    const { body } = await simFetch(sim, 'GET', `/marketplace/v2/local-images?image_label=ubuntu_noble_gpu_os_12&zone=${ZONE}&type=instance_sbs`);
    image = (body as { local_images: { id: string }[] }).local_images[0]?.id ?? '';
  });
  after(async () => sim.close());
  beforeEach(() => sim.reset());

  it('fails exactly the next N matching calls, then lets calls through', async () => {
    sim.faults.failNext({ kind: 'createServer', zone: ZONE, commercialType: 'L4-1-24G', error: 'out_of_stock', times: 2 });
    assert.equal((await createL4('L4-2-24G')).status, 201, 'another type is not matched');
    assert.equal((await createL4()).status, 503);
    assert.equal((await createL4()).status, 503);
    assert.equal((await createL4()).status, 201);
  });

  it('injects quotas_exceeded and permissions_denied in the shapes the SDK parses', async () => {
    sim.faults.failNext({ kind: 'createServer', error: 'quotas_exceeded' });
    sim.faults.failNext({ kind: 'createServer', error: 'permissions_denied' });
    const quota = await createL4();
    assert.equal(quota.status, 403);
    const quotaBody = quota.body as { type: string; details: { resource: string; quota: number; current: number }[] };
    assert.equal(quotaBody.type, 'quotas_exceeded');
    assert.equal(quotaBody.details[0]?.resource, 'instances_l4_1_24g');
    const denied = await createL4();
    assert.equal(denied.status, 403);
    assert.equal((denied.body as { type: string }).type, 'permissions_denied');
  });

  it('answers 429 without Retry-After and 5xx on demand', async () => {
    sim.faults.failNext({ kind: 'getServer', error: 'too_many_requests' });
    sim.faults.failNext({ kind: 'getServer', error: 'bad_gateway' });
    const { id } = await createL4();
    const limited = await simFetch(sim, 'GET', `${SERVERS}/${id}`);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), null);
    assert.equal((limited.body as { type: string }).type, 'too_many_requests');
    assert.equal((await simFetch(sim, 'GET', `${SERVERS}/${id}`)).status, 502);
    assert.equal((await simFetch(sim, 'GET', `${SERVERS}/${id}`)).status, 200);
  });

  it('targets one action of one server', async () => {
    const { id } = await createL4();
    sim.faults.failNext({ kind: 'serverAction', action: 'terminate', serverId: id, error: 'internal_error', times: Infinity });
    assert.equal((await simFetch(sim, 'POST', `${SERVERS}/${id}/action`, { action: 'poweron' })).status, 202);
    assert.equal((await simFetch(sim, 'POST', `${SERVERS}/${id}/action`, { action: 'terminate' })).status, 500);
    assert.equal((await simFetch(sim, 'POST', `${SERVERS}/${id}/action`, { action: 'terminate' })).status, 500);
    sim.faults.clear();
    assert.equal((await simFetch(sim, 'POST', `${SERVERS}/${id}/action`, { action: 'terminate' })).status, 202);
  });

  it('leaves a server stuck in starting until released', async () => {
    sim.faults.stickInStarting({ commercialType: 'L4-1-24G', times: 1 });
    const { id } = await createL4();
    await simFetch(sim, 'POST', `${SERVERS}/${id}/action`, { action: 'poweron' });
    const stuck = (await simFetch(sim, 'GET', `${SERVERS}/${id}`)).body as { server: { state: string; state_detail: string } };
    assert.deepEqual([stuck.server.state, stuck.server.state_detail], ['starting', 'provisioning node']);
    assert.equal((await simFetch(sim, 'POST', `${SERVERS}/${id}/action`, { action: 'terminate' })).status, 400, 'transient');
    sim.releaseStuck(id);
    const released = (await simFetch(sim, 'GET', `${SERVERS}/${id}`)).body as { server: { state: string } };
    assert.equal(released.server.state, 'running');
  });

  it('answers locked for mutations of a locked server', async () => {
    const { id } = await createL4();
    sim.faults.lock(id);
    const refused = await simFetch(sim, 'POST', `${SERVERS}/${id}/action`, { action: 'poweron' });
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.body, { type: 'locked', message: 'resource is locked', resource: 'instance_server', resource_id: id });
    assert.equal((await simFetch(sim, 'GET', `${SERVERS}/${id}`)).status, 200, 'reads still work');
    sim.faults.unlock(id);
    assert.equal((await simFetch(sim, 'POST', `${SERVERS}/${id}/action`, { action: 'poweron' })).status, 202);
  });

  it('adds latency to matching calls only', async () => {
    sim.faults.addLatency({ kind: 'listServers', ms: 150, times: 1 });
    let started = performance.now();
    await simFetch(sim, 'GET', SERVERS);
    assert.ok(performance.now() - started >= 140, 'the slowed call waited');
    started = performance.now();
    await simFetch(sim, 'GET', SERVERS);
    assert.ok(performance.now() - started < 140, 'the rule was used up');
  });

  it('records every request with its call kind and status', async () => {
    const { id } = await createL4();
    await simFetch(sim, 'GET', `${SERVERS}/${id}`);
    await simFetch(sim, 'GET', `${SERVERS}/00000000-0000-4000-8000-000000000000`);
    assert.deepEqual(sim.requests.map((entry) => [entry.method, entry.kind, entry.status]), [
      ['POST', 'createServer', 201],
      ['GET', 'getServer', 200],
      ['GET', 'getServer', 404],
    ]);
    assert.equal(sim.requests[0]?.commercialType, 'L4-1-24G');
    assert.equal(sim.countRequests({ kind: 'getServer' }), 2);
    assert.equal(sim.countRequests({ status: 404 }), 1);
    assert.equal(sim.servers(ZONE).length, 1);
    assert.equal(sim.volumes(ZONE).length, 1);
  });

  it('offers the same controls over HTTP under /_sim', async () => {
    assert.equal((await admin('POST', '/faults/fail', { kind: 'createServer', error: 'out_of_stock', times: 1 })).status, 200);
    assert.equal((await createL4()).status, 503);
    assert.equal((await admin('POST', '/faults/stock-out', { zone: ZONE, commercialType: 'L4-1-24G' })).status, 200);
    assert.equal((await createL4()).status, 503);
    assert.equal((await admin('DELETE', '/faults/stock-out', { zone: ZONE, commercialType: 'L4-1-24G' })).status, 200);
    const { id } = await createL4();
    assert.ok(id);
    assert.equal((await admin('POST', '/faults/lock', { serverId: id })).status, 200);
    assert.equal((await simFetch(sim, 'DELETE', `${SERVERS}/${id}`)).status, 403);
    assert.equal((await admin('DELETE', '/faults')).status, 200);
    assert.equal((await simFetch(sim, 'DELETE', `${SERVERS}/${id}`)).status, 204);

    const requests = await admin('GET', '/requests');
    assert.deepEqual((requests.body as { requests: { status: number }[] }).requests.map((entry) => entry.status), [503, 503, 201, 403, 204]);
    const state = await admin('GET', '/state');
    assert.deepEqual((state.body as { servers: unknown[] }).servers, []);
    assert.equal((await admin('POST', '/faults/fail', { error: 'no_such_error' })).status, 400);
    assert.equal((await admin('POST', '/reset')).status, 200);
    assert.equal(sim.requests.length, 0);
  });

  it('closes without waiting for delayed answers', async () => {
    const slow = await startSimulator({ profile: 'instant' });
    slow.faults.addLatency({ ms: 60_000 });
    const pending = simFetch(slow, 'GET', '/instance/v1/zones/fr-par-1/servers').catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await slow.close();
    assert.ok(performance.now() - started < 1_000);
    await pending;
  });
});
