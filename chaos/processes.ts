// The worker and the watcher as separate OS processes, as their Deployments
// run them: started from their entry points (worker/main.ts, watcher/main.ts)
// with the environment of runtime/config.ts, SIGKILLed by the plan, and
// restarted by a supervisor when they die on their own (a Deployment's
// restart), which is counted apart from the plan's kills.
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { hasExited, killProcess, startProcess, type ManagedProcess } from '../sandbox/processes.ts';

/** The project's Node 24 (the system `node` may be older), as every npm script uses. */
export const NODE = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
/** A crashed process comes back after this, as a restarting container would (without the growing backoff). */
const CRASH_RESTART_MS = 1_000;

export interface ProductProcess {
  readonly name: string;
  readonly logFile: string;
  /** Plan kills so far. */
  readonly kills: number;
  /** Exits nobody asked for (then restarted). */
  readonly crashes: number;
  /** SIGKILLs the process; it stays down until start(). */
  kill(): Promise<void>;
  start(): void;
  isUp(): boolean;
  stop(): Promise<void>;
}

export function productProcess(name: 'worker' | 'watcher', env: NodeJS.ProcessEnv, logFile: string, log: (line: string) => void): ProductProcess {
  const entry = fileURLToPath(new URL(`../${name}/main.ts`, import.meta.url));
  let current: ManagedProcess | undefined;
  let wanted = false;
  let kills = 0;
  let crashes = 0;

  const start = (): void => {
    wanted = true;
    if (current && !hasExited(current)) return;
    const proc = startProcess(name, NODE, ['--import', 'tsx', entry], logFile, { ...process.env, ...env });
    current = proc;
    proc.child.once('exit', (code, signal) => {
      if (!wanted || current !== proc) return;
      crashes += 1;
      log(`${name} exited by itself (${signal ?? `code ${code}`}); restarting in ${CRASH_RESTART_MS} ms`);
      void sleep(CRASH_RESTART_MS).then(() => {
        if (wanted && current === proc) start();
      });
    });
  };
  return {
    name,
    logFile,
    get kills() {
      return kills;
    },
    get crashes() {
      return crashes;
    },
    kill: async () => {
      wanted = false;
      kills += 1;
      if (current) await killProcess(current);
    },
    start,
    isUp: () => current !== undefined && !hasExited(current),
    stop: async () => {
      wanted = false;
      if (current) await current.stop();
    },
  };
}
