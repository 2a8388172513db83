// A real Temporal server: the temporal CLI's dev server (SQLite, Web UI), in
// its own process on free loopback ports. The SDK's own launcher waits only 5 s
// for it to answer, too short on a 2-core machine, so we start and wait ourselves.
import { Connection } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { killProcess, startProcess, waitUntilReady, type ManagedProcess } from './processes.ts';
import { freePort } from './ports.ts';
import { toolPath, toolVersion } from './tools.ts';

export interface TemporalDevServer {
  readonly address: string;
  readonly namespace: string;
  readonly uiUrl: string;
  readonly version: string;
  readonly process: ManagedProcess;
  /**
   * Stops the server (SIGKILL when `kill`, as a crash would) and starts it again on the same
   * ports and, when persisted, the same SQLite file: its workflows outlive the restart.
   */
  restart(options?: { kill?: boolean; downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export interface TemporalDevServerOptions {
  /** Folder for the SQLite database and the log. */
  dir: string;
  /**
   * Keep workflows in a SQLite file in `dir` (default), so they outlive the
   * server process; false keeps them in memory, which writes no file and
   * starts workflows several times faster on a small machine.
   */
  persist?: boolean;
  namespace?: string;
  port?: number;
  uiPort?: number;
  /** Start without the Web UI (tests). */
  headless?: boolean;
  /** A codec server (runtime/codec-server.ts) the Web UI asks to decode payloads, from the browser. */
  codecEndpoint?: string;
  /** Extra search attributes to register, e.g. `NodeClaim=Keyword`. */
  searchAttributes?: string[];
  readyTimeoutMs?: number;
}

const READY_TIMEOUT_MS = 90_000; // first start creates the SQLite schema: slow on 2 cores

export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? (await freePort());
  const uiPort = options.uiPort ?? (await freePort());
  const binary = toolPath('temporal');
  const version = toolVersion('temporal');
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-port', String(uiPort),
    ...(options.persist === false ? [] : ['--db-filename', join(options.dir, 'temporal.sqlite')]),
    '--namespace', namespace,
    '--log-level', 'warn',
    // One task-queue partition: with the default four, a new workflow's first task can wait a second
    // in a partition no poller is on. A one-worker sandbox gains nothing from partitions.
    '--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1',
    '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1',
    // Metrics would take one more port we do not need.
    '--metrics-port', String(await freePort()),
  ];
  if (options.headless) args.push('--headless');
  if (options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  for (const attribute of options.searchAttributes ?? []) args.push('--search-attribute', attribute);
  const address = `127.0.0.1:${port}`;
  const launch = async (): Promise<ManagedProcess> => {
    const started = startProcess('temporal', binary, args, join(options.dir, 'temporal.log'));
    await waitUntilReady(started, `temporal dev server on ${address}`, options.readyTimeoutMs ?? READY_TIMEOUT_MS, async () => {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return true;
      } finally {
        await connection.close();
      }
    });
    return started;
  };
  let proc = await launch();
  return {
    address,
    namespace,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    version,
    get process() {
      return proc;
    },
    restart: async ({ kill = false, downMs = 0 } = {}) => {
      if (kill) await killProcess(proc);
      else await proc.stop();
      if (downMs > 0) await sleep(downMs);
      proc = await launch();
    },
    stop: () => proc.stop(),
  };
}
