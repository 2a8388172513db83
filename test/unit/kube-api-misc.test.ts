import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalCapacityType, isDuration, parseDuration, parseProviderId, providerIdFor } from '../../kube/api/index.ts';

const SERVER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

describe('provider IDs', () => {
  it('builds the ID Scaleway cloud controller manager writes and parses it back', () => {
    const id = providerIdFor('fr-par-2', SERVER);
    assert.equal(id, `scaleway://instance/fr-par-2/${SERVER}`);
    assert.deepEqual(parseProviderId(id), { zone: 'fr-par-2', serverId: SERVER });
  });

  it('refuses to build an ID from a bad zone or server ID', () => {
    assert.throws(() => providerIdFor('fr-par', SERVER), /invalid zone "fr-par"/);
    assert.throws(() => providerIdFor('fr-par-2', SERVER.toUpperCase()), /is not a lower-case UUID/);
  });

  it('returns undefined for IDs of other providers or malformed ones', () => {
    for (const id of ['aws:///eu-west-1a/i-0abc', `scaleway://instance/fr-par-2/${SERVER}/extra`, 'scaleway://instance/fr-par-2/', `scaleway://instance/${SERVER}`, 'kwok://node-1', '']) {
      assert.equal(parseProviderId(id), undefined, id);
    }
  });
});

describe('durations', () => {
  it('parses the CRD duration syntax', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('720h'), 2_592_000_000);
    assert.equal(parseDuration('Never'), Number.POSITIVE_INFINITY);
    assert.throws(() => parseDuration('1.5h'), /invalid duration "1.5h"/);
    assert.throws(() => parseDuration(''), /invalid duration/);
    assert.ok(isDuration('15m'));
    assert.ok(!isDuration('Never'));
    assert.ok(isDuration('Never', { allowNever: true }));
  });
});

describe('capacity types', () => {
  it('reads the seed alias as on-demand', () => {
    assert.equal(canonicalCapacityType('scaleway-gpu'), 'on-demand');
    assert.equal(canonicalCapacityType('spot'), 'spot');
    assert.equal(canonicalCapacityType('reserved'), 'reserved');
    assert.equal(canonicalCapacityType('preemptible'), undefined);
  });
});
