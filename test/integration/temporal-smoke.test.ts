import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { useTemporal } from '../harness/stack.ts';
import * as activities from './fixtures/smoke-activities.ts';
import type { TemporalDevServer } from '../../sandbox/temporal-dev-server.ts';
import type { smokeWorkflow } from './fixtures/smoke-workflows.ts';

describe('real Temporal dev server', () => {
  let temporal: TemporalDevServer;
  before(async () => {
    temporal = await useTemporal();
  });

  it('runs a workflow whose activity executes on a worker, and keeps its history', async () => {
    assert.match(temporal.version, /temporal version 1\.5\.1 \(Server 1\.29\.\d+, UI 2\.42\.\d+\)/);
    const taskQueue = 'smoke';
    const nativeConnection = await NativeConnection.connect({ address: temporal.address });
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('./fixtures/smoke-workflows.ts', import.meta.url)),
      activities,
    });
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, namespace: temporal.namespace });
    try {
      const result = await worker.runUntil(
        client.workflow.execute<typeof smokeWorkflow>('smokeWorkflow', { taskQueue, workflowId: 'smoke-1', args: ['L4-1-24G'] }),
      );
      assert.equal(result, 'L4-1-24G handled by activity describeServerType attempt 1 (via workflow)');
      const history = await client.workflow.getHandle('smoke-1').fetchHistory();
      const types = (history.events ?? []).map((e) => e.eventType);
      assert.ok(types.length >= 5, `history has ${types.length} events`);
      const described = await client.workflow.getHandle('smoke-1').describe();
      assert.equal(described.status.name, 'COMPLETED');
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });
});
