// The catalog and unavailable-offerings caches, on an injected clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATALOG_STALE_SERVE_MS, CATALOG_TTL_MS, CatalogCache, UNAVAILABLE_OFFERING_TTL_MS, UnavailableOfferings } from '../../scaleway/caches.ts';
import type { ScalewayCloud, ServerTypeOffer } from '../../scaleway/cloud.ts';
import { loadCatalog } from '../../scaleway/catalog/catalog.ts';

function catalogOffers(zone: string): ServerTypeOffer[] {
  return loadCatalog().offers(zone).map((o) => ({
    zone,
    commercialType: o.commercialType,
    hourlyPriceEur: o.hourlyPrice,
    ncpus: o.facts.ncpus,
    ramBytes: o.facts.ram,
    arch: o.facts.arch,
    gpuCount: o.facts.gpu,
    gpu: o.facts.gpu_info ? { name: o.facts.gpu_info.gpu_name, manufacturer: o.facts.gpu_info.gpu_manufacturer, memoryBytes: o.facts.gpu_info.gpu_memory } : undefined,
    availability: o.availability,
    endOfService: o.facts.end_of_service === true,
    blockStorage: true,
  }));
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

/** A cloud whose listServerTypes answers are scripted per call and counted. */
class FakeCloud {
  readonly calls: string[] = [];
  /** Held answers: each call takes the first one instead of answering at once. */
  readonly pending: Deferred<ServerTypeOffer[]>[] = [];
  failNext = 0;

  listServerTypes(zone: string): Promise<ServerTypeOffer[]> {
    this.calls.push(zone);
    const waiting = this.pending.shift();
    if (waiting) return waiting.promise;
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error(`listing server types in ${zone}: boom`));
    }
    return Promise.resolve(catalogOffers(zone));
  }

  hold(): Deferred<ServerTypeOffer[]> {
    let resolve!: (value: ServerTypeOffer[]) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<ServerTypeOffer[]>((res, rej) => { resolve = res; reject = rej; });
    const d = { promise, resolve, reject };
    this.pending.push(d);
    return d;
  }

  asCloud(): ScalewayCloud {
    return this as unknown as ScalewayCloud;
  }
}

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

