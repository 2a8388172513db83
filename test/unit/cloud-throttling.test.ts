// The adapter's HTTP client against the simulator: throttled reads are retried
// (Retry-After honoured), writes are not, every call has a client-side timeout,
// and the counters say what was sent.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSimulator, type Simulator } from '../../scaleway/simulator/index.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';
import { createScalewayCloud, type CreateServerSpec, type ScalewayCloud } from '../../scaleway/cloud.ts';
import { CloudError } from '../../scaleway/errors.ts';
import { TokenBucket } from '../../scaleway/rate-limiter.ts';
import { requestKind } from '../../scaleway/http-client.ts';

const ZONE = 'fr-par-2';
const TOO_MANY = { type: 'too_many_requests', message: 'too many requests', help_message: 'slow down' };
let sim: Simulator;
let spec: CreateServerSpec;

function cloudWith(options: Parameters<typeof createScalewayCloud>[1] = {}): ScalewayCloud {
  return createScalewayCloud({ ...TEST_CREDENTIALS, apiUrl: sim.url }, { rateLimiter: new TokenBucket(), ...options });
}

async function caught(call: () => Promise<unknown>): Promise<CloudError> {
  try {
    await call();
  } catch (err) {
    assert.ok(err instanceof CloudError, `a CloudError, got ${String(err)}`);
    return err;
  }
  assert.fail('the call succeeded');
}

