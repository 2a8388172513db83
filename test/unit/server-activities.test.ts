// The server activities against the simulator through the real SDK: lookups and
// releases in every zone, by our managed, cluster and NodeClaim tags together;
// a create still in flight resolved to one server; every volume released; a
// cleanup Scaleway holds up said on the NodeClaim and retried.
// The apiserver is an in-memory stand-in here (only the NodeClaim, NodeClass and
// Events these activities touch); the integration suite runs them on a real one.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import type { KubeCredentials } from '../../kube/credentials.ts';
import { startSimulator, type Simulator } from '../../scaleway/simulator/index.ts';
import { TEST_CREDENTIALS, simFetch } from '../../scaleway/simulator/testing.ts';
import { createScalewayCloud, type CreateServerSpec, type ScalewayCloud } from '../../scaleway/cloud.ts';
import { TokenBucket } from '../../scaleway/rate-limiter.ts';
import { CatalogCache, ImageCache, UnavailableOfferings } from '../../scaleway/caches.ts';
import { ServerStateReads } from '../../scaleway/server-state-reads.ts';
import { KubeError, type KubeRest } from '../../kube/rest.ts';
import { clusterPath } from '../../kube/objects.ts';
import { ANNOTATION_SERVER_CREATE_ATTEMPTED, CONDITION, NODECLAIM_GVR, REASON, SCALEWAY_NODECLASS_GVR, TAG_PREFIX } from '../../kube/api/constants.ts';
import { exampleNodeClaim, exampleScalewayNodeClass } from '../../kube/api/examples.ts';
import type { ActivityDeps } from '../../activities/deps.ts';
import { nodeClaimUidTag, resourceTags, rootVolumeName } from '../../activities/deps.ts';
import type { CreateServerResult, NodeClaimRef, Offering } from '../../activities/contract.ts';
import { createServerActivity, releaseNodeClaimServers, serverToKeep } from '../../activities/servers.ts';
import { readNodeClaimSpec } from '../../activities/nodeclass.ts';
import { SharedReads } from '../../activities/shared-reads.ts';

const CLUSTER = 'test';
const UID = '7f1e2d3c-4b5a-4968-8776-655443322110';
const REF: NodeClaimRef = { name: 'gpu-x7k2p', uid: UID };
const OFFERING: Offering = { zone: 'fr-par-2', commercialType: 'L4-1-24G', hourlyPriceEur: 0.75, gpuCount: 1 };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
function merge(target: Json, patch: Json): Json {
  const out: Json = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = isObject(v) && isObject(out[k]) ? merge(out[k], v) : v;
  }
  return out;
}

/**
 * Just enough apiserver for these activities: objects by path, merge patches (a resourceVersion in the patch is
 * a precondition; each write moves it), the status subresource, Events; GETs counted.
 */
class MemoryKube implements KubeRest {
  readonly credentials = undefined as unknown as KubeCredentials;
  readonly objects = new Map<string, Json>();
  readonly events: Json[] = [];
  gets = 0;
  get<T>(path: string): Promise<T> {
    this.gets++;
    const found = this.objects.get(path);
    if (!found) return Promise.reject(new KubeError(404, 'NotFound', `${path} not found`));
    return Promise.resolve(structuredClone(found) as T);
  }
  async getOrUndefined<T>(path: string): Promise<T | undefined> {
    return this.objects.has(path) ? this.get<T>(path) : undefined;
  }
  post<T>(path: string, body: unknown): Promise<T> {
    if (path.endsWith('/events')) this.events.push(body as Json);
    return Promise.resolve(body as T);
  }
  put<T>(path: string, body: unknown): Promise<T> {
    this.objects.set(path, body as Json);
    return Promise.resolve(body as T);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    const status = path.endsWith('/status');
    const key = status ? path.slice(0, -'/status'.length) : path;
    const current = this.objects.get(key);
    if (!current) return Promise.reject(new KubeError(404, 'NotFound', `${key} not found`));
    const patch = body as Json;
    const currentVersion = (current.metadata as Json | undefined)?.resourceVersion;
    const wanted = (patch.metadata as Json | undefined)?.resourceVersion;
    if (wanted !== undefined && wanted !== currentVersion) return Promise.reject(new KubeError(409, 'Conflict', `${key}: the object has been modified`));
    const merged = status ? { ...current, status: merge((current.status ?? {}) as Json, (patch.status ?? {}) as Json) } : merge(current, { ...patch, metadata: { ...(patch.metadata as Json), resourceVersion: undefined } });
    const next = { ...merged, metadata: { ...(merged.metadata as Json), resourceVersion: String(Number(currentVersion ?? 0) + 1) } };
    this.objects.set(key, next);
    return Promise.resolve(next as T);
  }
  delete(path: string): Promise<void> {
    this.objects.delete(path);
    return Promise.resolve();
  }
}

