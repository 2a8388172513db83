// Garbage collection's planning rules, on hand-made inventories: what is an
// orphan, the grace period, and the guard that keeps it off every resource
// without our managed and cluster marks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isOurServer,
  planGarbage,
  volumeNodeClaimUid,
  type GarbageInventory,
  type NodeClaimFacts,
  type ServerFacts,
  type TokenFacts,
  type VolumeFacts,
} from '../../activities/garbage-collection-plan.ts';
import { resourceTags, rootVolumeName } from '../../activities/deps.ts';

const NOW = new Date('2026-12-02T08:00:00Z');
const GRACE = 10 * 60_000;
const OLD = new Date(NOW.getTime() - GRACE - 1_000);
const YOUNG = new Date(NOW.getTime() - GRACE + 60_000);
const ZONE = 'fr-par-2';
const uid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const serverId = (n: number): string => `11111111-0000-4000-8000-${String(n).padStart(12, '0')}`;

const ours = (nodeClaimUid?: string, cluster = 'prod'): string[] => [
  'karpenter.scaleway.com/managed',
  `karpenter.scaleway.com/cluster=${cluster}`,
  ...(nodeClaimUid ? [`karpenter.scaleway.com/nodeclaim-uid=${nodeClaimUid}`, 'karpenter.scaleway.com/nodeclaim=gpu-x'] : []),
];

const server = (n: number, tags: string[], over: Partial<ServerFacts> = {}): ServerFacts => ({
  id: serverId(n), zone: ZONE, name: `gpu-${n}`, state: 'running', tags, volumes: [{ id: `vol-${n}`, type: 'sbs_volume' }], createdAt: OLD, ...over,
});
const volume = (name: string, over: Partial<VolumeFacts> = {}): VolumeFacts => ({ id: `v-${name}`, zone: ZONE, name, status: 'available', referencedBy: 0, createdAt: OLD, ...over });
const token = (nodeClaimUid: string, over: Partial<TokenFacts> = {}): TokenFacts => ({
  name: `bootstrap-token-${nodeClaimUid.slice(-6)}`,
  type: 'bootstrap.kubernetes.io/token',
  labels: { 'app.kubernetes.io/managed-by': 'scw-karpenter', 'karpenter.scaleway.com/nodeclaim-uid': nodeClaimUid },
  createdAt: OLD,
  ...over,
});
const nodeClaim = (n: number, over: Partial<NodeClaimFacts> = {}): NodeClaimFacts => ({
  name: `gpu-${n}`, uid: uid(n), ours: true, deleting: false, providerID: `scaleway://instance/${ZONE}/${serverId(n)}`, launchedAt: OLD, ...over,
});

/** A NodeClaim still being provisioned: no server recorded yet. */
const provisioning = (n: number): NodeClaimFacts => nodeClaim(n, { providerID: undefined, launchedAt: undefined });

function inventory(over: Partial<GarbageInventory>): GarbageInventory {
  return { clusterName: 'prod', now: NOW, gracePeriodMs: GRACE, zones: [ZONE], servers: [], volumes: [], tokens: [], nodeClaims: [], ...over };
}

const kinds = (inv: GarbageInventory): string[] => planGarbage(inv).map((a) => `${a.kind}:${a.reason}:${'serverId' in a ? a.serverId : 'volumeId' in a ? a.volumeId : 'secretName' in a ? a.secretName : a.nodeClaim.name}`);

