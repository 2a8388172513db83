// Child processes of the sandbox (temporal, etcd, kube-apiserver, ...): started
// with their output in a log file, stopped in reverse order, and killed when
// this process exits for any reason so that a failed test leaves nothing behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Last lines of the log, for error messages. */
  tail(lines?: number): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/**
 * A watchdog that ends the child when this process is gone, however it went
 * (SIGKILL, a crash, a CI timeout) — Node has no parent-death signal.
 */
function startWatchdog(childPid: number): ChildProcess {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -TERM "$2" 2>/dev/null; sleep 5; kill -KILL "$2" 2>/dev/null';
  const dog = spawn('sh', ['-c', script, 'watchdog', String(process.pid), String(childPid)], { stdio: 'ignore', detached: true });
  dog.unref();
  return dog;
}

export function startProcess(name: string, command: string, args: readonly string[], logFile: string, env?: NodeJS.ProcessEnv): ManagedProcess {
  installExitHook();
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  const watchdog = child.pid === undefined ? undefined : startWatchdog(child.pid);
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  running.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      watchdog?.kill('SIGKILL');
      resolve();
    });
    child.once('error', (err) => {
      log.write(`\n[sandbox] could not start ${command}: ${err.message}\n`);
      running.delete(child);
      resolve();
    });
  });
  const tail = (lines = 20): string => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!killed) child.kill('SIGKILL');
    }
    await exited;
    log.end();
  };
  return { name, logFile, child, tail, stop };
}

export function hasExited(p: ManagedProcess): boolean {
  return p.child.exitCode !== null || p.child.signalCode !== null;
}

/** SIGKILL, as a crash or an OOM kill would (no shutdown hooks run), then waits for the exit. */
export async function killProcess(p: ManagedProcess): Promise<void> {
  if (!hasExited(p)) p.child.kill('SIGKILL');
  await p.stop();
}

/** Polls `probe` until it resolves true, failing early with the log tail if the process dies. */
export async function waitUntilReady(p: ManagedProcess, what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (hasExited(p)) {
      throw new Error(`${what} exited before it was ready (see ${p.logFile}):\n${p.tail()}`);
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(250);
  }
  throw new Error(`${what} was not ready after ${timeoutMs / 1000} s (last error: ${lastError || 'none'}; see ${p.logFile}):\n${p.tail()}`);
}
