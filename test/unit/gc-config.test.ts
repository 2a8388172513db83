// Garbage collection settings from the environment: Karpenter-style durations,
// defaults, and a clear refusal of anything else.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadGarbageCollectionSettings } from '../../runtime/config.ts';

describe('garbage collection settings', () => {
  it('defaults to every minute, a 10 minute grace period, for real', () => {
    assert.deepEqual(loadGarbageCollectionSettings({}), { intervalMs: 60_000, gracePeriodMs: 600_000, dryRun: false });
  });

  it('reads GC_INTERVAL, GC_GRACE_PERIOD and GC_DRY_RUN', () => {
    assert.deepEqual(loadGarbageCollectionSettings({ GC_INTERVAL: '30s', GC_GRACE_PERIOD: '1h30m', GC_DRY_RUN: 'true' }), { intervalMs: 30_000, gracePeriodMs: 5_400_000, dryRun: true });
  });

  it('refuses what is not a positive duration, and a dry-run flag that is not true or false', () => {
    for (const env of [{ GC_INTERVAL: '30' }, { GC_INTERVAL: '0s' }, { GC_GRACE_PERIOD: 'Never' }, { GC_GRACE_PERIOD: '10 minutes' }]) {
      assert.throws(() => loadGarbageCollectionSettings(env), /GC_(INTERVAL|GRACE_PERIOD) must be a duration such as 30s/, JSON.stringify(env));
    }
    assert.throws(() => loadGarbageCollectionSettings({ GC_DRY_RUN: 'yes' }), /GC_DRY_RUN must be 'true' or 'false'/);
  });
});
