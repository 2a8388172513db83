// The short chaos run of `npm test`: about 20 provisionings on the real stack,
// with the worker, the watcher, Temporal and the apiserver killed and restarted
// and every kind of fault injected, exactly as `npm run chaos` runs it (its own
// process, one fixed seed), and it must end with every invariant kept.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { NODE } from '../../chaos/processes.ts';

const MAIN = fileURLToPath(new URL('../../chaos/main.ts', import.meta.url));
/** The seed of the short run; a failure prints the command that replays it. */
const SEED = 20261202;
/** About 3 to 5 minutes here; past this the run is told to stop (SIGTERM), and it logs where it was. */
const TIMEOUT_MS = 10 * 60_000;
/** After the SIGTERM, the run's own shutdown of its processes. */
const SHUTDOWN_MS = 30_000;

function runChaos(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_MS).unref();
    }, TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('chaos suite (short run)', () => {
  it('keeps every invariant over ~20 fault-injected provisionings and prints its figures', { timeout: TIMEOUT_MS + SHUTDOWN_MS + 30_000 }, async () => {
    const { code, output } = await runChaos(['--provisionings', '20', '--seed', String(SEED), '--settle-max', '200']);
    const at = output.indexOf('chaos run, seed');
    const figures = at < 0 ? '' : output.slice(at);
    // The run's own log says where it was when it failed or was stopped.
    const tail = `npm run chaos -- --provisionings 20 --seed ${SEED} exited ${code}; its last lines:\n${output.split('\n').filter((l) => !l.startsWith('{')).slice(-60).join('\n')}`;
    console.log(figures || tail);
    for (const line of ['provisionings', 'scaleway faults', 'kubelet faults', 'restarts', 'leaked', 'duplicates', 'stuck', 'secrets found', 'time']) {
      assert.match(figures, new RegExp(`^  ${line} `, 'm'), `the figures give "${line}"\n${tail}`);
    }
    assert.equal(code, 0, tail);
    assert.match(figures, /PASS/);
  });
});
