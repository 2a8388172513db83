// The process-wide token bucket and Retry-After parsing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RATE_PER_SECOND, parseRetryAfter, processRateLimiter, TokenBucket } from '../../scaleway/rate-limiter.ts';
import { NOMINATION_EVENT_RATE } from '../../watcher/provisioner/controller.ts';

describe('TokenBucket', () => {
  it('lets a burst through at once, then goes at the sustained rate', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 50, burst: 10 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 10 }, () => bucket.acquire()));
    assert.ok(Date.now() - started < 50, 'the burst needs no wait');
    await Promise.all(Array.from({ length: 10 }, () => bucket.acquire()));
    const took = Date.now() - started;
    // Ten more at 50/s: about 200 ms.
    assert.ok(took >= 170 && took < 600, `took ${took} ms`);
  });

  it("takes without waiting or drops, as Karpenter's Nominated Events are: the burst, then the sustained rate", async () => {
    let now = 0;
    const bucket = new TokenBucket({ ...NOMINATION_EVENT_RATE, now: () => now });
    const taken = (n: number): number => Array.from({ length: n }, () => bucket.tryAcquire()).filter(Boolean).length;
    assert.equal(taken(1000), 10, 'a 1000-pod plan tells ten pods at once');
    now += 1_000;
    assert.equal(taken(1000), 5, 'five more a second');
    // A waiter queued first keeps its place: tryAcquire does not jump the queue.
    const queued = bucket.acquire();
    assert.equal(bucket.tryAcquire(), false);
    now += 1_000;
    await queued;
  });

  it('serves waiters in order', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 100, burst: 1 });
    const order: number[] = [];
    await Promise.all([1, 2, 3, 4].map((i) => bucket.acquire().then(() => order.push(i))));
    assert.deepEqual(order, [1, 2, 3, 4]);
  });

  it('pauses everyone until a Retry-After has passed', async () => {
    const bucket = new TokenBucket();
    const started = Date.now();
    bucket.pauseUntil(started + 150);
    await bucket.acquire();
    assert.ok(Date.now() - started >= 140);
  });

  it('spends the burst allowance on a bare 429', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 20, burst: 20 });
    bucket.throttled();
    const started = Date.now();
    await bucket.acquire();
    assert.ok(Date.now() - started >= 40, 'waited for a token at the sustained rate');
  });

  it('gives up a wait when its signal aborts, and forgets the waiter', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1 });
    await bucket.acquire();
    await assert.rejects(bucket.acquire(AbortSignal.timeout(30)), /rate limit/);
    assert.equal(bucket.waiting, 0);
  });

  it('is one per process, at Scaleway\'s reported limit', () => {
    assert.equal(processRateLimiter(), processRateLimiter());
    assert.equal(processRateLimiter().ratePerSecond, DEFAULT_RATE_PER_SECOND);
    assert.equal(DEFAULT_RATE_PER_SECOND, 100);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2026-07-30T12:00:00Z');
    assert.equal(parseRetryAfter('2', now), 2_000);
    assert.equal(parseRetryAfter('0.5', now), 500);
    assert.equal(parseRetryAfter('Thu, 30 Jul 2026 12:00:03 GMT', now), 3_000);
    assert.equal(parseRetryAfter('Thu, 30 Jul 2026 11:59:00 GMT', now), 0, 'a date in the past: no wait');
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });
});