const nodeClaimPath = clusterPath(NODECLAIM_GVR, REF.name);

let sim: Simulator;
let cloud: ScalewayCloud;
let kube: MemoryKube;
let deps: ActivityDeps;
const env = new MockActivityEnvironment();

function putNodeClaim(annotations: Record<string, string> = {}, extra: Json = {}): void {
  const nodeClaim = exampleNodeClaim(REF.name);
  kube.objects.set(nodeClaimPath, {
    ...nodeClaim,
    metadata: { ...nodeClaim.metadata, uid: UID, resourceVersion: '1', generation: 1, annotations: { ...nodeClaim.metadata.annotations, ...annotations }, ...extra },
    status: {},
  });
}

function putNodeClass(zones: string[]): void {
  const nodeClass = exampleScalewayNodeClass('gpu');
  kube.objects.set(clusterPath(SCALEWAY_NODECLASS_GVR, 'gpu'), {
    ...nodeClass,
    metadata: { ...nodeClass.metadata, generation: 1, uid: 'nc-uid' },
    spec: { ...nodeClass.spec, zones, placementGroupID: undefined, securityGroupID: undefined, projectID: undefined, publicIP: 'ipv4' },
    status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: '2026-07-30T12:00:00Z', observedGeneration: 1 }] },
  });
}

/** A server as a create of ours makes it, straight through the adapter. */
async function ourServer(zone: string, opts: { tags?: string[]; type?: string; volume?: 'sbs_volume' | 'l_ssd' } = {}) {
  const commercialType = opts.type ?? 'L4-1-24G';
  const volume = opts.volume ?? 'sbs_volume';
  const image = await cloud.resolveImage(zone, 'ubuntu_noble_gpu_os_12', commercialType, volume);
  const spec: CreateServerSpec = {
    zone,
    name: REF.name,
    commercialType,
    imageId: image.id,
    tags: opts.tags ?? resourceTags(CLUSTER, REF, 'gpu'),
    rootVolume: { sizeBytes: 20_000_000_000, type: volume, ...(volume === 'sbs_volume' ? { name: rootVolumeName(CLUSTER, REF) } : {}) },
    publicIp: 'none',
  };
  return cloud.createServer(spec);
}

async function failureOf(work: () => Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await work();
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('it succeeded');
}

const createServer = (offering = OFFERING, using: ActivityDeps = deps): Promise<CreateServerResult> => env.run(createServerActivity(using), { ref: REF, offering, nodeClassName: 'gpu' });
const release = (hint: Parameters<typeof releaseNodeClaimServers>[2] = {}) => env.run(() => releaseNodeClaimServers(deps, REF, hint));
const condition = (type: string): Json | undefined => ((kube.objects.get(nodeClaimPath)?.status as Json | undefined)?.conditions as Json[] | undefined)?.find((c) => c.type === type);