describe('the Scaleway HTTP client', () => {
  before(async () => {
    sim = await startSimulator({ profile: 'instant' });
    const image = await cloudWith().resolveImage(ZONE, 'ubuntu_noble_gpu_os_12', 'L4-1-24G', 'sbs_volume');
    spec = { zone: ZONE, name: 'gpu', commercialType: 'L4-1-24G', imageId: image.id, tags: ['t'], rootVolume: { sizeBytes: 20_000_000_000, type: 'sbs_volume' }, publicIp: 'none' };
  });
  after(async () => sim.close());
  beforeEach(() => sim.reset());

  it('retries a throttled read and counts the 429s', async () => {
    const cloud = cloudWith();
    sim.faults.failNext({ kind: 'listServers', error: 'too_many_requests', times: 3 });
    assert.deepEqual(await cloud.listServersByTags(ZONE, ['t']), []);
    assert.equal(sim.countRequests({ kind: 'listServers', status: 429 }), 3);
    const stats = cloud.stats();
    assert.equal(stats.throttled, 3);
    assert.equal(stats.calls, 4);
    assert.deepEqual(stats.byKind['GET /instance/v1/zones/{zone}/servers'], { calls: 4, throttled: 3, timedOut: 0 });
  });

  it('gives up on a read throttled past its budget, as a retryable rate-limited error', async () => {
    const cloud = cloudWith({ timeouts: { readBudgetMs: 600 } });
    sim.faults.failNext({ kind: 'listServers', error: 'too_many_requests', times: Infinity });
    const started = Date.now();
    const err = await caught(() => cloud.listServersByTags(ZONE, ['t']));
    assert.equal(err.kind, 'rate-limited');
    assert.ok(err.retryable);
    assert.ok(Date.now() - started < 2_000, 'bounded by the budget');
    assert.ok(cloud.stats().throttled >= 2, 'retried within the budget');
  });

  it('honours Retry-After in seconds, for every client of the limiter', async () => {
    const limiter = new TokenBucket();
    const a = cloudWith({ rateLimiter: limiter });
    const b = cloudWith({ rateLimiter: limiter });
    sim.faults.failNext({ kind: 'listServers', error: { status: 429, body: TOO_MANY, headers: { 'Retry-After': '1' } } });
    const started = Date.now();
    await a.listServersByTags(ZONE, ['t']);
    assert.ok(Date.now() - started >= 950, `waited ${Date.now() - started} ms`);
    // An HTTP date (whole seconds) pauses the limiter, so another client sending right after the 429 waits too.
    sim.faults.failNext({ kind: 'listServers', error: { status: 429, body: TOO_MANY, headers: { 'Retry-After': new Date(Date.now() + 2_000).toUTCString() } } });
    const second = Date.now();
    const first = a.listServersByTags(ZONE, ['t']);
    await new Promise((r) => setTimeout(r, 50));
    await b.getServer(ZONE, '00000000-0000-4000-8000-000000000000');
    assert.ok(Date.now() - second >= 900, `the other client waited ${Date.now() - second} ms`);
    await first;
  });

  it('does not retry a throttled write: it fails retryable, and nothing was created', async () => {
    const cloud = cloudWith();
    sim.faults.failNext({ kind: 'createServer', error: 'too_many_requests' });
    const err = await caught(() => cloud.createServer(spec));
    assert.equal(err.kind, 'rate-limited');
    assert.ok(err.retryable);
    assert.equal(sim.countRequests({ kind: 'createServer' }), 1);
    assert.equal(sim.servers(ZONE).length, 0);
    assert.equal(cloud.stats().byKind['POST /instance/v1/zones/{zone}/servers']?.throttled, 1);
  });

  it('gives a slow create up at the client-side timeout, while the create still lands (scenario 4)', async () => {
    const cloud = cloudWith({ timeouts: { writeMs: 150 } });
    sim.faults.addLatency({ kind: 'createServer', ms: 400, times: 1 });
    const started = Date.now();
    const err = await caught(() => cloud.createServer(spec));
    assert.ok(Date.now() - started < 350, 'the client did not wait for the answer');
    assert.equal(err.kind, 'network');
    assert.ok(err.retryable);
    assert.match(err.message, /^creating server gpu \(L4-1-24G\) in fr-par-2: no answer within .* \(client-side timeout\)$/);
    assert.equal(cloud.stats().timedOut, 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sim.servers(ZONE).length, 1, 'the server was bought anyway: a retried create must look first');
  });

  it('times a hung read out per attempt', async () => {
    const cloud = cloudWith({ timeouts: { readAttemptMs: 100, readBudgetMs: 1_000 } });
    sim.faults.addLatency({ kind: 'getServer', ms: 400, times: 1 });
    const err = await caught(() => cloud.getServer(ZONE, '00000000-0000-4000-8000-000000000000'));
    assert.equal(err.kind, 'network');
    assert.match(err.message, /client-side timeout/);
  });

  it('names request kinds without zones or IDs', () => {
    assert.equal(requestKind('GET', 'https://api.scaleway.com/instance/v1/zones/fr-par-2/servers/6bc4b49b-bd60-4d64-8ffc-9346f18ef88b/user_data/cloud-init'), 'GET /instance/v1/zones/{zone}/servers/{id}/user_data/{key}');
    assert.equal(requestKind('DELETE', 'https://api.scaleway.com/block/v1/zones/nl-ams-1/volumes/84500127-2893-4a3f-8790-dcf9e8e6213f'), 'DELETE /block/v1/zones/{zone}/volumes/{id}');
  });
});

describe('every volume of a server', () => {
  before(async () => {
    sim = await startSimulator({ profile: 'instant' });
    // RENDER-S: a GPU type with local storage (L4 has none).
    const image = await cloudWith().resolveImage(ZONE, 'ubuntu_noble_gpu_os_12', 'RENDER-S', 'l_ssd');
    spec = { zone: ZONE, name: 'gpu', commercialType: 'RENDER-S', imageId: image.id, tags: ['t'], rootVolume: { sizeBytes: 20_000_000_000, type: 'l_ssd' }, publicIp: 'none' };
  });
  after(async () => sim.close());

  it('lists a local root volume and deletes it on the Instance API once its stopped server is deleted', async () => {
    const cloud = cloudWith();
    const server = await cloud.createServer(spec);
    assert.deepEqual(server.volumes.map((v) => v.type), ['l_ssd']);
    const volumeId = server.volumes[0]?.id ?? '';
    assert.equal(await cloud.deleteServer(ZONE, server.id), true);
    assert.equal(await cloud.deleteLocalVolume(ZONE, volumeId), true, 'DELETE /servers left it behind');
    assert.equal(await cloud.deleteLocalVolume(ZONE, volumeId), false, 'already gone');
  });
});
