// The chaos suite's schedule and random faults are a function of the seed alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { derivedSeed, KILL_TARGETS, makePlan, pickAt } from '../../chaos/plan.ts';
import { Faults, mulberry32, type CallInfo } from '../../scaleway/simulator/faults.ts';

const provisioned = (plan: ReturnType<typeof makePlan>): number =>
  plan.reduce((sum, step) => sum + (step.action.kind === 'pods' ? step.action.count : step.action.kind === 'nodeclaim' ? 1 : 0), 0);

describe('chaos plan', () => {
  it('is the same schedule for the same seed, and another for another seed', () => {
    assert.deepEqual(makePlan({ seed: 42, provisionings: 50 }), makePlan({ seed: 42, provisionings: 50 }));
    assert.notDeepEqual(makePlan({ seed: 42, provisionings: 50 }), makePlan({ seed: 43, provisionings: 50 }));
  });

  it('asks for exactly the provisionings requested, in time order', () => {
    for (const provisionings of [1, 20, 200]) {
      const plan = makePlan({ seed: 7, provisionings });
      assert.equal(provisioned(plan), provisionings);
      assert.deepEqual(plan.map((s) => s.atMs), [...plan.map((s) => s.atMs)].sort((a, b) => a - b));
    }
  });

  it('mixes creates, deletes and kills of every process, even in a short run', () => {
    const plan = makePlan({ seed: 1, provisionings: 20 });
    const kinds = new Set(plan.map((s) => s.action.kind));
    for (const kind of ['pods', 'delete-pods', 'kill']) assert.ok(kinds.has(kind as never), `a ${kind} step`);
    const long = makePlan({ seed: 1, provisionings: 200 });
    const targets = new Set(long.flatMap((s) => (s.action.kind === 'kill' ? [s.action.target] : [])));
    assert.deepEqual([...targets].sort(), [...KILL_TARGETS].sort());
    assert.ok(long.some((s) => s.action.kind === 'nodeclaim') && long.some((s) => s.action.kind === 'delete-nodeclaim'));
  });

  it('picks a candidate by fraction of the sorted list', () => {
    assert.equal(pickAt(['a', 'b', 'c', 'd'], 0), 'a');
    assert.equal(pickAt(['a', 'b', 'c', 'd'], 0.5), 'c');
    assert.equal(pickAt(['a', 'b', 'c', 'd'], 0.999), 'd');
    assert.equal(pickAt([], 0.3), undefined);
  });

  it('derives distinct seeds for the simulator and the kubelets', () => {
    assert.notEqual(derivedSeed(5, 'scaleway'), derivedSeed(5, 'kubelet'));
    assert.equal(derivedSeed(5, 'scaleway'), derivedSeed(5, 'scaleway'));
  });
});

describe('simulator chaos mode', () => {
  const calls: CallInfo[] = Array.from({ length: 400 }, (_, i) =>
    i % 4 === 0 ? { kind: 'createServer', zone: 'fr-par-2', commercialType: 'L4-1-24G' } : i % 4 === 1 ? { kind: 'listServers', zone: 'fr-par-2' } : { kind: 'serverAction', zone: 'fr-par-2', serverId: `s-${i}`, action: i % 4 === 2 ? 'poweron' : 'terminate' });
  const outcomes = (seed: number): string[] => {
    const faults = new Faults();
    faults.chaos({ seed, rates: { server_error: 0.05, out_of_stock: 0.1, quotas_exceeded: 0.05, connection_reset: 0.02, lost_create_drop: 0.05, locked: 0.05, stuck_starting: 0.1, slow_detach: 0.3 } });
    const context = { resource: 'instance_server', resourceId: '', projectId: 'p' };
    const out = calls.map((call) => {
      const connection = faults.takeConnectionFault(call);
      const failure = faults.takeFailure(call, context);
      const stuck = call.kind === 'serverAction' && call.action === 'poweron' && faults.takeStuck(call);
      return `${connection ?? '-'}|${failure ? failure.status : '-'}|${stuck ? 'stuck' : '-'}|${call.serverId ? faults.takeDetachDelay(call.serverId) : 0}`;
    });
    faults.chaosOff();
    return out;
  };

  it('injects the same faults for the same seed and the same calls', () => {
    assert.deepEqual(outcomes(9), outcomes(9));
    assert.notDeepEqual(outcomes(9), outcomes(10));
  });

  it('counts what it injects, by kind, and stops when turned off', () => {
    const faults = new Faults();
    faults.chaos({ seed: 3, rates: { out_of_stock: 1 } });
    const context = { resource: 'server', resourceId: '', projectId: 'p' };
    assert.equal(faults.takeFailure({ kind: 'createServer' }, context)?.status, 503);
    assert.equal(faults.takeFailure({ kind: 'listServers' }, context), undefined, 'out_of_stock only on createServer');
    faults.chaosOff();
    assert.equal(faults.takeFailure({ kind: 'createServer' }, context), undefined);
    assert.equal(faults.chaosCounts().out_of_stock, 1);
  });

  it('answers 429 for every call of a throttled burst, without Retry-After', () => {
    const faults = new Faults();
    faults.chaos({ seed: 1, rates: { too_many_requests: 1 }, throttleBurstMs: [60_000, 60_000] });
    const context = { resource: 'server', resourceId: '', projectId: 'p' };
    const first = faults.takeFailure({ kind: 'listServers' }, context);
    faults.chaos({ seed: 1, rates: {} });
    assert.equal(first?.status, 429);
    assert.equal(first?.headers['Retry-After'], undefined);
  });

  it('locks a server for a while, and lifts the lock when turned off', () => {
    const faults = new Faults();
    faults.chaos({ seed: 1, rates: { locked: 1 }, lockMs: [60_000, 60_000] });
    const error = faults.takeFailure({ kind: 'serverAction', serverId: 'srv', action: 'terminate' }, { resource: 'instance_server', resourceId: 'srv', projectId: 'p' });
    assert.equal(error?.status, 403);
    assert.ok(faults.lockedServers.has('srv'));
    faults.chaosOff();
    assert.ok(!faults.lockedServers.has('srv'));
  });

  it('mulberry32 is deterministic and uniform enough', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const xs = Array.from({ length: 10_000 }, () => a());
    assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
  });
});
