// The watcher's keyed work queue: one reconcile per key at a time, events
// folded into one more pass, failures retried with backoff (500 ms, then 1 s).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedQueue } from '../../watcher/queue.ts';
import { configureLogging, loggingSettings } from '../../runtime/log.ts';

interface Gate {
  promise: Promise<void>;
  open: () => void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
}

/** Lets pending promise callbacks and immediate timers run. */
const settle = (): Promise<void> => sleep(5);

describe('KeyedQueue', () => {
  /** The warnings the queue logged, as text lines. */
  let warnings: string[];
  let previous: ReturnType<typeof loggingSettings>;
  beforeEach(() => {
    // Failures are logged; keep the test output quiet but inspectable.
    warnings = [];
    previous = { ...loggingSettings() };
    configureLogging({ format: 'text', write: (line) => { if (/warn/i.test(line)) warnings.push(line); } });
  });
  afterEach(() => configureLogging(previous));

  it('reconciles a key once per add when it is quiet', async () => {
    const seen: string[] = [];
    const q = new KeyedQueue('test', (key) => { seen.push(key); return Promise.resolve(); });
    q.add('a');
    await q.idle();
    q.add('a');
    await q.idle();
    assert.deepEqual(seen, ['a', 'a']);
    await q.close();
  });

  it('runs one reconcile per key at a time and folds events during a run into exactly one more', async () => {
    let active = 0;
    let maxActive = 0;
    const gates: Gate[] = [];
    const runs: string[] = [];
    const q = new KeyedQueue('test', async (key) => {
      runs.push(key);
      active++;
      maxActive = Math.max(maxActive, active);
      const g = gate();
      gates.push(g);
      await g.promise;
      active--;
    });
    q.add('a');
    q.add('a');
    q.add('a');
    q.add('a');
    await settle();
    assert.deepEqual(runs, ['a'], 'events during the run wait for it');
    gates[0]!.open();
    await settle();
    assert.deepEqual(runs, ['a', 'a'], 'three events folded into one more run');
    gates[1]!.open();
    await q.idle();
    assert.deepEqual(runs, ['a', 'a']);
    assert.equal(maxActive, 1);
    await q.close();
  });

  it('runs different keys concurrently', async () => {
    const g = gate();
    const started: string[] = [];
    const q = new KeyedQueue('test', async (key) => { started.push(key); await g.promise; });
    q.add('a');
    q.add('b');
    await settle();
    assert.deepEqual(started.sort(), ['a', 'b']);
    g.open();
    await q.idle();
    await q.close();
  });

  it('idle() waits for the folded run, and resolves at once when nothing runs', async () => {
    const q0 = new KeyedQueue('test', () => Promise.resolve());
    let early = false;
    await Promise.race([q0.idle().then(() => { early = true; }), sleep(50)]);
    assert.ok(early);

    const gates: Gate[] = [];
    let done = 0;
    const q = new KeyedQueue('test', async () => {
      const g = gate();
      gates.push(g);
      await g.promise;
      done++;
    });
    q.add('a');
    await settle();
    q.add('a');
    let idle = false;
    const waiting = q.idle().then(() => { idle = true; });
    gates[0]!.open();
    await settle();
    assert.equal(done, 1);
    assert.ok(!idle, 'not idle while the folded run is going');
    gates[1]!.open();
    await waiting;
    assert.equal(done, 2);
    await q.close();
  });

  it('retries a failure after 500 ms, then 1 s, logging what failed', async () => {
    const times: number[] = [];
    const q = new KeyedQueue('nodeclaims', (key) => {
      times.push(performance.now());
      return times.length <= 2 ? Promise.reject(new Error(`cannot reach ${key}`)) : Promise.resolve();
    });
    q.add('gpu-a');
    await q.idle();
    assert.equal(times.length, 1, 'idle while the retry waits');
    await sleep(1700);
    assert.equal(times.length, 3);
    const first = times[1]! - times[0]!;
    const second = times[2]! - times[1]!;
    assert.ok(first >= 490 && first < 900, `first retry after ${first} ms`);
    assert.ok(second >= 990 && second < 1400, `second retry after ${second} ms`);
    const logged = warnings;
    assert.equal(logged.length, 2);
    assert.match(logged[0]!, /queue=nodeclaims key=gpu-a retry=1 delayMs=500 error="cannot reach gpu-a"/);
    assert.match(logged[1]!, /retry=2 delayMs=1000/);
    await q.close();
  });

  it('forgets the failure count after a success', async () => {
    const times: number[] = [];
    const outcomes = [false, true, false, true];
    const q = new KeyedQueue('test', () => {
      times.push(performance.now());
      return outcomes[times.length - 1] ? Promise.resolve() : Promise.reject(new Error('no'));
    });
    q.add('a');
    await sleep(650);
    assert.equal(times.length, 2);
    q.add('a');
    await sleep(650);
    assert.equal(times.length, 4);
    assert.ok(times[3]! - times[2]! < 900, 'the second failure waits the base delay again');
    assert.match(String(warnings[1]), /retry=1 delayMs=500/);
    await q.close();
  });

  it('close() waits for the run in flight, cancels pending retries and ignores new keys', async () => {
    const g = gate();
    let calls = 0;
    const q = new KeyedQueue('test', async (key) => {
      calls++;
      if (key === 'slow') await g.promise;
      else throw new Error('fail');
    });
    q.add('failing');
    await q.idle();
    assert.equal(calls, 1);
    q.add('slow');
    await settle();
    let closed = false;
    const closing = q.close().then(() => { closed = true; });
    await settle();
    assert.ok(!closed, 'close waits for the slow run');
    g.open();
    await closing;
    q.add('other');
    await sleep(700);
    assert.equal(calls, 2, 'neither the retry of "failing" nor "other" ran');
  });
});