describe('garbage collection plan: servers', () => {
  it('reads the tags and names the create path writes', () => {
    assert.ok(isOurServer(resourceTags('prod', { name: 'gpu-1', uid: uid(1) }, 'gpu'), 'prod'));
    assert.ok(!isOurServer(resourceTags('prod', { name: 'gpu-1', uid: uid(1) }, 'gpu'), 'pro'));
    assert.equal(volumeNodeClaimUid(rootVolumeName('prod', { uid: uid(1) }), 'prod'), uid(1));
    const [action] = planGarbage(inventory({ servers: [server(1, resourceTags('prod', { name: 'gpu-1', uid: uid(1) }, 'gpu'))] }));
    assert.equal(action?.kind === 'server' && action.nodeClaimUid, uid(1));
  });

  it('releases a server of ours whose NodeClaim is gone, past the grace period', () => {
    assert.deepEqual(kinds(inventory({ servers: [server(1, ours(uid(1)))] })), [`server:NodeClaimNotFound:${serverId(1)}`]);
  });

  it('keeps a server whose NodeClaim exists', () => {
    assert.deepEqual(kinds(inventory({ servers: [server(1, ours(uid(1)))], nodeClaims: [nodeClaim(1)] })), []);
  });

  it('keeps an orphan inside the grace period, and one whose age is unknown', () => {
    assert.deepEqual(kinds(inventory({ servers: [server(1, ours(uid(1)), { createdAt: YOUNG }), server(2, ours(uid(2)), { createdAt: undefined })] })), []);
  });

  it('never touches a server of another cluster, or one without the managed tag, or untagged', () => {
    const servers = [
      server(1, ours(uid(1), 'staging')),
      server(2, ours(uid(2)).filter((t) => t !== 'karpenter.scaleway.com/managed')),
      server(3, []),
      // A cluster whose name starts with ours.
      server(4, ours(uid(4), 'prod-eu')),
      // The tag with a different value is not the tag.
      server(5, ['karpenter.scaleway.com/managed=false', 'karpenter.scaleway.com/cluster=prod']),
    ];
    assert.deepEqual(kinds(inventory({ servers })), []);
  });

  it('releases a managed server of this cluster that carries no NodeClaim UID', () => {
    const [action] = planGarbage(inventory({ servers: [server(1, ours())] }));
    assert.equal(action?.kind, 'server');
    assert.equal(action.kind === 'server' && action.nodeClaimUid, undefined);
    assert.match(action?.message ?? '', /carries no NodeClaim UID/);
  });

  it('ignores servers of zones that were not listed', () => {
    assert.deepEqual(kinds(inventory({ zones: ['fr-par-1'], servers: [server(1, ours(uid(1)))] })), []);
  });

  it('releases a duplicate: a second server of a launched NodeClaim whose providerID names another, both past the grace period', () => {
    const servers = [server(1, ours(uid(1))), server(2, ours(uid(1)))];
    const plan = planGarbage(inventory({ servers, nodeClaims: [nodeClaim(1)] }));
    assert.equal(plan.length, 1);
    const [dup] = plan;
    assert.ok(dup?.kind === 'server');
    assert.equal(dup.serverId, serverId(2));
    assert.equal(dup.reason, 'DuplicateServer');
    assert.deepEqual(dup.nodeClaim, { name: 'gpu-1', uid: uid(1) });
  });

  it('keeps a second server while its NodeClaim is not launched, launched recently, being deleted, or when the duplicate is young', () => {
    const servers = [server(1, ours(uid(1))), server(2, ours(uid(1)))];
    for (const nc of [
      provisioning(1),
      nodeClaim(1, { launchedAt: YOUNG }),
      nodeClaim(1, { deleting: true }),
    ]) assert.deepEqual(kinds(inventory({ servers, nodeClaims: [nc] })), [], JSON.stringify(nc));
    assert.deepEqual(kinds(inventory({ servers: [server(1, ours(uid(1))), server(2, ours(uid(1)), { createdAt: YOUNG })], nodeClaims: [nodeClaim(1)] })), []);
  });

  it('counts a same-id server in another zone as a duplicate, not the recorded one', () => {
    const servers = [server(1, ours(uid(1)), { zone: 'fr-par-1' })];
    assert.deepEqual(kinds(inventory({ zones: ['fr-par-1', ZONE], servers, nodeClaims: [nodeClaim(1)] })), [`server:DuplicateServer:${serverId(1)}`, 'nodeclaim:ServerNotFound:gpu-1']);
  });

  it('lets a NodeClaim of another provider keep its UID\'s servers alive', () => {
    assert.deepEqual(kinds(inventory({ servers: [server(1, ours(uid(1)))], nodeClaims: [nodeClaim(1, { ours: false, providerID: 'aws:///eu-west-1a/i-1' })] })), []);
  });
});

