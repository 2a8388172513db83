// The determinism guard: workflow histories recorded by the integration suite
// (SCWK_RECORD_HISTORIES=1, exported with `temporal workflow show --output json`)
// must replay on the current workflow code. A change that would break running
// workflows fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { readHistoryFile, replayHistories } from '../../worker/replay.ts';

const dir = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('recorded workflow histories', () => {
  it('are there to replay', () => {
    assert.ok(files.some((f) => f.startsWith('provision-')), `histories: ${files.join(', ')}`);
  });

  it('all replay on the current workflow code', async () => {
    const outcomes = await replayHistories(files.map((f) => ({ workflowId: f, history: readHistoryFile(`${dir}${f}`) })));
    assert.equal(outcomes.length, files.length);
    assert.deepEqual(outcomes.filter((o) => o.error).map((o) => `${o.workflowId}: ${o.error?.message ?? ''}`), []);
  });

  it('catch a workflow that would now do something else (the guard can fail)', async () => {
    const file = files.find((f) => f.startsWith('provision-'));
    assert.ok(file);
    const json = JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as { events: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[] };
    const scheduled = json.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'configureBootstrap');
    assert.ok(scheduled?.activityTaskScheduledEventAttributes?.activityType, 'the history schedules configureBootstrap');
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'pickCheapestServer';
    const [outcome] = await replayHistories([{ workflowId: 'tampered', history: historyFromJSON(json) }]);
    assert.ok(outcome?.error, 'the tampered history fails to replay');
    assert.match(outcome.error.message, /nondetermin/i);
  });
});
