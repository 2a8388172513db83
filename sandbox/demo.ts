// `npm run demo`: the sandbox in a temp folder, end to end and then gone. It
// starts the control plane, the Temporal dev server, the Scaleway simulator
// (recorded latencies, scaled) and scw-karpenter itself, applies the
// ScalewayNodeClass and the L4 NodeClaim from examples/, waits until the
// NodeClaim is Ready and prints what happened: time to each condition, the
// Scaleway calls made, the chosen type and zone, the providerID and the Web UI
// link of the workflow. Exit 0 when Ready; 1 with the conditions and log tails
// otherwise.
//
// It also exports the pieces `npm start` (sandbox/main.ts) uses to apply the
// examples and follow NodeClaims.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { format, parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { startSimulator, type Simulator } from '../scaleway/simulator/index.ts';
import {
  ANNOTATION_WORKFLOW_ID,
  LABEL_INSTANCE_TYPE,
  LABEL_ZONE,
  NODECLAIM_GVR,
  NODECLAIM_READY_DEPENDENTS,
  NODEPOOL_GVR,
  SCALEWAY_NODECLASS_GVR,
  type GroupVersionResource,
} from '../kube/api/constants.ts';
import { parseNodeClaim, type NodeClaim } from '../kube/api/schemas.ts';
import { clusterPath } from '../kube/objects.ts';
import { isAlreadyExists, type KubeRest } from '../kube/rest.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { startProduct, type RunningProduct } from './product.ts';
import { startTemporalDevServer, type TemporalDevServer } from './temporal-dev-server.ts';

// ---- Examples -------------------------------------------------------------------

export const EXAMPLES_DIR = fileURLToPath(new URL('../examples/', import.meta.url));
/** What the sandbox and the demo apply, in order: the class first, then the claim that uses it. */
// The seed tutorial: a NodeClass, the GPU NodePool, and a pod asking for one L4 GPU (the provisioner makes its NodeClaim).
export const DEFAULT_EXAMPLES = ['scalewaynodeclass.yaml', 'nodepool-gpu.yaml', 'pod-gpu-l4.yaml'] as const;

const KNOWN_GVRS: readonly GroupVersionResource[] = [SCALEWAY_NODECLASS_GVR, NODECLAIM_GVR, NODEPOOL_GVR];

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [field: string]: unknown;
}

/** The objects of a YAML file of examples/ (one or more documents). */
export function loadExample(file: string): KubeObject[] {
  const path = resolve(EXAMPLES_DIR, file);
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue; // an empty document
    const obj = value as Partial<KubeObject>;
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || typeof obj.metadata?.name !== 'string') {
      throw new Error(`${path}: every document needs apiVersion, kind and metadata.name`);
    }
    objects.push(obj as KubeObject);
  }
  return objects;
}

/** Creates the objects of an example file through the admin client; an object that already exists is left as is. */
export async function applyExample(kube: KubeRest, file: string): Promise<{ object: KubeObject; created: boolean }[]> {
  const results: { object: KubeObject; created: boolean }[] = [];
  for (const object of loadExample(file)) {
    const gvr = KNOWN_GVRS.find((g) => g.apiVersion === object.apiVersion && g.kind === object.kind);
    const isPod = object.apiVersion === 'v1' && object.kind === 'Pod';
    if (!gvr && !isPod) throw new Error(`${file}: the sandbox applies Pods and ${KNOWN_GVRS.map((g) => g.kind).join(', ')}, not ${object.apiVersion} ${object.kind}`);
    const path = gvr ? clusterPath(gvr) : `/api/v1/namespaces/${(object.metadata as { namespace?: string }).namespace ?? 'default'}/pods`;
    // With kubectl's last-applied annotation, as `kubectl apply` would set it: a later `kubectl apply -f` of the same file patches cleanly.
    const annotations = { ...((object.metadata as { annotations?: Record<string, string> }).annotations ?? {}), 'kubectl.kubernetes.io/last-applied-configuration': `${JSON.stringify(object)}\n` };
    try {
      await kube.post(path, { ...object, metadata: { ...object.metadata, annotations } });
      results.push({ object, created: true });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      results.push({ object, created: false });
    }
  }
  return results;
}

