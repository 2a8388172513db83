// What the chaos suite counts as a violation, given a listing of what exists.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkListing, countViolations, type Listing, type NodeClaimFacts, type ServerFacts } from '../../chaos/checks.ts';
import { pemKeyMaterial, tokenSecretPart } from '../../chaos/secrets.ts';

const NOW = Date.parse('2026-12-02T08:00:00Z');
const DEADLINES = { readyMs: 300_000, deletionMs: 180_000 };
const ready = [{ type: 'Ready', status: 'True' }, { type: 'Registered', status: 'True' }];

function claim(uid: string, fields: Partial<NodeClaimFacts> = {}): NodeClaimFacts {
  return { name: `nc-${uid}`, uid, createdAt: NOW - 60_000, deletingSince: undefined, conditions: ready, ...fields };
}
function server(uid: string | undefined, id = `srv-${uid ?? 'x'}`, zone = 'fr-par-2'): ServerFacts {
  return {
    id, zone, name: `nc-${uid ?? 'x'}`, state: 'running',
    tags: ['karpenter.scaleway.com/managed', 'karpenter.scaleway.com/cluster=chaos', ...(uid ? [`karpenter.scaleway.com/nodeclaim-uid=${uid}`] : [])],
  };
}
function listing(fields: Partial<Listing>): Listing {
  return { clusterName: 'chaos', now: NOW, servers: [], volumes: [], tokens: [], nodeClaims: [], nodes: [], workflows: [], events: [], ...fields };
}
const kinds = (l: Listing): string[] => checkListing(l, DEADLINES).map((v) => v.kind).sort();

describe('chaos checks', () => {
  it('passes a clean end state: each NodeClaim Ready with one server and its root volume', () => {
    assert.deepEqual(kinds(listing({
      nodeClaims: [claim('a'), claim('b')],
      servers: [server('a'), server('b', 'srv-b', 'fr-par-1')],
      volumes: [{ id: 'v-a', zone: 'fr-par-2', name: 'scw-karpenter-chaos-a', status: 'in_use' }],
      workflows: [{ workflowId: 'provision/nc-a/a', runId: 'r', status: 'COMPLETED' }],
    })), []);
  });

  it('finds a server, a volume and a token whose NodeClaim is gone, in any zone', () => {
    const found = checkListing(listing({
      nodeClaims: [claim('a')],
      servers: [server('a'), server('gone', 'srv-gone', 'nl-ams-1'), server(undefined, 'srv-untagged')],
      volumes: [{ id: 'v1', zone: 'pl-waw-2', name: 'scw-karpenter-chaos-gone', status: 'available' }, { id: 'v2', zone: 'fr-par-1', name: 'ubuntu_sbs_volume_0', status: 'available' }],
      tokens: [{ name: 'bootstrap-token-abcdef', nodeClaimUid: 'gone' }],
    }), DEADLINES);
    assert.deepEqual(countViolations(found), { 'leaked-server': 2, 'leaked-volume': 2, 'leaked-token': 1, 'leaked-node': 0, 'duplicate-server': 0, 'stuck-nodeclaim': 0, 'silent-failure': 0 });
    assert.ok(found.some((v) => v.subject.includes('nl-ams-1/srv-gone')));
  });

  it('counts a bootstrap token that outlived its node joining as a leak', () => {
    assert.deepEqual(kinds(listing({ nodeClaims: [claim('a')], servers: [server('a')], tokens: [{ name: 'bootstrap-token-abcdef', nodeClaimUid: 'a' }] })), ['leaked-token']);
    const launching = claim('b', { conditions: [{ type: 'Launched', status: 'True' }], createdAt: NOW - 10_000 });
    assert.deepEqual(kinds(listing({ nodeClaims: [launching], servers: [server('b')], tokens: [{ name: 'bootstrap-token-bbbbbb', nodeClaimUid: 'b' }] })), [], 'not before it joins');
  });

  it('finds a Node of ours that outlived its NodeClaim, not the others', () => {
    const found = checkListing(listing({
      nodeClaims: [claim('a', { providerID: 'scaleway://instance/fr-par-2/srv-a' }), claim('b', { name: 'nc-b' })],
      servers: [server('a'), server('b')],
      nodes: [
        { name: 'nc-a', providerID: 'scaleway://instance/fr-par-2/srv-a' },
        { name: 'nc-b', providerID: 'scaleway://instance/fr-par-2/srv-b' },
        { name: 'nc-gone', providerID: 'scaleway://instance/fr-par-1/srv-gone' },
        { name: 'control-plane', providerID: undefined },
      ],
    }), DEADLINES);
    assert.deepEqual(found.map((v) => v.subject), ['Node nc-gone (scaleway://instance/fr-par-1/srv-gone)']);
  });

  it('finds two servers for one NodeClaim, even in two zones', () => {
    const found = checkListing(listing({ nodeClaims: [claim('a')], servers: [server('a', 's1', 'fr-par-1'), server('a', 's2', 'fr-par-2')] }), DEADLINES);
    assert.deepEqual(found.map((v) => v.kind), ['duplicate-server']);
    assert.match(found[0]?.detail ?? '', /fr-par-1\/s1, fr-par-2\/s2/);
  });

  it('finds NodeClaims stuck launching or deleting past their deadlines, not the young ones', () => {
    assert.deepEqual(kinds(listing({
      nodeClaims: [
        claim('old', { createdAt: NOW - 400_000, conditions: [{ type: 'Launched', status: 'Unknown' }] }),
        claim('young', { createdAt: NOW - 100_000, conditions: [] }),
        claim('deleting', { deletingSince: NOW - 200_000 }),
        claim('deleting-now', { deletingSince: NOW - 5_000, conditions: [] }),
      ],
      servers: [server('old'), server('young'), server('deleting'), server('deleting-now')],
    })), ['stuck-nodeclaim', 'stuck-nodeclaim']);
  });

  it('finds a failed workflow that told no one, and accepts one with a condition or a Warning Event', () => {
    const failed = (name: string, uid: string, status = 'FAILED'): Listing['workflows'][number] => ({ workflowId: `provision/${name}/${uid}`, runId: 'r1', status });
    const found = checkListing(listing({
      nodeClaims: [claim('c', { conditions: [{ type: 'Launched', status: 'False', reason: 'NoCompatibleOffering' }], createdAt: NOW - 10_000 })],
      workflows: [failed('nc-a', 'a'), failed('nc-b', 'b', 'TIMED_OUT'), failed('nc-c', 'c'), failed('nc-d', 'd'), { workflowId: 'terminate/nc-e/e', runId: 'r', status: 'TERMINATED' }],
      events: [{ involvedKind: 'NodeClaim', involvedName: 'nc-d', involvedUid: 'd', type: 'Warning', reason: 'LaunchFailed' }],
      servers: [server('c')],
    }), DEADLINES);
    assert.deepEqual(found.map((v) => `${v.kind} ${v.subject}`), ['silent-failure workflow provision/nc-a/a run r1', 'silent-failure workflow provision/nc-b/b run r1']);
  });

  it('scans the secret half of a join token and the base64 lines of a PEM key', () => {
    assert.equal(tokenSecretPart('abcdef.0123456789abcdef'), '0123456789abcdef');
    const pem = `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(64)}\n${'B'.repeat(64)}\n${'C'.repeat(10)}\n-----END PRIVATE KEY-----\n`;
    const parts = pemKeyMaterial(pem);
    assert.ok(parts.includes('A'.repeat(64)) && parts.includes('B'.repeat(64)));
    assert.ok(parts.every((p) => !p.includes('-----')));
  });
});
