// Shared server state reads through the real SDK and the simulator: every
// activity waiting on a server in a zone is answered by one listServers call
// per tick, gone servers read as undefined, failures reach every waiter.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSimulator, type Simulator } from '../../scaleway/simulator/index.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';
import { createScalewayCloud, type CreateServerSpec, type ScalewayCloud } from '../../scaleway/cloud.ts';
import { ServerStateReads } from '../../scaleway/server-state-reads.ts';
import { TokenBucket } from '../../scaleway/rate-limiter.ts';

const ZONE = 'fr-par-2';
let sim: Simulator;
let cloud: ScalewayCloud;
let spec: CreateServerSpec;

describe('ServerStateReads', () => {
  before(async () => {
    sim = await startSimulator({ profile: 'instant' });
    cloud = createScalewayCloud({ ...TEST_CREDENTIALS, apiUrl: sim.url });
    const image = await cloud.resolveImage(ZONE, 'ubuntu_noble_gpu_os_12', 'L4-1-24G', 'sbs_volume');
    spec = { zone: ZONE, name: 'gpu', commercialType: 'L4-1-24G', imageId: image.id, tags: ['t'], rootVolume: { sizeBytes: 20_000_000_000, type: 'sbs_volume' }, publicIp: 'none' };
  });
  after(async () => sim.close());
  beforeEach(() => sim.reset());

  it('answers every waiter of a zone with one listServers call per tick', async () => {
    const servers = await Promise.all([1, 2, 3].map((i) => cloud.createServer({ ...spec, name: `gpu-${i}` })));
    const otherImage = await cloud.resolveImage('fr-par-1', 'ubuntu_noble_gpu_os_12', 'L4-1-24G', 'sbs_volume');
    const other = await cloud.createServer({ ...spec, zone: 'fr-par-1', imageId: otherImage.id, name: 'gpu-other' });
    await cloud.powerOn(ZONE, servers[0]!.id);
    const gone = servers[2]!;
    await cloud.deleteServer(ZONE, gone.id);
    sim.clearRequests();

    const reads = new ServerStateReads(cloud, 20);
    const answers = await Promise.all([...servers.map((s) => reads.next(ZONE, s.id)), reads.next(ZONE, servers[0]!.id), reads.next('fr-par-1', other.id)]);
    assert.equal(sim.countRequests({ kind: 'listServers', zone: ZONE }), 1, 'one call for the zone');
    assert.equal(sim.countRequests({ kind: 'listServers', zone: 'fr-par-1' }), 1, 'one for the other zone');
    assert.equal(sim.countRequests({ kind: 'getServer' }), 0);
    assert.equal(answers[0]?.state, 'running', 'the powered-on server, as listed now');
    assert.equal(answers[1]?.state, 'stopped');
    assert.equal(answers[2], undefined, 'a terminated server reads as gone');
    assert.equal(answers[3]?.id, servers[0]!.id, 'two waiters on one server share the read');
    assert.equal(answers[4]?.id, other.id);

    // The next round is a new call, never an answer older than the question.
    await cloud.powerOn(ZONE, servers[1]!.id);
    assert.equal((await reads.next(ZONE, servers[1]!.id))?.state, 'running');
    assert.equal(sim.countRequests({ kind: 'listServers', zone: ZONE }), 2);
    reads.close();
  });

  it('reads more than a page of servers in pages of a hundred', async () => {
    const ids = Array.from({ length: 130 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const created = await cloud.createServer(spec);
    const reads = new ServerStateReads(cloud, 5);
    const answers = await Promise.all([...ids, created.id].map((id) => reads.next(ZONE, id)));
    assert.equal(answers.filter((a) => a !== undefined).length, 1);
    assert.equal(answers.at(-1)?.id, created.id);
    assert.equal(sim.countRequests({ kind: 'listServers', zone: ZONE }), 2, '131 IDs: two calls');
    reads.close();
  });

  it('delays its waiters through a burst of 429s instead of failing them (scenario 6)', async () => {
    // A short read budget, so the adapter's own retries give up and the burst reaches the shared read.
    const throttledCloud = createScalewayCloud({ ...TEST_CREDENTIALS, apiUrl: sim.url }, { rateLimiter: new TokenBucket(), timeouts: { readBudgetMs: 200 } });
    const created = await throttledCloud.createServer(spec);
    await throttledCloud.powerOn(ZONE, created.id);
    const reads = new ServerStateReads(throttledCloud, 5);
    sim.faults.failNext({ kind: 'listServers', error: 'too_many_requests', times: 12 });
    const answers = await Promise.all([reads.next(ZONE, created.id), reads.next(ZONE, created.id)]);
    assert.deepEqual(answers.map((a) => a?.state), ['running', 'running'], 'both waiters get the state once the API lets us');
    assert.equal(sim.countRequests({ kind: 'listServers', status: 429 }), 12);
    assert.ok(throttledCloud.stats().throttled >= 12);
    reads.close();
  });

  it('hands a failed read to every waiter of the zone', async () => {
    const created = await cloud.createServer(spec);
    const reads = new ServerStateReads(cloud, 5);
    sim.faults.failNext({ kind: 'listServers', error: 'internal_error' });
    const results = await Promise.allSettled([reads.next(ZONE, created.id), reads.next(ZONE, 'missing')]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal((await reads.next(ZONE, created.id))?.id, created.id, 'the next tick reads again');
    reads.close();
  });
});
