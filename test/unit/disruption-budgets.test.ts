// Budget schedules (cron windows in UTC), node counts and percentages, reasons,
// and the pool counts that feed them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNode } from '../../kube/api/core.ts';
import { parseNodeClaim, parseNodePool, type NodePool } from '../../kube/api/schemas.ts';
import { allowedDisruptions, budgetNodes, countPoolNodes, isBudgetActive, type Budget } from '../../watcher/disruption/budgets.ts';
import { cronMatches, cronWindowActive, parseCron } from '../../watcher/disruption/cron.ts';

const at = (iso: string): Date => new Date(iso);

function poolWith(budgets: unknown[]): NodePool {
  return parseNodePool({
    metadata: { name: 'gpu' },
    spec: { template: { spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' }, requirements: [] } }, disruption: { budgets } },
  });
}

describe('cron', () => {
  it('matches minutes, hours, ranges, steps, lists and names in UTC', () => {
    const weekdays = parseCron('30 9-17/4 * * mon-fri');
    assert.equal(cronMatches(weekdays, at('2026-03-02T09:30:00Z')), true, 'Monday 09:30');
    assert.equal(cronMatches(weekdays, at('2026-03-02T13:30:59Z')), true, 'Monday 13:30, seconds ignored');
    assert.equal(cronMatches(weekdays, at('2026-03-02T11:30:00Z')), false, '11 is not in 9-17/4');
    assert.equal(cronMatches(weekdays, at('2026-03-01T09:30:00Z')), false, 'Sunday');
    assert.equal(cronMatches(parseCron('*/15 * * JAN,jul *'), at('2026-07-04T22:45:00Z')), true);
    assert.equal(cronMatches(parseCron('*/15 * * JAN,jul *'), at('2026-08-04T22:45:00Z')), false);
    assert.equal(cronMatches(parseCron('10/20 * * * *'), at('2026-08-04T22:50:00Z')), true, '10/20 is 10,30,50');
    assert.equal(cronMatches(parseCron('10/20 * * * *'), at('2026-08-04T22:40:00Z')), false);
  });

  it('ORs day-of-month and day-of-week when both are restricted, ANDs otherwise', () => {
    const either = parseCron('0 0 1 * mon');
    assert.equal(cronMatches(either, at('2026-04-01T00:00:00Z')), true, 'the 1st, a Wednesday');
    assert.equal(cronMatches(either, at('2026-03-02T00:00:00Z')), true, 'a Monday, not the 1st');
    assert.equal(cronMatches(either, at('2026-03-03T00:00:00Z')), false);
    const monthly = parseCron('0 0 1 * *');
    assert.equal(cronMatches(monthly, at('2026-03-02T00:00:00Z')), false);
  });

  it('expands the macros', () => {
    assert.equal(cronMatches(parseCron('@daily'), at('2026-03-02T00:00:00Z')), true);
    assert.equal(cronMatches(parseCron('@daily'), at('2026-03-02T01:00:00Z')), false);
    assert.equal(cronMatches(parseCron('@hourly'), at('2026-03-02T07:00:00Z')), true);
    assert.equal(cronMatches(parseCron('@weekly'), at('2026-03-01T00:00:00Z')), true, 'Sunday midnight');
    assert.equal(cronMatches(parseCron('@yearly'), at('2026-01-01T00:00:00Z')), true);
    assert.equal(cronMatches(parseCron('@monthly'), at('2026-01-02T00:00:00Z')), false);
  });

  it('rejects what it does not understand, saying why', () => {
    assert.throws(() => parseCron('0 9 * *'), /expected 5 fields/);
    assert.throws(() => parseCron('60 * * * *'), /minute "60" is not in 0-59/);
    assert.throws(() => parseCron('0 0 L * *'), /day of month "L"/);
    assert.throws(() => parseCron('@every 5m'), /unknown macro/);
    assert.throws(() => parseCron('*/0 * * * *'), /bad step/);
    assert.throws(() => parseCron('0 17-9 * * *'), /runs backwards/);
  });

  it('opens a window of the given duration after each hit, end excluded', () => {
    const nine = parseCron('0 9 * * *');
    const hour = 3_600_000;
    assert.equal(cronWindowActive(nine, hour, at('2026-03-02T09:00:00Z')), true, 'at the hit');
    assert.equal(cronWindowActive(nine, hour, at('2026-03-02T09:59:59Z')), true);
    assert.equal(cronWindowActive(nine, hour, at('2026-03-02T10:00:00Z')), false, 'the window is (hit, hit + duration)');
    assert.equal(cronWindowActive(nine, hour, at('2026-03-02T08:59:59Z')), false);
    assert.equal(cronWindowActive(nine, 0, at('2026-03-02T09:00:00Z')), false, 'no duration, no window');
  });
});

describe('budget nodes and activity', () => {
  const b = (nodes: string, extra: Partial<Budget> = {}): Budget => ({ nodes, ...extra });

  it('reads counts and rounds percentages up', () => {
    assert.equal(budgetNodes(b('3'), 10), 3);
    assert.equal(budgetNodes(b('10%'), 5), 1);
    assert.equal(budgetNodes(b('10%'), 10), 1);
    assert.equal(budgetNodes(b('10%'), 11), 2);
    assert.equal(budgetNodes(b('50%'), 3), 2);
    assert.equal(budgetNodes(b('0%'), 100), 0);
    assert.equal(budgetNodes(b('100%'), 0), 0);
  });

  it('is always active without a schedule, and only in its window with one', () => {
    assert.equal(isBudgetActive(b('0'), at('2026-03-02T03:00:00Z')), true);
    const nights = b('0', { schedule: '0 22 * * *', duration: '10h' });
    assert.equal(isBudgetActive(nights, at('2026-03-03T03:00:00Z')), true);
    assert.equal(isBudgetActive(nights, at('2026-03-03T12:00:00Z')), false);
    assert.equal(isBudgetActive(b('0', { schedule: '0 22 * * *', duration: '1h30m' }), at('2026-03-02T23:29:00Z')), true);
    assert.throws(() => isBudgetActive(b('0', { duration: '1h' }), at('2026-03-02T23:29:00Z')), /no schedule/);
  });

  it('takes the minimum over active budgets for the reason; none applying means unlimited', () => {
    const monday10 = at('2026-03-02T10:00:00Z');
    const pool = poolWith([
      { nodes: '50%' },
      { nodes: '1', reasons: ['Underutilized'] },
      { nodes: '0', reasons: ['Drifted'], schedule: '0 9 * * mon-fri', duration: '8h' },
    ]);
    assert.equal(allowedDisruptions(pool, 'Empty', 10, monday10).allowed, 5);
    assert.equal(allowedDisruptions(pool, 'Underutilized', 10, monday10).allowed, 1);
    assert.equal(allowedDisruptions(pool, 'Drifted', 10, monday10).allowed, 0);
    assert.equal(allowedDisruptions(pool, 'Drifted', 10, at('2026-03-01T10:00:00Z')).allowed, 5, 'Sunday: the weekday budget is inactive');
    assert.equal(allowedDisruptions(poolWith([{ nodes: '0', reasons: ['Drifted'] }]), 'Empty', 10, monday10).allowed, Number.POSITIVE_INFINITY);
    assert.equal(allowedDisruptions(poolWith([]), 'Empty', 10, monday10).allowed, Number.POSITIVE_INFINITY);
  });

  it("defaults to upstream's 10%", () => {
    const pool = poolWith(undefined as unknown as unknown[]);
    assert.deepEqual(pool.spec.disruption.budgets, [{ nodes: '10%' }]);
    assert.equal(allowedDisruptions(pool, 'Empty', 25, at('2026-03-02T10:00:00Z')).allowed, 3);
  });

  it('fails closed on a schedule it cannot read', () => {
    const result = allowedDisruptions(poolWith([{ nodes: '5', schedule: '0 0 31W * *', duration: '1h' }]), 'Empty', 10, at('2026-03-02T10:00:00Z'));
    assert.equal(result.allowed, 0);
    assert.equal(result.errors.length, 1);
    assert.match(result.errors[0]!, /^budget 0: invalid cron schedule/);
  });
});

describe('pool node counts', () => {
  const claim = (name: string, o: { initialized?: boolean; deleting?: boolean } = {}) =>
    parseNodeClaim({
      metadata: { name, ...(o.deleting ? { deletionTimestamp: '2026-03-02T09:00:00Z' } : {}) },
      spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' }, requirements: [] },
      status: { conditions: [{ type: 'Initialized', status: o.initialized === false ? 'Unknown' : 'True', lastTransitionTime: '2026-03-02T08:00:00Z' }] },
    });
  const node = (name: string, o: { ready?: boolean; disrupted?: boolean } = {}) =>
    parseNode({
      metadata: { name },
      spec: { taints: o.disrupted ? [{ key: 'karpenter.sh/disrupted', effect: 'NoSchedule' }] : [] },
      status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
    });

  it('counts initialized nodes, and as in flight the deleting, disrupted and NotReady ones', () => {
    const counts = countPoolNodes([
      { nodeClaim: claim('ok'), node: node('ok') },
      { nodeClaim: claim('booting', { initialized: false }), node: node('booting') },
      { nodeClaim: claim('launching'), node: undefined },
      { nodeClaim: claim('deleting', { deleting: true }), node: node('deleting') },
      { nodeClaim: claim('tainted'), node: node('tainted', { disrupted: true }) },
      { nodeClaim: claim('sick'), node: node('sick', { ready: false }) },
    ]);
    assert.deepEqual(counts, { total: 4, disrupting: 3 });
  });
});
