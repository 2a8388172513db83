// The process logger: JSON lines of the documented shape, the level filter,
// child loggers' bound fields, and no secret ever written.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { configureLogging, log, REDACTED } from '../../runtime/log.ts';

const lines: string[] = [];
configureLogging({ write: (line) => lines.push(line) });
const parsed = (): Record<string, unknown>[] => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('runtime/log.ts', () => {
  afterEach(() => {
    lines.length = 0;
    configureLogging({ level: 'info', format: 'json' });
  });

  it('writes one JSON object per line with level, time, logger, message and the fields', () => {
    log.child({ logger: 'watcher.provisioner' }).info('created NodeClaim', { nodeClaim: 'gpu-abc', nodePool: 'gpu', zone: 'fr-par-2' });
    const [line] = parsed();
    assert.equal(line?.['level'], 'info');
    assert.equal(line?.['logger'], 'watcher.provisioner');
    assert.equal(line?.['message'], 'created NodeClaim');
    assert.equal(line?.['nodeClaim'], 'gpu-abc');
    assert.equal(line?.['nodePool'], 'gpu');
    assert.equal(line?.['zone'], 'fr-par-2');
    assert.ok(!Number.isNaN(Date.parse(String(line?.['time']))) && String(line?.['time']).endsWith('Z'), 'ISO time');
  });

  it('drops lines below the level', () => {
    configureLogging({ level: 'warn' });
    log.info('hidden');
    log.debug('hidden too');
    log.warn('shown');
    log.error('shown too');
    assert.deepEqual(parsed().map((l) => l['message']), ['shown', 'shown too']);
  });

  it('child loggers bind fields, and a line\'s own fields win', () => {
    const child = log.child({ nodeClaim: 'gpu-1', workflowId: 'provision/gpu-1/u' }).child({ serverId: 's-1' });
    child.warn('waiting', { serverId: 's-2' });
    const [line] = parsed();
    assert.equal(line?.['nodeClaim'], 'gpu-1');
    assert.equal(line?.['workflowId'], 'provision/gpu-1/u');
    assert.equal(line?.['serverId'], 's-2');
  });

  it('never writes a secret, however deep', () => {
    log.info('config', { SCW_SECRET_KEY: 'aaaaaaaa-secret', nested: { token: 'abcdef.0123456789abcdef', password: 'p' }, cloudInit: '#cloud-config join token', accessKey: 'SCWXXXXXXXXXXXXXXXXX', secretName: 'bootstrap-token-abcdef' });
    const raw = lines.join('\n');
    for (const secret of ['aaaaaaaa-secret', '0123456789abcdef', 'join token', 'SCWXXXXXXXXXXXXXXXXX']) assert.ok(!raw.includes(secret), `${secret} written`);
    const [line] = parsed();
    assert.equal(line?.['SCW_SECRET_KEY'], REDACTED);
    assert.deepEqual(line?.['nested'], { token: REDACTED, password: REDACTED });
    assert.equal(line?.['secretName'], 'bootstrap-token-abcdef', 'a name is not a secret');
  });

  it('writes errors as name and message, and text lines when asked', () => {
    configureLogging({ format: 'text' });
    log.error('failed', { error: new Error('boom'), nodeClaim: 'gpu-2' });
    assert.match(lines[0] ?? '', /^\S+Z ERROR scw-karpenter: failed error=.*boom.* nodeClaim=gpu-2$/);
  });
});
