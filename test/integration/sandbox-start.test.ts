// `npm start` as a newcomer runs it, stopped once everything is up: the worker
// and the watcher run as child processes from their real entry points, on
// their ServiceAccounts' tokens (never the admin certificate), and each
// answers /readyz and /metrics.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

describe('npm start -- --exit-when-ready', () => {
  it('runs the worker and the watcher as processes on their ServiceAccounts, each ready with metrics', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scw-sandbox-start-'));
    try {
      const run = spawnSync('npm', ['start', '--', '--exit-when-ready', '--dir', dir, '--temporal-port', '0', '--ui-port', '0', '--codec-port', '0', '--simulator-port', '0'], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 300_000,
      });
      const output = `${run.stdout}\n${run.stderr}`;
      assert.equal(run.error, undefined, `could not run npm start: ${String(run.error)}`);
      assert.equal(run.status, 0, `npm start exited ${run.status} (signal ${run.signal}):\n${output}`);
      for (const component of ['worker', 'watcher']) {
        assert.match(output, new RegExp(`ServiceAccount scw-karpenter/scw-karpenter-${component}`), component);
        assert.match(output, new RegExp(`${component} ready; http://127\\.0\\.0\\.1:\\d+/metrics answered with [1-9]\\d* samples`), component);
        // The process's own log: JSON lines, and the kubeconfig it ran on holds a token, not the admin certificate.
        const log = readFileSync(join(dir, 'product', `${component}.log`), 'utf8');
        const first = log.split('\n').find((line) => line.startsWith('{'));
        assert.ok(first, `${component}.log has JSON lines:\n${log.slice(0, 2000)}`);
        const kubeconfig = readFileSync(join(dir, 'product', `scw-karpenter-${component}`, 'kubeconfig'), 'utf8');
        assert.match(kubeconfig, /token:/);
        assert.doesNotMatch(kubeconfig, /client-certificate|client-key/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
