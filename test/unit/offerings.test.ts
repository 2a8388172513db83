// The offerings module and the out-of-stock channel between the launch and the
// planner: one zone default, one image default, one ranking; records on the
// NodeClaim bounded and pruned; the watcher's cache fed from them for the TTL
// counted from the refusal, and the planner skipping what they name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnavailableOfferings, UNAVAILABLE_OFFERING_TTL_MS } from '../../scaleway/caches.ts';
import { cheapestFirst, imageCheckZones, imageOf, nodeClassZones, OfferingsCatalog, rankOfferings, withUnavailable } from '../../scaleway/offerings.ts';
import { requestedAmounts, SCALEWAY_ZONES } from '../../scaleway/instance-types.ts';
import { ANNOTATION_UNAVAILABLE_OFFERINGS, MAX_UNAVAILABLE_RECORDS, addUnavailableOffering, parseUnavailableOfferings } from '../../kube/api/unavailable-offerings-annotation.ts';
import { feedUnavailableOfferings } from '../../watcher/unavailable-offerings-feed.ts';
import { poolFunnel } from '../../watcher/provisioner/offering-funnel.ts';
import { plan } from '../../watcher/provisioner/planner.ts';
import { Requirements } from '../../kube/api/requirements.ts';
import { REASON } from '../../kube/api/constants.ts';
import { DEFAULT_GPU_IMAGE_LABEL, DEFAULT_IMAGE_LABEL } from '../../kube/api/nodeclass-defaults.ts';
import type { ScalewayCloud, ServerTypeOffer } from '../../scaleway/cloud.ts';
import { catalogOffers, planPool, pod, ROOT_VOLUME_BYTES } from './planner-fixtures.ts';