// ---- Following NodeClaims ---------------------------------------------------------

export const workflowUrl = (uiUrl: string, namespace: string, workflowId: string): string =>
  `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;

/** What a follower learnt about one NodeClaim. Times are wall-clock ms. */
export interface NodeClaimProgress {
  name: string;
  /** When it was created: the caller's mark (`created`), else when first seen. */
  since: number;
  /** When each condition was first seen True. */
  trueAt: Map<string, number>;
  workflowId?: string;
  workflowUrl?: string;
  instanceType?: string;
  zone?: string;
  providerID?: string;
  nodeName?: string;
  last: NodeClaim;
}

export interface NodeClaimFollower {
  readonly progress: ReadonlyMap<string, NodeClaimProgress>;
  /** Marks when a NodeClaim was created, for the times printed and reported. */
  created(name: string, at: number): void;
  /** Resolves when the NodeClaim is Ready, rejects when `failed` says so or on timeout. */
  untilReady(name: string, timeoutMs: number): Promise<NodeClaimProgress>;
  stop(): void;
}

const CONDITION_ORDER: readonly string[] = [...NODECLAIM_READY_DEPENDENTS, 'Ready'];
const byLifecycle = (a: string, b: string): number => {
  const rank = (t: string): number => (CONDITION_ORDER.includes(t) ? CONDITION_ORDER.indexOf(t) : CONDITION_ORDER.length);
  return rank(a) - rank(b) || a.localeCompare(b);
};

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Polls the NodeClaims and prints each change: condition transitions with
 * their reasons and messages, the workflow link once the watcher set it, the
 * chosen instance type and the providerID.
 */
export function followNodeClaims(kube: KubeRest, opts: { uiUrl: string; namespace: string; print: (line: string) => void; intervalMs?: number }): NodeClaimFollower {
  const progress = new Map<string, NodeClaimProgress>();
  const shown = new Map<string, string>(); // name/condition type -> status, reason and message last printed
  const marks = new Map<string, number>();
  let stopped = false;
  let lastError = '';

  const observe = (nc: NodeClaim, now: number): void => {
    const name = nc.metadata.name;
    let p = progress.get(name);
    if (!p) {
      p = { name, since: marks.get(name) ?? now, trueAt: new Map(), last: nc };
      progress.set(name, p);
    }
    p.last = nc;
    const at = (): string => `(+${seconds(now - (p?.since ?? now))})`;
    const workflowId = nc.metadata.annotations?.[ANNOTATION_WORKFLOW_ID];
    if (workflowId && p.workflowId !== workflowId) {
      p.workflowId = workflowId;
      p.workflowUrl = workflowUrl(opts.uiUrl, opts.namespace, workflowId);
      opts.print(`${name}: workflow ${workflowId}  ${p.workflowUrl}`);
    }
    const type = nc.metadata.labels?.[LABEL_INSTANCE_TYPE];
    const zone = nc.metadata.labels?.[LABEL_ZONE];
    if (type && (p.instanceType !== type || p.zone !== zone)) {
      p.instanceType = type;
      if (zone) p.zone = zone;
      opts.print(`${name}: instance type ${type}${zone ? ` in ${zone}` : ''} ${at()}`);
    }
    if (nc.status.providerID && p.providerID !== nc.status.providerID) {
      p.providerID = nc.status.providerID;
      opts.print(`${name}: providerID ${p.providerID} ${at()}`);
    }
    if (nc.status.nodeName && p.nodeName !== nc.status.nodeName) {
      p.nodeName = nc.status.nodeName;
      opts.print(`${name}: node ${p.nodeName} ${at()}`);
    }
    for (const c of [...nc.status.conditions].sort((a, b) => byLifecycle(a.type, b.type))) {
      if (c.status === 'True' && !p.trueAt.has(c.type)) p.trueAt.set(c.type, now);
      const text = `${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? ` ${c.message}` : ''}`;
      const key = `${name}/${c.type}`;
      if (shown.get(key) === text) continue;
      shown.set(key, text);
      opts.print(`${name}: ${text} ${at()}`);
    }
    if (nc.metadata.deletionTimestamp && !shown.has(`${name}/-deleting`)) {
      shown.set(`${name}/-deleting`, 'yes');
      opts.print(`${name}: deleting ${at()}`);
    }
  };

  const poll = async (): Promise<void> => {
    while (!stopped) {
      try {
        const list = await kube.get<{ items: unknown[] }>(clusterPath(NODECLAIM_GVR));
        const now = Date.now();
        const names = new Set<string>();
        for (const item of list.items) {
          const nc = parseNodeClaim(item);
          names.add(nc.metadata.name);
          observe(nc, now);
        }
        for (const name of [...progress.keys()]) {
          if (names.has(name)) continue;
          progress.delete(name);
          for (const key of [...shown.keys()]) if (key.startsWith(`${name}/`)) shown.delete(key);
          opts.print(`${name}: gone`);
        }
        lastError = '';
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (!stopped && message !== lastError) opts.print(`(reading NodeClaims failed, retrying: ${message})`);
        lastError = message;
      }
      await sleep(opts.intervalMs ?? 200);
    }
  };
  void poll();

  return {
    progress,
    created: (name, at) => {
      marks.set(name, at);
      const p = progress.get(name);
      if (p) p.since = at;
    },
    untilReady: async (name, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const p = progress.get(name);
        if (p?.trueAt.has('Ready')) return p;
        const launched = p?.last.status.conditions.find((c) => c.type === 'Launched');
        if (launched?.status === 'False') throw new Error(`${name} failed to launch: ${launched.reason ?? ''} ${launched.message ?? ''}`.trim());
        if (Date.now() > deadline) throw new Error(`${name} not Ready after ${seconds(timeoutMs)}`);
        await sleep(100);
      }
    },
    stop: () => {
      stopped = true;
    },
  };
}

// ---- The demo ---------------------------------------------------------------------

/** `300`, `300s`, `5m` or `1500ms` in ms. */
function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text} (e.g. 300, 90s, 5m)`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

