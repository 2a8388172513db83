// The provisioner's batching: one round for a burst, at most maxMs after its
// first pod, and a failed round tried again without waiting for a new pod.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Batcher } from '../../watcher/provisioner/batcher.ts';

/** A batcher whose rounds record when they ran, in ms after it was made. */
function timedBatcher(idleMs: number, maxMs: number): { runs: number[]; batcher: Batcher } {
  const runs: number[] = [];
  const start = Date.now();
  const batcher = new Batcher(() => {
    runs.push(Date.now() - start);
    return Promise.resolve();
  }, idleMs, maxMs);
  return { runs, batcher };
}

describe('Batcher', () => {
  it('runs once for a burst, after the burst has been idle for idleMs', async () => {
    const { runs, batcher } = timedBatcher(60, 5_000);
    for (let i = 0; i < 5; i++) {
      batcher.trigger();
      await sleep(20);
    }
    await sleep(150);
    assert.equal(runs.length, 1, 'one round for five triggers');
    assert.ok((runs[0] ?? 0) >= 80 + 60 - 5, `ran ${runs[0]} ms after the first trigger: after the last trigger's idle window`);
    await batcher.close();
  });

  it('lets each pod extend the window once: updates of pods it already holds do not keep it open', async () => {
    const { runs, batcher } = timedBatcher(60, 5_000);
    batcher.trigger('pod-a');
    batcher.trigger('pod-b');
    // The scheduler rewriting both pods' conditions every 20 ms, as nodes come and go.
    for (let i = 0; i < 10; i++) {
      await sleep(20);
      batcher.trigger(i % 2 === 0 ? 'pod-a' : 'pod-b');
    }
    await sleep(100);
    // Without the key, the updates every 20 ms would hold the first round to 200 + 60 ms.
    assert.ok((runs[0] ?? Infinity) < 150, `the first round ran ${runs[0]} ms after the first trigger: at the idle window of the first two pods, not of their updates`);
    // The next window starts afresh: the updates after the first round gathered the next one.
    assert.ok(runs.length >= 2, `a pod of the last window triggers the next one: rounds at ${runs.join(', ')} ms`);
    await batcher.close();
  });

  it('does not let a steady trickle of pods delay the round past maxMs', async () => {
    let runs = 0;
    const batcher = new Batcher(() => {
      runs++;
      return Promise.resolve();
    }, 50, 150);
    const until = Date.now() + 260;
    while (Date.now() < until && runs === 0) {
      batcher.trigger();
      await sleep(20);
    }
    assert.equal(runs, 1, 'the max window closed the batch although triggers kept coming');
    await batcher.close();
  });

  it('plans again after a failed round, without a new trigger', async () => {
    let calls = 0;
    const batcher = new Batcher(() => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('listing server types in fr-par-2: unreachable')) : Promise.resolve();
    }, 10, 1_000);
    batcher.trigger();
    await sleep(1_300);
    assert.equal(calls, 2, 'the failed round was retried once, then it succeeded');
    await sleep(200);
    assert.equal(calls, 2, 'no retry after a success');
    await batcher.close();
  });

  it('stops retrying once closed', async () => {
    let calls = 0;
    const batcher = new Batcher(() => {
      calls++;
      return Promise.reject(new Error('down'));
    }, 10, 1_000);
    batcher.trigger();
    await sleep(50);
    await batcher.close();
    await sleep(1_200);
    assert.equal(calls, 1);
  });
});