describe('garbage collection plan: volumes', () => {
  const name = (n: number, cluster = 'prod'): string => `scw-karpenter-${cluster}-${uid(n)}`;

  it('deletes an unattached root volume of a gone NodeClaim, past the grace period', () => {
    assert.deepEqual(kinds(inventory({ volumes: [volume(name(1))] })), [`volume:NodeClaimNotFound:v-${name(1)}`]);
  });

  it('keeps it while its NodeClaim exists, while attached, while a volume of a listed server, or not available', () => {
    assert.deepEqual(kinds(inventory({ volumes: [volume(name(1))], nodeClaims: [provisioning(1)] })), []);
    assert.deepEqual(kinds(inventory({ volumes: [volume(name(1), { referencedBy: 1 })] })), []);
    assert.deepEqual(kinds(inventory({ volumes: [volume(name(1), { id: 'vol-7' })], servers: [server(7, ours(uid(7)), { createdAt: YOUNG })] })), []);
    assert.deepEqual(kinds(inventory({ volumes: [volume(name(1), { status: 'in_use' })] })), []);
    assert.deepEqual(kinds(inventory({ volumes: [volume(name(1), { createdAt: YOUNG })] })), []);
  });

  it('never matches another cluster\'s names, even one that starts with ours, nor other names', () => {
    assert.equal(volumeNodeClaimUid(name(1, 'prod-eu'), 'prod'), undefined);
    assert.equal(volumeNodeClaimUid(name(1), 'prod'), uid(1));
    const volumes = [volume(name(1, 'prod-eu')), volume(name(2, 'staging')), volume('scw-karpenter-prod-not-a-uid'), volume('data')];
    assert.deepEqual(kinds(inventory({ volumes })), []);
  });
});

describe('garbage collection plan: bootstrap tokens', () => {
  it('deletes a token Secret of a gone NodeClaim, and keeps those of live NodeClaims', () => {
    assert.deepEqual(kinds(inventory({ tokens: [token(uid(1)), token(uid(2))], nodeClaims: [provisioning(2)] })), [`token:NodeClaimNotFound:${token(uid(1)).name}`]);
  });

  it('keeps young tokens, and Secrets not ours or not bootstrap tokens', () => {
    const tokens = [
      token(uid(1), { createdAt: YOUNG }),
      token(uid(2), { type: 'Opaque' }),
      token(uid(3), { labels: { 'karpenter.scaleway.com/nodeclaim-uid': uid(3) } }),
      token(uid(4), { labels: { 'app.kubernetes.io/managed-by': 'scw-karpenter' } }),
    ];
    assert.deepEqual(kinds(inventory({ tokens })), []);
  });
});

describe('garbage collection plan: NodeClaims whose server vanished', () => {
  it('nominates a launched NodeClaim whose server is not listed in its zone', () => {
    assert.deepEqual(kinds(inventory({ nodeClaims: [nodeClaim(1)] })), ['nodeclaim:ServerNotFound:gpu-1']);
  });

  it('leaves NodeClaims that are not ours, not launched, launched recently, being deleted, or in a zone not listed', () => {
    for (const nc of [
      nodeClaim(1, { ours: false }),
      provisioning(1),
      nodeClaim(1, { launchedAt: YOUNG }),
      nodeClaim(1, { deleting: true }),
      nodeClaim(1, { providerID: 'scaleway://instance/nl-ams-1/' + serverId(1) }),
      nodeClaim(1, { providerID: 'not-a-scaleway-id' }),
    ]) assert.deepEqual(kinds(inventory({ nodeClaims: [nc] })), [], JSON.stringify(nc));
  });

  it('keeps a NodeClaim whose server is listed', () => {
    assert.deepEqual(kinds(inventory({ nodeClaims: [nodeClaim(1)], servers: [server(1, ours(uid(1)))] })), []);
  });
});