const OFFERS = catalogOffers('fr-par-2');
const L4 = { key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4'] };
const GPU_ONE = { 'nvidia.com/gpu': '1', cpu: '500m', memory: '2Gi' };
const TTL = UNAVAILABLE_OFFERING_TTL_MS;

function clock(start = Date.parse('2026-12-02T19:00:00Z')): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

const record = (commercialType: string, atMs: number, zone = 'fr-par-2') => ({ zone, commercialType, reason: 'out of stock', at: new Date(atMs).toISOString() });
const nodeClaimWith = (value: string | undefined): { metadata: { annotations: Record<string, string> } } =>
  ({ metadata: { annotations: value === undefined ? {} : { [ANNOTATION_UNAVAILABLE_OFFERINGS]: value } } });

describe('one zone default, one image default', () => {
  it('launches in every Scaleway zone when the NodeClass names none (absent or empty), else in its own', () => {
    assert.deepEqual(nodeClassZones(undefined), [...SCALEWAY_ZONES]);
    assert.deepEqual(nodeClassZones([]), [...SCALEWAY_ZONES]);
    assert.deepEqual(nodeClassZones(['nl-ams-1', 'fr-par-2']), ['nl-ams-1', 'fr-par-2']);
  });

  it('checks the image where GPUs are sold when the NodeClass names no zone', () => {
    assert.deepEqual(imageCheckZones(undefined), ['fr-par-1', 'fr-par-2']);
    assert.deepEqual(imageCheckZones(['pl-waw-2']), ['pl-waw-2']);
  });

  it('boots the NodeClass image, else the GPU image on GPU types and plain Ubuntu elsewhere', () => {
    assert.equal(imageOf('my_image', true), 'my_image');
    assert.equal(imageOf(undefined, true), DEFAULT_GPU_IMAGE_LABEL);
    assert.equal(imageOf(undefined, false), DEFAULT_IMAGE_LABEL);
  });
});

describe('one ranking', () => {
  it('orders the planner funnel and the launch ranking alike', () => {
    const requirements = Requirements.from([L4]);
    const launch = rankOfferings({ offers: OFFERS, requirements, requests: requestedAmounts(GPU_ONE), rootVolumeBytes: ROOT_VOLUME_BYTES });
    const planner = poolFunnel({ nodePool: 'gpu', nodeClass: 'gpu', nodeClassZones: ['fr-par-2'], requirements, offers: OFFERS });
    const key = (o: ServerTypeOffer): string => `${o.commercialType}@${o.zone}`;
    assert.ok(launch.offerings.length >= 3);
    assert.deepEqual(launch.offerings.map(key), planner.offers.map(key));
  });

  it('breaks a price tie by stock, then by name', () => {
    const base = OFFERS.find((o) => o.commercialType === 'L4-1-24G')!;
    const scarce = { ...base, commercialType: 'L4-A', availability: 'scarce' };
    const available = { ...base, commercialType: 'L4-B', availability: 'available' };
    const named = { ...base, commercialType: 'L4-C', availability: 'available' };
    assert.deepEqual([named, scarce, available].sort(cheapestFirst).map((o) => o.commercialType), ['L4-B', 'L4-C', 'L4-A']);
  });
});

describe('UnavailableOfferings fed from another process', () => {
  it('counts the TTL from the refusal, not from when it is learned', () => {
    const c = clock();
    const u = new UnavailableOfferings(c.now);
    u.markUnavailable('fr-par-2', 'L4-1-24G', 'out of stock', c.now() - (TTL - 1000));
    assert.equal(u.unavailable('fr-par-2', 'L4-1-24G'), 'out of stock');
    c.advance(1000);
    assert.equal(u.unavailable('fr-par-2', 'L4-1-24G'), undefined);
  });

  it('ignores a record past its TTL and never shortens a fresher mark', () => {
    const c = clock();
    const u = new UnavailableOfferings(c.now);
    u.markUnavailable('fr-par-2', 'L4-1-24G', 'out of stock', c.now() - TTL);
    assert.equal(u.size, 0, 'nothing held for an expired record');
    u.markUnavailable('fr-par-2', 'L4-2-24G', 'over quota');
    u.markUnavailable('fr-par-2', 'L4-2-24G', 'out of stock', c.now() - 60_000);
    c.advance(TTL - 1);
    assert.equal(u.unavailable('fr-par-2', 'L4-2-24G'), 'over quota', 'the fresh mark holds its whole window');
  });

  it('holds at most the offerings refused within one TTL', () => {
    const c = clock();
    const u = new UnavailableOfferings(c.now);
    for (let i = 0; i < 50; i++) {
      u.markUnavailable('fr-par-2', `TYPE-${i}`, 'out of stock');
      c.advance(TTL / 10);
    }
    assert.ok(u.size <= 11, `${u.size} marks held`);
  });
});

describe('the record on the NodeClaim', () => {
  it('adds a refusal, replacing the same offering and dropping records past their TTL', () => {
    const now = Date.parse('2026-12-02T19:00:00Z');
    let value = addUnavailableOffering(undefined, record('L4-1-24G', now - TTL - 1), now - TTL - 1, TTL);
    value = addUnavailableOffering(value, record('L4-2-24G', now - 1000), now - 1000, TTL);
    value = addUnavailableOffering(value, record('L4-2-24G', now), now, TTL);
    assert.deepEqual(parseUnavailableOfferings(value).map((r) => [r.commercialType, r.at]), [['L4-2-24G', new Date(now).toISOString()]]);
  });

  it('keeps at most ten records, the latest', () => {
    const now = Date.parse('2026-12-02T19:00:00Z');
    let value: string | undefined;
    for (let i = 0; i < 15; i++) value = addUnavailableOffering(value, record(`T-${i}`, now), now, TTL);
    const kept = parseUnavailableOfferings(value);
    assert.equal(kept.length, MAX_UNAVAILABLE_RECORDS);
    assert.equal(kept[0]?.commercialType, 'T-5');
    assert.equal(kept.at(-1)?.commercialType, 'T-14');
  });

  it('reads nothing from a value that is not a list of records', () => {
    assert.deepEqual(parseUnavailableOfferings('not json'), []);
    assert.deepEqual(parseUnavailableOfferings('{"zone":"fr-par-2"}'), []);
    assert.deepEqual(parseUnavailableOfferings(JSON.stringify([{ zone: 'fr-par-2', commercialType: 'L4-1-24G', reason: 'x', at: 'never' }, record('L4-2-24G', 0)])).map((r) => r.commercialType), ['L4-2-24G']);
  });
});

describe('the watcher feed', () => {
  it('feeds the records of a NodeClaim still within their TTL, as a restarted watcher listing NodeClaims does', () => {
    const c = clock();
    const value = JSON.stringify([record('L4-1-24G', c.now() - 60_000), record('L4-2-24G', c.now() - TTL - 1), record('H100-1-80G', c.now(), 'fr-par-1')]);
    const restarted = new UnavailableOfferings(c.now);
    feedUnavailableOfferings(restarted, nodeClaimWith(value));
    assert.equal(restarted.unavailable('fr-par-2', 'L4-1-24G'), 'out of stock');
    assert.equal(restarted.unavailable('fr-par-2', 'L4-2-24G'), undefined, 'past its TTL: forgotten');
    assert.equal(restarted.unavailable('fr-par-1', 'H100-1-80G'), 'out of stock');
    c.advance(TTL - 60_000);
    assert.equal(restarted.unavailable('fr-par-2', 'L4-1-24G'), undefined, 'expires when the worker\'s does');
  });

  it('feeds nothing from a NodeClaim without records', () => {
    const u = new UnavailableOfferings();
    feedUnavailableOfferings(u, nodeClaimWith(undefined));
    feedUnavailableOfferings(u, {});
    assert.equal(u.size, 0);
  });
});

describe('the planner skips what the launch found empty', () => {
  const unavailable = (zone: string, type: string): string | undefined => (zone === 'fr-par-2' && type === 'L4-1-24G' ? 'out of stock' : undefined);

  it('reads a refused offering as out of stock, leaving the rest alone', () => {
    const marked = withUnavailable(OFFERS, unavailable);
    assert.equal(marked.find((o) => o.commercialType === 'L4-1-24G')?.availability, 'shortage');
    assert.deepEqual(marked.filter((o) => o.commercialType !== 'L4-1-24G'), OFFERS.filter((o) => o.commercialType !== 'L4-1-24G'));
  });

  it('plans the next L4 instead of the refused one, and says so when nothing else is left', () => {
    const pool = planPool({ name: 'gpu', zones: ['fr-par-2'], requirements: [L4] });
    const before = plan({ pods: [pod({ name: 'p', requests: GPU_ONE })], nodePools: [pool], offers: OFFERS });
    assert.equal(before.nodeClaims[0]?.offering.commercialType, 'L4-1-24G');
    const after = plan({ pods: [pod({ name: 'p', requests: GPU_ONE })], nodePools: [pool], offers: withUnavailable(OFFERS, unavailable) });
    assert.equal(after.nodeClaims[0]?.offering.commercialType, 'L4-2-24G');

    const only = planPool({ name: 'gpu', zones: ['fr-par-2'], requirements: [{ key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['L4-1-24G'] }] });
    const none = plan({ pods: [pod({ name: 'p', requests: GPU_ONE })], nodePools: [only], offers: withUnavailable(OFFERS, unavailable) });
    assert.equal(none.nodeClaims.length, 0);
    assert.equal(none.poolProblems[0]?.reason, REASON.InstanceTypesUnavailable);
    assert.match(none.poolProblems[0]?.message ?? '', /L4-1-24G in fr-par-2 \(out of stock\)/);
  });

  it('gives the watcher a catalog that marks refused offerings', async () => {
    const cloud = { listServerTypes: (zone: string) => Promise.resolve(catalogOffers(zone)) } as unknown as ScalewayCloud;
    const u = new UnavailableOfferings();
    const catalog = new OfferingsCatalog(cloud, u);
    assert.equal((await catalog.offers('fr-par-2')).find((o) => o.commercialType === 'L4-1-24G')?.availability, OFFERS.find((o) => o.commercialType === 'L4-1-24G')?.availability);
    u.markUnavailable('fr-par-2', 'L4-1-24G', 'out of stock');
    assert.equal((await catalog.offers('fr-par-2')).find((o) => o.commercialType === 'L4-1-24G')?.availability, 'shortage');
    assert.notEqual((await catalog.offers('fr-par-1')).find((o) => o.commercialType === 'L4-1-24G')?.availability, 'shortage', 'only in the zone that refused it');
  });
});