describe('server activities', () => {
  before(async () => {
    sim = await startSimulator({ profile: 'instant' });
    cloud = createScalewayCloud({ ...TEST_CREDENTIALS, apiUrl: sim.url }, { rateLimiter: new TokenBucket() });
  });
  after(async () => sim.close());
  beforeEach(() => {
    sim.reset();
    kube = new MemoryKube();
    deps = {
      cloud,
      kube,
      catalog: new CatalogCache(cloud),
      images: new ImageCache(cloud),
      unavailable: new UnavailableOfferings(),
      serverStates: new ServerStateReads(cloud, 10),
      clusterName: CLUSTER,
      temporal: undefined as unknown as ActivityDeps['temporal'],
      pollIntervalMs: 10,
      now: () => new Date(),
    };
    putNodeClass(['fr-par-2', 'fr-par-1']);
  });

  describe('createServer', () => {
    it('refuses to buy for a NodeClaim being deleted (scenario 7)', async () => {
      putNodeClaim({}, { deletionTimestamp: '2026-07-30T12:00:00Z', finalizers: ['karpenter.sh/termination'] });
      const failure = await failureOf(() => createServer());
      assert.equal(failure.type, 'NodeClaimDeleting');
      assert.equal(failure.nonRetryable, true);
      assert.equal(sim.countRequests({ kind: 'createServer' }), 0);
    });

    it('keeps NodeClaimNotFound for a NodeClaim that is gone', async () => {
      const failure = await failureOf(() => createServer());
      assert.equal(failure.type, 'NodeClaimNotFound');
    });

    it('finds the server an earlier run made in another zone of the NodeClass (scenario 3)', async () => {
      putNodeClaim({ [ANNOTATION_SERVER_CREATE_ATTEMPTED]: '2026-07-30T12:00:00Z' });
      const earlier = await ourServer('fr-par-1');
      const result = await createServer();
      assert.ok(result.ok);
      assert.equal(result.reused, true);
      assert.equal(result.server.serverId, earlier.id);
      assert.equal(result.server.zone, 'fr-par-1');
      assert.equal(sim.countRequests({ kind: 'createServer' }), 1, 'only the earlier create');
    });

    it('matches the managed, cluster and NodeClaim tags together, not the UID alone (scenario 9)', async () => {
      putNodeClaim({ [ANNOTATION_SERVER_CREATE_ATTEMPTED]: '2026-07-30T12:00:00Z' });
      const otherCluster = await ourServer('fr-par-2', { tags: [`${TAG_PREFIX}/managed`, `${TAG_PREFIX}/cluster=other`, nodeClaimUidTag(UID)] });
      const byHand = await ourServer('fr-par-2', { tags: [nodeClaimUidTag(UID)] });
      sim.clearRequests();
      const result = await createServer();
      assert.ok(result.ok);
      assert.equal(result.reused, false);
      assert.notEqual(result.server.serverId, otherCluster.id);
      assert.notEqual(result.server.serverId, byHand.id);
      const listed = sim.requests.filter((r) => r.kind === 'listServers');
      assert.ok(listed.length >= 2, 'every zone of the NodeClass is looked in');
      for (const r of listed) assert.match(decodeURIComponent(r.query), new RegExp(`tags=${TAG_PREFIX}/managed,${TAG_PREFIX}/cluster=${CLUSTER},${TAG_PREFIX}/nodeclaim-uid=${UID}`));
    });

    it('makes no listing on a first attempt and records it before creating', async () => {
      putNodeClaim();
      const result = await createServer();
      assert.ok(result.ok && !result.reused);
      assert.equal(sim.countRequests({ kind: 'listServers' }), 0);
      assert.ok(((kube.objects.get(nodeClaimPath)?.metadata as Json).annotations as Json)[ANNOTATION_SERVER_CREATE_ATTEMPTED]);
    });

    it("marks its first attempt on the first task's NodeClaim read, under its resourceVersion: one GET fewer", async () => {
      putNodeClaim();
      const reads = new SharedReads();
      const shared = { ...deps, reads };
      assert.ok(await readNodeClaimSpec(shared, REF), "the first task's read");
      const before = kube.gets;
      const result = await createServer(OFFERING, shared);
      assert.ok(result.ok && !result.reused);
      assert.equal(kube.gets - before, 1, 'the NodeClass only: the NodeClaim came from the shared read');
      assert.equal(sim.countRequests({ kind: 'listServers' }), 0);
      assert.ok(((kube.objects.get(nodeClaimPath)?.metadata as Json).annotations as Json)[ANNOTATION_SERVER_CREATE_ATTEMPTED]);
    });

    it('reads the NodeClaim afresh when it changed since the shared read: deleted, or an earlier attempt marked', async () => {
      putNodeClaim();
      const shared = { ...deps, reads: new SharedReads() };
      await readNodeClaimSpec(shared, REF);
      // Deleted after the first task read it: the mark's precondition fails, the fresh read says so, nothing is bought.
      await kube.patch(nodeClaimPath, { metadata: { deletionTimestamp: '2026-07-30T12:00:00Z' } });
      const failure = await failureOf(() => createServer(OFFERING, shared));
      assert.equal(failure.type, 'NodeClaimDeleting');
      assert.equal(sim.countRequests({ kind: 'createServer' }), 0);

      // Marked by an earlier attempt after the read, and its server made: found, not made twice.
      putNodeClaim();
      const again = { ...deps, reads: new SharedReads() };
      await readNodeClaimSpec(again, REF);
      await kube.patch(nodeClaimPath, { metadata: { annotations: { [ANNOTATION_SERVER_CREATE_ATTEMPTED]: '2026-07-30T12:00:00Z' } } });
      const earlier = await ourServer('fr-par-2');
      const result = await createServer(OFFERING, again);
      assert.ok(result.ok);
      assert.equal(result.reused, true);
      assert.equal(result.server.serverId, earlier.id);
      assert.equal(sim.countRequests({ kind: 'createServer' }), 1, 'only the earlier create');
    });

    it('keeps one server when an earlier create lands while a retry creates (scenario 4)', async () => {
      putNodeClaim({ [ANNOTATION_SERVER_CREATE_ATTEMPTED]: '2026-07-30T12:00:00Z' });
      // The retry's own create is slow; meanwhile the earlier attempt's create lands.
      sim.faults.addLatency({ kind: 'createServer', ms: 400, times: 1 });
      const retry = createServer();
      await new Promise((r) => setTimeout(r, 150));
      const landed = await ourServer('fr-par-1');
      const result = await retry;
      assert.ok(result.ok);
      assert.equal(result.server.serverId, landed.id, 'the oldest is kept');
      assert.equal(result.reused, true);
      const left = sim.servers();
      assert.deepEqual(left.map((s) => s.id), [landed.id], 'the retry\'s own server was deleted');
      assert.equal(sim.volumes('fr-par-2').length, 0, 'with its root volume');
    });

    it('picks the same server to keep whatever the order: oldest, then smallest ID', () => {
      const at = (ms: number) => new Date(ms);
      const base = { zone: 'fr-par-2', name: 'n', commercialType: 't', state: 'stopped', stateDetail: '', tags: [], rootVolume: undefined, volumes: [], privateIp: undefined, publicIp: undefined };
      const a = { ...base, id: 'b', createdAt: at(1) };
      const b = { ...base, id: 'a', createdAt: at(1) };
      const c = { ...base, id: '0', createdAt: at(2) };
      assert.equal(serverToKeep([c, a, b])?.id, 'a');
      assert.equal(serverToKeep([a, c])?.id, 'b');
    });
  });

  describe('releaseNodeClaimServers', () => {
    it('releases servers and volumes in every zone once the NodeClaim is gone (scenario 3)', async () => {
      const running = await ourServer('fr-par-1');
      await cloud.powerOn('fr-par-1', running.id);
      await ourServer('pl-waw-2'); // stopped: never powered on
      const released = await release();
      assert.deepEqual(released, { servers: 2, volumes: 2 });
      assert.equal(sim.servers().length, 0);
      assert.equal(sim.volumes().length, 0, 'both SBS root volumes, found by server and by name');
    });

    it('deletes the local volumes a stopped server leaves behind (scenario 8)', async () => {
      putNodeClaim();
      putNodeClass(['fr-par-2']);
      const server = await ourServer('fr-par-2', { type: 'RENDER-S', volume: 'l_ssd' });
      const localId = server.volumes[0]?.id ?? '';
      const released = await release();
      assert.deepEqual(released, { servers: 1, volumes: 1 });
      assert.equal((await simFetch(sim, 'GET', `/instance/v1/zones/fr-par-2/volumes/${localId}`)).status, 404);
      assert.equal(sim.countRequests({ kind: 'listServers', zone: 'fr-par-1' }), 0, 'only the NodeClass zones');
    });

    it('waits on a server stuck starting, says so on the NodeClaim, and finishes later (scenario 2)', async () => {
      putNodeClaim();
      const server = await ourServer('fr-par-2');
      sim.faults.stickInStarting({ serverId: server.id });
      await cloud.powerOn('fr-par-2', server.id);
      const failure = await failureOf(() => release({ waitMs: 200 }));
      assert.equal(failure.type, 'CleanupPending');
      assert.equal(failure.nonRetryable, false);
      const cond = condition(CONDITION.InstanceTerminating);
      assert.equal(cond?.status, 'True');
      assert.equal(cond?.reason, REASON.WaitingOnServer);
      assert.match(String(cond?.message), new RegExp(`server ${server.id} in fr-par-2 is starting`));
      const events = kube.events.filter((e) => e.reason === REASON.WaitingOnServer);
      assert.equal(events.length, 1, 'one Event per reason per attempt, not one per poll');
      assert.equal(events[0]?.type, 'Warning');

      sim.releaseStuck(server.id);
      assert.deepEqual(await release(), { servers: 1, volumes: 1 });
      assert.equal(condition(CONDITION.InstanceTerminating), undefined, 'cleared once done');
    });

    it('waits on a locked server (scenario 2)', async () => {
      putNodeClaim();
      const server = await ourServer('fr-par-2');
      await cloud.powerOn('fr-par-2', server.id);
      sim.faults.lock(server.id);
      const failure = await failureOf(() => release({ waitMs: 150 }));
      assert.equal(failure.type, 'CleanupPending');
      assert.match(String(condition(CONDITION.InstanceTerminating)?.message), /locked by Scaleway/);
      sim.faults.unlock(server.id);
      assert.deepEqual(await release(), { servers: 1, volumes: 1 });
    });

    it('retries a volume Scaleway will not delete yet (scenario 2)', async () => {
      putNodeClaim();
      const server = await ourServer('fr-par-2');
      const rule = sim.faults.failNext({
        kind: 'deleteVolume',
        error: { status: 412, body: { type: 'precondition_failed', message: 'precondition is not respected', precondition: 'resource_still_in_use', help_message: 'still detaching' } },
        times: Infinity,
      });
      const failure = await failureOf(() => release({ waitMs: 150 }));
      assert.equal(failure.type, 'CleanupPending');
      const cond = condition(CONDITION.InstanceTerminating);
      assert.equal(cond?.reason, REASON.WaitingOnVolume);
      assert.match(String(cond?.message), new RegExp(`volume ${server.rootVolume?.id ?? ''} in fr-par-2`));
      assert.equal(sim.servers().length, 0, 'the server went meanwhile');
      sim.faults.clear(rule);
      assert.deepEqual(await release(), { servers: 0, volumes: 1 }, 'the next attempt finds the volume by its name');
    });
  });
});
