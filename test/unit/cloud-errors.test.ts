// Cloud errors from the real SDK against the simulator: each Scaleway error
// becomes a CloudError with a kind, retryability, and a message saying what we
// were doing.
import assert from 'node:assert/strict';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSimulator, type FaultErrorName, type Simulator } from '../../scaleway/simulator/index.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';
import { createScalewayCloud, type CreateServerSpec, type ScalewayCloud } from '../../scaleway/cloud.ts';
import { CloudError, cloudCall, toCloudError, type CloudErrorKind } from '../../scaleway/errors.ts';
import { loadCatalog } from '../../scaleway/catalog/catalog.ts';

const ZONE = 'fr-par-2';
let sim: Simulator;
let cloud: ScalewayCloud;
let spec: CreateServerSpec;

async function caught(call: () => Promise<unknown>): Promise<CloudError> {
  try {
    await call();
  } catch (err) {
    assert.ok(err instanceof CloudError, `a CloudError, got ${String(err)}`);
    return err;
  }
  assert.fail('the call succeeded');
}

/** A localhost port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  return port;
}

describe('cloud errors through the SDK and the simulator', () => {
  before(async () => {
    sim = await startSimulator({ profile: 'instant' });
    cloud = createScalewayCloud({ ...TEST_CREDENTIALS, apiUrl: sim.url });
    const image = await cloud.resolveImage(ZONE, 'ubuntu_noble_gpu_os_12', 'L4-1-24G', 'sbs_volume');
    spec = {
      zone: ZONE,
      name: 'gpu-x',
      commercialType: 'L4-1-24G',
      imageId: image.id,
      tags: ['scw-karpenter-test'],
      rootVolume: { sizeBytes: 20_000_000_000, type: 'sbs_volume' },
      publicIp: 'none',
    };
  });
  after(async () => sim.close());
  beforeEach(() => sim.reset());

  const table: [FaultErrorName, CloudErrorKind, number, boolean, boolean][] = [
    // injected error, kind, HTTP status, retryable, capacity error
    ['out_of_stock', 'out-of-stock', 503, false, true],
    ['quotas_exceeded', 'quota-exceeded', 403, false, true],
    ['too_many_requests', 'rate-limited', 429, true, false],
    ['internal_error', 'server-error', 500, true, false],
    ['bad_gateway', 'server-error', 502, true, false],
    ['service_unavailable', 'server-error', 503, true, false],
    ['gateway_timeout', 'server-error', 504, true, false],
    ['permissions_denied', 'permission-denied', 403, false, false],
    ['invalid_arguments', 'invalid-arguments', 400, false, false],
    ['locked', 'locked', 403, false, false],
    ['transient_state', 'transient-state', 400, true, false],
    ['not_found', 'not-found', 404, false, false],
  ];
  for (const [error, kind, status, retryable, capacityError] of table) {
    it(`maps ${error} on createServer to ${kind}`, async () => {
      sim.faults.failNext({ kind: 'createServer', zone: ZONE, commercialType: 'L4-1-24G', error });
      const err = await caught(() => cloud.createServer(spec));
      assert.equal(err.kind, kind);
      assert.equal(err.status, status);
      assert.equal(err.retryable, retryable);
      assert.equal(err.capacityError, capacityError);
      assert.ok(err.message.startsWith('creating server gpu-x (L4-1-24G) in fr-par-2: '), err.message);
      assert.ok(err.message.length > 'creating server gpu-x (L4-1-24G) in fr-par-2: '.length + 3, 'the API detail follows');
      assert.ok(err.cause instanceof Error, 'the SDK error is kept as the cause');
      // The fault was consumed: the same call now succeeds.
      const server = await cloud.createServer(spec);
      assert.equal(server.commercialType, 'L4-1-24G');
    });
  }

  it('says out of stock and names the resource', async () => {
    sim.faults.failNext({ kind: 'createServer', error: 'out_of_stock' });
    const err = await caught(() => cloud.createServer(spec));
    assert.match(err.message, /^creating server gpu-x \(L4-1-24G\) in fr-par-2: .*out of stock.*\(server\)$/);
    assert.equal(err.resource, 'server');
  });

  it('answers out_of_stock for a type the simulator has stocked out, without an injected failure', async () => {
    sim.faults.stockOut(ZONE, 'L4-1-24G');
    const err = await caught(() => cloud.createServer(spec));
    assert.equal(err.kind, 'out-of-stock');
    assert.ok(err.capacityError);
  });

  it('names the action and the server of a failing server action', async () => {
    const server = await cloud.createServer(spec);
    sim.faults.failNext({ kind: 'serverAction', action: 'poweron', error: 'transient_state' });
    const err = await caught(() => cloud.powerOn(ZONE, server.id));
    assert.equal(err.kind, 'transient-state');
    assert.ok(err.retryable);
    assert.ok(err.message.startsWith(`powering on server ${server.id} in fr-par-2: `), err.message);
    assert.equal(err.resource, 'instance_server');
    await cloud.powerOn(ZONE, server.id);
    assert.equal((await cloud.getServer(ZONE, server.id))?.state, 'running');
  });

  it('fails a catalog read with what it was reading', async () => {
    // (A 429 on a read is retried inside the adapter: cloud-throttling.test.ts.)
    sim.faults.failNext({ kind: 'getServerTypesAvailability', zone: ZONE, error: 'internal_error' });
    const err = await caught(() => cloud.listServerTypes(ZONE));
    assert.equal(err.kind, 'server-error');
    assert.ok(err.message.startsWith('reading server availability in fr-par-2: '), err.message);
  });

  it('reports an API nobody answers as a retryable network error', async () => {
    const port = await closedPort();
    const dead = createScalewayCloud({ ...TEST_CREDENTIALS, apiUrl: `http://127.0.0.1:${port}` });
    const err = await caught(() => dead.listServerTypes(ZONE));
    assert.equal(err.kind, 'network');
    assert.ok(err.retryable);
    assert.ok(!err.capacityError);
    assert.ok(err.message.startsWith('listing server types in fr-par-2: Scaleway API unreachable'), err.message);
    assert.match(err.message, /ECONNREFUSED/);
  });

  it('reads an unknown server as undefined', async () => {
    assert.equal(await cloud.getServer(ZONE, '00000000-0000-4000-8000-000000000000'), undefined);
  });

  it('still throws a not-found on calls that must find their target', async () => {
    const err = await caught(() => cloud.powerOn(ZONE, '00000000-0000-4000-8000-000000000000'));
    assert.equal(err.kind, 'not-found');
  });

  it('deletes a volume twice without complaint', async () => {
    const name = 'scw-karpenter-test-root';
    const server = await cloud.createServer({ ...spec, rootVolume: { ...spec.rootVolume, name } });
    const volumeId = server.rootVolume?.id;
    assert.ok(volumeId);
    await cloud.powerOn(ZONE, server.id);
    await cloud.terminate(ZONE, server.id);
    assert.equal(await cloud.getServer(ZONE, server.id), undefined, 'terminated servers are gone');
    const [volume] = await cloud.listVolumesByName(ZONE, name);
    assert.equal(volume?.id, volumeId, 'the SBS root volume is found by the name it was created with');
    assert.equal(volume.referencedBy, 0, 'the SBS root volume outlives its server');
    assert.equal(await cloud.deleteVolume(ZONE, volumeId), true);
    assert.equal(await cloud.deleteVolume(ZONE, volumeId), false, 'the second delete finds it gone');
    assert.deepEqual(await cloud.listVolumesByName(ZONE, name), []);
  });

  it('reads every page of the zone catalog, with availability', async () => {
    sim.clearRequests();
    const offers = await cloud.listServerTypes(ZONE);
    const catalog = loadCatalog();
    const expected = catalog.typesInZone(ZONE);
    assert.equal(offers.length, expected.length);
    assert.deepEqual(new Set(offers.map((o) => o.commercialType)), new Set(expected));
    // The API's page size is 50: more than one page each for products and availability.
    const pages = Math.ceil(expected.length / 50);
    assert.ok(pages > 1);
    assert.equal(sim.countRequests({ kind: 'listServersTypes' }), pages);
    assert.equal(sim.countRequests({ kind: 'getServerTypesAvailability' }), pages);
    for (const o of offers) {
      const recorded = catalog.offer(ZONE, o.commercialType)!;
      assert.equal(o.availability, recorded.availability, o.commercialType);
      assert.equal(o.hourlyPriceEur, recorded.hourlyPrice, o.commercialType);
      assert.equal(o.gpuCount, recorded.facts.gpu, o.commercialType);
    }
  });
});

describe('toCloudError and cloudCall without the SDK', () => {
  it('passes a CloudError through unchanged', () => {
    const original = new CloudError('locked', 'x');
    assert.equal(toCloudError(original, 'doing'), original);
  });

  it('wraps anything else as unknown, keeping the cause', () => {
    const cause = new Error('surprise');
    const err = toCloudError(cause, 'tagging volume v in fr-par-2');
    assert.equal(err.kind, 'unknown');
    assert.equal(err.message, 'tagging volume v in fr-par-2: surprise');
    assert.equal(err.cause, cause);
    assert.ok(!err.retryable);
    assert.equal(toCloudError('text', 'doing').message, 'doing: text');
  });

  it('treats connection error codes as network errors', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    assert.equal(toCloudError(reset, 'doing').kind, 'network');
    assert.equal(toCloudError(new TypeError('fetch failed', { cause: new Error('other side closed') }), 'doing').kind, 'network');
    assert.equal(toCloudError(new TypeError('x is not a function'), 'doing').kind, 'unknown');
  });

  it('returns the value of a successful call and translates a failure', async () => {
    assert.equal(await cloudCall('doing', () => Promise.resolve(42)), 42);
    await assert.rejects(cloudCall('reading server s in fr-par-2', () => Promise.reject(new Error('nope'))), (err: unknown) => {
      assert.ok(err instanceof CloudError);
      assert.equal(err.message, 'reading server s in fr-par-2: nope');
      return true;
    });
  });
});