describe('CatalogCache', () => {
  it('reads each zone once per TTL', async () => {
    const cloud = new FakeCloud();
    const c = clock();
    const cache = new CatalogCache(cloud.asCloud(), c.now);
    const first = await cache.offers('fr-par-2');
    assert.equal(first.length, loadCatalog().typesInZone('fr-par-2').length);
    assert.equal(await cache.offers('fr-par-2'), first, 'the same array comes back from the cache');
    await cache.offers('fr-par-1');
    assert.deepEqual(cloud.calls, ['fr-par-2', 'fr-par-1']);
    c.advance(CATALOG_TTL_MS - 1);
    await cache.offers('fr-par-2');
    assert.equal(cloud.calls.length, 2, 'still fresh one millisecond before the TTL');
    c.advance(1);
    assert.equal(await cache.offers('fr-par-2'), first, 'past the TTL the last catalog answers at once');
    assert.deepEqual(cloud.calls, ['fr-par-2', 'fr-par-1', 'fr-par-2'], 'while a fresh one is read');
    await cache.offers('fr-par-2');
    assert.equal(cloud.calls.length, 3, 'one refresh, not one per caller');
    await new Promise((r) => setImmediate(r));
    const again = await cache.offers('fr-par-2');
    assert.notEqual(again, first, 'the refreshed catalog answers next');
    assert.equal(cloud.calls.length, 3);
  });

  it('makes callers wait for a fresh read once the stale window is over too', async () => {
    const cloud = new FakeCloud();
    const c = clock();
    const cache = new CatalogCache(cloud.asCloud(), c.now);
    const first = await cache.offers('fr-par-2');
    c.advance(CATALOG_TTL_MS + CATALOG_STALE_SERVE_MS);
    const held = cloud.hold();
    const a = cache.offers('fr-par-2');
    const b = cache.offers('fr-par-2');
    assert.equal(cloud.calls.length, 2, 'concurrent callers share the fresh read');
    const offers = catalogOffers('fr-par-2');
    held.resolve(offers);
    assert.equal(await a, offers);
    assert.equal(await b, offers);
    assert.notEqual(offers, first);
  });

  it('keeps answering from the stale catalog when its refresh fails, and tries again', async () => {
    const cloud = new FakeCloud();
    const c = clock();
    const cache = new CatalogCache(cloud.asCloud(), c.now);
    const first = await cache.offers('fr-par-2');
    c.advance(CATALOG_TTL_MS);
    cloud.failNext = 1;
    assert.equal(await cache.offers('fr-par-2'), first);
    await new Promise((r) => setImmediate(r));
    assert.equal(await cache.offers('fr-par-2'), first, 'still the stale one after the failed refresh');
    assert.equal(cloud.calls.length, 3, 'and a new refresh started');
  });

  it('keeps the TTL a minute, as its reason says', () => {
    assert.equal(CATALOG_TTL_MS, 60_000);
  });

  it('honours a custom TTL', async () => {
    const cloud = new FakeCloud();
    const c = clock();
    const cache = new CatalogCache(cloud.asCloud(), c.now, 10);
    await cache.offers('fr-par-2');
    c.advance(10);
    await cache.offers('fr-par-2');
    assert.equal(cloud.calls.length, 2);
  });

  it('lets concurrent callers share one read', async () => {
    const cloud = new FakeCloud();
    const cache = new CatalogCache(cloud.asCloud(), clock().now);
    const held = cloud.hold();
    const a = cache.offers('fr-par-2');
    const b = cache.offers('fr-par-2');
    assert.equal(cloud.calls.length, 1);
    const offers = catalogOffers('fr-par-2');
    held.resolve(offers);
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra, offers);
    assert.equal(rb, offers);
    assert.equal(cloud.calls.length, 1);
  });

  it('does not cache a failed read: every waiting caller sees the failure, the next caller reads again', async () => {
    const cloud = new FakeCloud();
    const cache = new CatalogCache(cloud.asCloud(), clock().now);
    const held = cloud.hold();
    const a = cache.offers('fr-par-2');
    const b = cache.offers('fr-par-2');
    held.reject(new Error('listing server types in fr-par-2: unreachable'));
    await assert.rejects(a, /unreachable/);
    await assert.rejects(b, /unreachable/);
    assert.equal(cloud.calls.length, 1);
    const offers = await cache.offers('fr-par-2');
    assert.equal(offers.length, loadCatalog().typesInZone('fr-par-2').length);
    assert.equal(cloud.calls.length, 2);
    await cache.offers('fr-par-2');
    assert.equal(cloud.calls.length, 2, 'the successful read is cached');
  });

  it('retries after an immediate failure without waiting for the TTL', async () => {
    const cloud = new FakeCloud();
    cloud.failNext = 1;
    const cache = new CatalogCache(cloud.asCloud(), clock().now);
    await assert.rejects(cache.offers('nl-ams-1'), /boom/);
    assert.ok((await cache.offers('nl-ams-1')).length > 0);
    assert.equal(cloud.calls.length, 2);
  });

  it('does not let a stale failed read evict a newer cached one', async () => {
    const cloud = new FakeCloud();
    const c = clock();
    const cache = new CatalogCache(cloud.asCloud(), c.now);
    const slow = cloud.hold();
    const stale = cache.offers('fr-par-2');
    c.advance(CATALOG_TTL_MS);
    await cache.offers('fr-par-2');
    assert.equal(cloud.calls.length, 2);
    slow.reject(new Error('timed out'));
    await assert.rejects(stale, /timed out/);
    await cache.offers('fr-par-2');
    assert.equal(cloud.calls.length, 2, 'the fresh read is still cached');
  });
});

describe('UnavailableOfferings', () => {
  it('skips an offering for the TTL, then lets it be tried again', () => {
    const c = clock();
    const u = new UnavailableOfferings(c.now);
    assert.equal(u.unavailable('fr-par-2', 'L4-1-24G'), undefined);
    u.markUnavailable('fr-par-2', 'L4-1-24G', 'out of stock');
    assert.equal(u.unavailable('fr-par-2', 'L4-1-24G'), 'out of stock');
    assert.equal(u.unavailable('fr-par-1', 'L4-1-24G'), undefined, 'another zone');
    assert.equal(u.unavailable('fr-par-2', 'L4-2-24G'), undefined, 'another type');
    c.advance(UNAVAILABLE_OFFERING_TTL_MS - 1);
    assert.equal(u.unavailable('fr-par-2', 'L4-1-24G'), 'out of stock');
    c.advance(1);
    assert.equal(u.unavailable('fr-par-2', 'L4-1-24G'), undefined);
  });

  it('keeps the three-minute window of the AWS provider', () => {
    assert.equal(UNAVAILABLE_OFFERING_TTL_MS, 3 * 60 * 1000);
  });

  it('restarts the window and takes the latest reason when marked again', () => {
    const c = clock();
    const u = new UnavailableOfferings(c.now, 1000);
    u.markUnavailable('fr-par-2', 'H100-1-80G', 'out of stock');
    c.advance(600);
    u.markUnavailable('fr-par-2', 'H100-1-80G', 'over quota');
    c.advance(600);
    assert.equal(u.unavailable('fr-par-2', 'H100-1-80G'), 'over quota');
    c.advance(400);
    assert.equal(u.unavailable('fr-par-2', 'H100-1-80G'), undefined);
  });
});
