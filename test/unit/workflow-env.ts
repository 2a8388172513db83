// The workflow tests' stage: a real Temporal dev server (in memory, headless),
// the workflows bundled once, and one worker whose activities are stubs chosen
// per workflow ID, so each test scripts its own activities and tests run side
// by side. Time is real (time-skipping needs a Java test server no registry
// ships), so stubs hand the workflow timeouts of a few seconds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { Activities } from '../../activities/index.ts';
import type { NodeClaimRef, NodeClassResolution, Offering, ServerRef } from '../../activities/contract.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../../sandbox/temporal-dev-server.ts';

const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export type Stubs = { [K in keyof Activities]?: (...args: Parameters<Activities[K]>) => Promise<Awaited<ReturnType<Activities[K]>>> };

/** Every activity call a workflow made, in order, with its argument. */
export interface Call {
  name: keyof Activities;
  input: unknown;
}

export interface WorkflowStage {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  /** Scripts the activities of one workflow ID; unscripted ones take the happy path. */
  script(workflowId: string, stubs: Stubs): Call[];
  stop(): Promise<void>;
}

export const OFFERING_A: Offering = { zone: 'fr-par-2', commercialType: 'L4-1-24G', hourlyPriceEur: 0.75, gpuCount: 1 };
export const OFFERING_B: Offering = { zone: 'nl-ams-1', commercialType: 'L4-1-24G', hourlyPriceEur: 0.79, gpuCount: 1 };
export const SERVER: ServerRef = { zone: 'fr-par-2', serverId: '11111111-1111-4111-8111-111111111111', commercialType: 'L4-1-24G', rootVolumeId: '22222222-2222-4222-8222-222222222222' };

export const READY_NODECLASS: NodeClassResolution = {
  ready: true,
  nodeClassName: 'gpu',
  bootstrapMode: 'kubeadm',
  userDataOutlivesJoin: false,
  launchTimeoutSeconds: 3,
  registrationTimeoutSeconds: 3,
  initializationTimeoutSeconds: 3,
};

/** The happy path: a Ready NodeClass, two offerings, a server, a node that registers and initializes. */
const happy: Stubs = {
  resolveNodeClass: () => Promise.resolve(READY_NODECLASS),
  chooseOfferings: () => Promise.resolve({ ok: true, offerings: [OFFERING_A, OFFERING_B] }),
  createServer: () => Promise.resolve({ ok: true, server: SERVER, reused: false }),
  configureBootstrap: () => Promise.resolve(),
  powerOnServer: () => Promise.resolve(),
  waitForServerRunning: () => Promise.resolve({ state: 'running', detail: '' }),
  markLaunched: ({ server }) => Promise.resolve({ providerID: `scaleway://instance/${server.zone}/${server.serverId}` }),
  checkNodeRegistration: () => Promise.resolve({ registered: true, nodeName: 'node-1' }),
  registerNode: () => Promise.resolve(),
  checkNodeInitialization: () => Promise.resolve({ initialized: true }),
  markInitialized: () => Promise.resolve(),
  cleanupBootstrap: () => Promise.resolve(),
  recordFailure: () => Promise.resolve(),
  rollback: () => Promise.resolve({ servers: 1, volumes: 1 }),
  stopProvisioning: () => Promise.resolve(),
  drainNode: () => Promise.resolve({ evicted: 2, forced: 0 }),
  releaseServers: () => Promise.resolve({ servers: 1, volumes: 1 }),
  deleteNode: () => Promise.resolve(),
  releaseBootstrapCredentials: () => Promise.resolve(),
  removeFinalizer: () => Promise.resolve(),
  // Garbage collection (test/unit/gc-workflow.test.ts): nothing to collect unless a test scripts it.
  planGarbageCollection: () => Promise.resolve({ actions: [], zones: [], skippedZones: [] }),
  releaseGarbageServer: () => Promise.resolve({ released: true }),
  deleteGarbageVolume: () => Promise.resolve({ released: true }),
  deleteGarbageToken: () => Promise.resolve({ released: true }),
  deleteNodeClaimWithoutServer: () => Promise.resolve({ released: true }),
};

let runtimeInstalled = false;

export async function startWorkflowStage(name: string): Promise<WorkflowStage> {
  if (!runtimeInstalled) {
    // The worker's logs (every scripted activity failure is a warning) would drown the test report.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const dir = mkdtempSync(join(tmpdir(), `scwk-${name}-`));
  let server: TemporalDevServer | undefined;
  try {
    server = await startTemporalDevServer({ dir, persist: false, headless: true });
    const env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address, namespace: server.namespace });
    const scripts = new Map<string, { stubs: Stubs; calls: Call[] }>();
    const activities = Object.fromEntries(Object.keys(happy).map((key) => {
      const name = key as keyof Activities;
      const run = (input: unknown): Promise<unknown> => {
        const script = scripts.get(Context.current().info.workflowExecution?.workflowId ?? '');
        script?.calls.push({ name, input });
        const stub = (script?.stubs[name] ?? happy[name]) as ((input: unknown) => Promise<unknown>) | undefined;
        return stub ? stub(input) : Promise.reject(new Error(`no stub for ${name}`));
      };
      return [name, run];
    }));
    const taskQueue = `workflow-tests-${name}`;
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
    const worker = await Worker.create({ connection: env.nativeConnection, namespace: server.namespace, taskQueue, workflowBundle, activities });
    const running = worker.run();
    const started = server;
    return {
      env,
      taskQueue,
      script(workflowId, stubs) {
        const calls: Call[] = [];
        scripts.set(workflowId, { stubs, calls });
        return calls;
      },
      async stop() {
        worker.shutdown();
        await running;
        await env.teardown();
        await started.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A NodeClaim ref unique to the test, and its provisioning workflow ID. */
export function nodeClaim(test: string): NodeClaimRef {
  return { name: test, uid: `${test}-uid` };
}

export const callsOf = (calls: Call[], name: keyof Activities): unknown[] => calls.filter((c) => c.name === name).map((c) => c.input);

/** Polls until `check` yields a value (a query, a call count), or fails after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
