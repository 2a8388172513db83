// The worker's shared apiserver reads: concurrent callers share one GET, a
// NodeClass answer serves for its window and no longer, a failure is not kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SharedReads } from '../../activities/shared-reads.ts';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SharedReads', () => {
  it('gives callers that ask while a read is in flight that read\'s answer', async () => {
    const reads = new SharedReads();
    const gate = deferred<string>();
    let calls = 0;
    const read = (): Promise<string> => {
      calls++;
      return gate.promise;
    };
    const a = reads.get('nodeclaim/u1', 0, read);
    const b = reads.get('nodeclaim/u1', 0, read);
    const other = reads.get('nodeclaim/u2', 0, () => Promise.resolve('u2'));
    gate.resolve('u1');
    assert.deepEqual(await Promise.all([a, b, other]), ['u1', 'u1', 'u2']);
    assert.equal(calls, 1);
  });

  it('reads again once a read has landed when no window is asked for', async () => {
    const reads = new SharedReads();
    let calls = 0;
    const read = (): Promise<number> => Promise.resolve(++calls);
    assert.equal(await reads.get('k', 0, read), 1);
    assert.equal(await reads.get('k', 0, read), 2);
    assert.equal(reads.size, 0, 'nothing kept after the read');
  });

  it('serves a landed answer within its window, then reads again', async () => {
    let now = 1_000;
    const reads = new SharedReads(() => now);
    let calls = 0;
    const read = (): Promise<number> => Promise.resolve(++calls);
    assert.equal(await reads.get('nodeclass/gpu', 1_000, read), 1);
    now += 999;
    assert.equal(await reads.get('nodeclass/gpu', 1_000, read), 1);
    now += 1;
    assert.equal(await reads.get('nodeclass/gpu', 1_000, read), 2);
  });

  it('does not keep a failed read: the next caller reads again', async () => {
    const reads = new SharedReads();
    const failing = deferred<string>();
    const first = reads.get('k', 60_000, () => failing.promise);
    const joined = reads.get('k', 60_000, () => Promise.resolve('not read'));
    failing.reject(new Error('apiserver down'));
    await assert.rejects(first, /apiserver down/);
    await assert.rejects(joined, /apiserver down/, 'a caller that joined the read shares its failure');
    assert.equal(await reads.get('k', 60_000, () => Promise.resolve('fresh')), 'fresh');
  });
});