/** Product output (worker, watcher, kubelet), kept for a failure report instead of interleaving with the demo's. */
// The Temporal SDK's logger writes to stderr itself, the rest goes through console.
function captureProductOutput(echo: boolean): { lines: string[] } {
  const lines: string[] = [];
  const keep = (text: string): void => {
    lines.push(...text.replace(/\n$/, '').split('\n'));
    if (lines.length > 500) lines.splice(0, lines.length - 500);
  };
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      keep(format(...args));
      if (echo) original(...args);
    };
  }
  const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
  process.stderr.write = (chunk: unknown, ...rest: unknown[]) => {
    keep(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    if (echo) return write(chunk, ...rest);
    const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (done) queueMicrotask(done);
    return true;
  };
  return { lines };
}

function countCalls(simulator: Simulator): { total: number; byKind: [string, number][] } {
  const counts = new Map<string, number>();
  for (const r of simulator.requests) counts.set(r.kind ?? `unknown ${r.method} ${r.path}`, (counts.get(r.kind ?? `unknown ${r.method} ${r.path}`) ?? 0) + 1);
  const byKind = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { total: simulator.requests.length, byKind };
}

async function demo(): Promise<number> {
  const { values: flags } = parseArgs({
    options: {
      /** Scale of the simulator's recorded latencies: 1 is Scaleway's real pace. */
      'time-scale': { type: 'string', default: '0.1' },
      /** How long to wait for Ready. */
      timeout: { type: 'string', default: '5m' },
      /** Show the product's own output (worker, watcher, simulated kubelet) as it comes. */
      verbose: { type: 'boolean', default: false },
      /** Keep the temp folder (logs, Temporal database) even on success. */
      keep: { type: 'boolean', default: false },
    },
  });
  const timeScale = Number(flags['time-scale']);
  if (!(timeScale >= 0)) throw new Error(`--time-scale must be a number >= 0, got ${flags['time-scale']}`);
  const timeoutMs = parseDuration(flags.timeout);

  const out = (line = ''): void => void process.stdout.write(`${line}\n`);
  const started = Date.now();
  const say = (line: string): void => out(`[demo ${seconds(Date.now() - started).padStart(7)}] ${line}`);
  const captured = captureProductOutput(flags.verbose);

  const dir = mkdtempSync(join(tmpdir(), 'scwk-demo-'));
  const stops: (() => Promise<void>)[] = [];
  let controlPlane: ControlPlane | undefined;
  let temporal: TemporalDevServer | undefined;
  let product: RunningProduct | undefined;
  let follower: NodeClaimFollower | undefined;
  let ok = false;
  let interrupted = false;
  const onSignal = (): void => {
    if (!interrupted) say('interrupted: stopping');
    interrupted = true;
  };
  // `on`, not `once`: the same signal relayed by npm and tsx must not kill the process while it stops.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const podName = loadExample('pod-gpu-l4.yaml')[0]?.metadata.name ?? 'gpu-test';
  const poolName = loadExample('nodepool-gpu.yaml')[0]?.metadata.name ?? 'scaleway-gpu';
  let claimName = '(not created yet)';
  try {
    say(`state and logs in ${dir}`);
    say(`starting the control plane, the Temporal dev server and the Scaleway simulator (recorded latencies x${timeScale})`);
    mkdirSync(join(dir, 'temporal'));
    // Each part registers its stop as soon as it is up, so a failure of another still stops it.
    const parts = await Promise.allSettled([
      startControlPlane({ dir: join(dir, 'kube'), withControllers: true }).then((c) => {
        controlPlane = c;
        stops.push(() => c.stop());
        return c;
      }),
      startTemporalDevServer({ dir: join(dir, 'temporal') }).then((t) => {
        temporal = t;
        stops.push(() => t.stop());
        return t;
      }),
      startSimulator({ profile: 'recorded', timeScale }).then((s) => {
        stops.push(() => s.close());
        return s;
      }),
    ]);
    for (const part of parts) if (part.status === 'rejected') throw part.reason;
    const [cp, tds, simulator] = [controlPlane, temporal, (parts[2] as PromiseFulfilledResult<Simulator>).value];
    if (!cp || !tds) throw new Error('unreachable: a part is missing');
    say('starting scw-karpenter: worker, watcher, simulated kubelet');
    product = await startProduct({ controlPlane: cp, temporal: tds, simulator });
    const running = product;
    stops.push(() => running.stop());
    follower = followNodeClaims(product.kube, { uiUrl: tds.uiUrl, namespace: tds.namespace, print: (line) => say(line), intervalMs: 100 });

    let podPostedAt = Date.now();
    for (const file of DEFAULT_EXAMPLES) {
      const postedAt = Date.now();
      for (const { object } of await applyExample(product.kube, file)) {
        say(`applied examples/${file}: ${object.kind} ${object.metadata.name}`);
        if (object.kind === 'Pod') podPostedAt = postedAt;
      }
    }
    // The provisioner turns the pending pod into a NodeClaim of the pool: follow that one.
    const kube = product.kube;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = await kube.get<{ items: { metadata: { name: string } }[] }>(`${clusterPath(NODECLAIM_GVR)}?labelSelector=${encodeURIComponent(`karpenter.sh/nodepool=${poolName}`)}`);
      if (list.items[0]) {
        claimName = list.items[0].metadata.name;
        break;
      }
      if (Date.now() > deadline || interrupted) throw new Error(`no NodeClaim of NodePool ${poolName} was made for pod ${podName}`);
      await sleep(100);
    }
    say(`the provisioner made NodeClaim ${claimName} for pod ${podName} (${seconds(Date.now() - podPostedAt)} after the pod)`);
    follower.created(claimName, podPostedAt);

    const p = await Promise.race([
      follower.untilReady(claimName, timeoutMs),
      (async () => {
        while (!interrupted) await sleep(100);
        throw new Error('interrupted');
      })(),
    ]);
    let podRunningAt: number | undefined;
    while (Date.now() < deadline && !interrupted) {
      const pod = await kube.get<{ spec: { nodeName?: string }; status: { phase?: string } }>(`/api/v1/namespaces/default/pods/${podName}`);
      if (pod.status.phase === 'Running' && pod.spec.nodeName) {
        podRunningAt = Date.now();
        break;
      }
      await sleep(100);
    }
    if (podRunningAt === undefined) throw new Error(`pod ${podName} did not run on the new node`);
    const calls = countCalls(simulator);
    out();
    out(`scw-karpenter demo: pod ${podName} runs on NodeClaim ${claimName}, which is Ready`);
    for (const type of CONDITION_ORDER) {
      const at = p.trueAt.get(type);
      out(`  time to ${`${type}`.padEnd(12)} ${at === undefined ? '-' : seconds(at - p.since)}`);
    }
    out(`  time to pod Running  ${seconds(podRunningAt - p.since)}`);
    out(`  instance type        ${p.instanceType ?? '?'}`);
    out(`  zone                 ${p.zone ?? '?'}`);
    out(`  providerID           ${p.providerID ?? '?'}`);
    out(`  node                 ${p.nodeName ?? '?'}`);
    out(`  Scaleway calls       ${calls.total} in total`);
    for (const [kind, n] of calls.byKind) out(`    ${String(n).padStart(4)}  ${kind}`);
    out(`  Temporal Web UI      ${p.workflowUrl ?? tds.uiUrl}`);
    out(`  (recorded Scaleway latencies x${timeScale}; the Web UI stops with the demo: \`npm start\` keeps it up)`);
    out();
    ok = true;
  } catch (err) {
    say(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
    const p = follower?.progress.get(claimName);
    out();
    out(`NodeClaim ${claimName} conditions:`);
    if (!p) out('  (never seen: not created, or not read before the timeout)');
    else if (p.last.status.conditions.length === 0) out('  (none yet)');
    for (const c of p?.last.status.conditions ?? []) out(`  ${c.type}=${c.status} ${c.reason ?? ''} ${c.message ?? ''} (since ${c.lastTransitionTime})`);
    if (p?.workflowId && product) {
      out(`workflow ${p.workflowId}${p.workflowUrl ? `  ${p.workflowUrl}` : ''}`);
      try {
        const description = await product.worker.client.workflow.getHandle(p.workflowId).describe();
        out(`  status ${description.status.name}`);
        for (const a of description.raw.pendingActivities ?? []) {
          out(`  pending activity ${a.activityType?.name ?? '?'}: attempt ${a.attempt ?? '?'}${a.lastFailure?.message ? `, last failure: ${a.lastFailure.message}` : ''}`);
        }
      } catch (e) {
        out(`  (could not describe it: ${e instanceof Error ? e.message : String(e)})`);
      }
    }
    out();
    out('last lines of scw-karpenter (worker, watcher, simulated kubelet):');
    for (const line of captured.lines.slice(-40)) out(`  ${line}`);
    const logs = [...(controlPlane?.processes.filter((proc) => /controller-manager|apiserver/.test(proc.name)) ?? []), ...(temporal ? [temporal.process] : [])];
    for (const proc of logs) {
      out();
      out(`last lines of ${proc.logFile}:`);
      for (const line of proc.tail(15).split('\n')) out(`  ${line}`);
    }
  } finally {
    follower?.stop();
    say('stopping everything');
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => out(`  stop failed: ${String(err)}`));
    if (ok && !flags.keep) rmSync(dir, { recursive: true, force: true });
    else say(`kept ${dir}`);
  }
  return ok ? 0 : 1;
}

const stderrWrite = process.stderr.write.bind(process.stderr);
const isEntryPoint = (): boolean => {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
};

if (isEntryPoint()) {
  demo().then(
    (code) => process.exit(code),
    (err: unknown) => {
      stderrWrite(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
