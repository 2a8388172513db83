// `npm start`: the local sandbox on embedded defaults. A real Temporal dev
// server with its Web UI, a real control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) and the Scaleway API simulator, all
// on loopback, and scw-karpenter itself on them: the worker and the watcher as
// the image runs them (their real entry points in child processes, each on its
// own ServiceAccount's token and the chart's roles), and a simulated kubelet. It applies the seed tutorial of examples/ (a NodeClass, the GPU
// NodePool, a pod asking for an L4) and prints each NodeClaim's progress, with
// the link to its workflow in the Web UI, until Ctrl-C.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSimulator } from '../scaleway/simulator/index.ts';
import { NODECLAIM_GVR } from '../kube/api/constants.ts';
import { startControlPlane } from './control-plane.ts';
import { applyExample, DEFAULT_EXAMPLES, followNodeClaims } from './demo.ts';
import { portOr } from './ports.ts';
import { startProductProcesses } from './product-processes.ts';
import { startTemporalDevServer } from './temporal-dev-server.ts';
import { toolPath } from './tools.ts';
import { codecKeysEnv, generateCodecKeys } from '../runtime/codec-key.ts';
import { AesGcmPayloadCodec } from '../runtime/payload-codec.ts';
import { startCodecServer } from '../runtime/codec-server.ts';
import { loadGarbageCollectionSettings } from '../runtime/config.ts';
import { gcScheduleId } from '../workflows/contract.ts';

const { values: flags } = parseArgs({
  options: {
    dir: { type: 'string', default: '.sandbox' },
    'temporal-port': { type: 'string', default: '7233' },
    'ui-port': { type: 'string', default: '8233' },
    'codec-port': { type: 'string', default: '8234' },
    'simulator-port': { type: 'string', default: '4510' },
    /** Scale of the simulator's recorded latencies: 1 is Scaleway's real pace. */
    'time-scale': { type: 'string', default: '0.25' },
    /** Stop once everything is up (a check of the sandbox itself); applies no examples. */
    'exit-when-ready': { type: 'boolean', default: false },
    /** Apply the seed tutorial from examples/ (NodeClass, NodePool, GPU pod) once up (--no-examples: don't). */
    examples: { type: 'boolean', default: true },
  },
  allowNegative: true,
});

const dir = resolve(flags.dir);
const say = (line: string): void => console.log(`[sandbox] ${line}`);
const pidFile = join(dir, 'sandbox.pid');
const otherPid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined;
if (otherPid && isAlive(otherPid)) {
  console.error(`[sandbox] another sandbox (pid ${otherPid}) is running in ${dir}: stop it, or start this one with --dir <another folder>`);
  process.exit(1);
}
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
writeFileSync(pidFile, String(process.pid));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const stops: (() => Promise<void>)[] = [];
let stopping: Promise<never> | undefined;
/** Stops everything once; a second Ctrl-C (or the SIGTERM that npm and tsx relay) waits for the same shutdown. */
function shutdown(code: number): Promise<never> {
  stopping ??= stopAll(code);
  return stopping;
}
async function stopAll(code: number): Promise<never> {
  say('stopping');
  for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error(err));
  rmSync(pidFile, { force: true });
  process.exit(code);
}
// `on`, not `once`: a signal arriving while stopping must not kill the process half-way.
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  // Read before anything starts: a bad GC_INTERVAL, GC_GRACE_PERIOD or GC_DRY_RUN stops here, not half-way.
  const garbageCollection = loadGarbageCollectionSettings();
  say(`state and logs in ${dir}`);
  say('starting the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)');
  const controlPlane = await startControlPlane({ dir: join(dir, 'kube'), withControllers: true });
  stops.push(() => controlPlane.stop());
  for (const [tool, version] of Object.entries(controlPlane.versions)) say(`  ${tool}: ${version}`);

  // One key for this sandbox, used by its worker, its watcher and the codec server that decrypts for the Web UI.
  const codecKeys = generateCodecKeys();
  const payloadCodec = new AesGcmPayloadCodec(codecKeys);
  const uiPort = await portOr(flags['ui-port']);
  const codecServer = await startCodecServer({
    codec: payloadCodec,
    allowedOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
    port: await portOr(flags['codec-port']),
  });
  stops.push(() => codecServer.close());

  say('starting the Temporal dev server');
  mkdirSync(join(dir, 'temporal'));
  const temporal = await startTemporalDevServer({
    dir: join(dir, 'temporal'),
    port: await portOr(flags['temporal-port']),
    uiPort,
    codecEndpoint: codecServer.url,
  });
  stops.push(() => temporal.stop());
  say(`  ${temporal.version}`);

  const timeScale = Number(flags['time-scale']);
  if (!(timeScale >= 0)) throw new Error(`--time-scale must be a number >= 0, got ${flags['time-scale']}`);
  const simulator = await startSimulator({ port: await portOr(flags['simulator-port']), profile: 'recorded', timeScale });
  stops.push(() => simulator.close());

  // After the parts it runs on, so that it stops before them. It installs the CRDs and the kubeadm-init objects.
  say('starting scw-karpenter: worker and watcher (child processes on their ServiceAccounts), simulated kubelet');
  // What the operator sets in the chart's values; the GC_* settings were checked above.
  const passedOn = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => /^(GC_|LOG_LEVEL$)/.test(e[0]) && e[1] !== undefined));
  const product = await startProductProcesses({
    dir: join(dir, 'product'),
    controlPlane,
    temporal,
    simulator,
    env: { ...codecKeysEnv(codecKeys), ...passedOn },
  });
  stops.push(() => product.stop());

  const env = [
    `export KUBECONFIG=${controlPlane.kubeconfig}`,
    `export TEMPORAL_ADDRESS=${temporal.address}`,
    `export TEMPORAL_UI_URL=${temporal.uiUrl}`,
    `export SCW_API_URL=${simulator.url}`,
    // The sandbox's codec key, so that a worker or `npm run replay` started from this shell reads its payloads.
    ...Object.entries(codecKeysEnv(codecKeys)).map(([k, v]) => `export ${k}=${v}`),
  ].join('\n');
  writeFileSync(join(dir, 'env'), `${env}\n`, { mode: 0o600 });
  const kubectl = toolPath('kubectl');

  console.log(`
  Temporal Web UI   ${temporal.uiUrl}
  Temporal address  ${temporal.address}   (temporal workflow list --address ${temporal.address})
  codec server      ${codecServer.url}   (decrypts payloads for the Web UI; temporal workflow show --codec-endpoint ${codecServer.url} -w <id>)
  kubeconfig        ${controlPlane.kubeconfig}   (kubectl --kubeconfig ${controlPlane.kubeconfig} get --raw /version)
  apiserver         ${controlPlane.server}
  Scaleway API      ${simulator.url}   (simulator, recorded latencies x${timeScale})
  env for a shell   source ${join(dir, 'env')}
  kubectl           ${kubectl} --kubeconfig ${controlPlane.kubeconfig} get nodeclaims,nodes
  examples          ${kubectl} --kubeconfig ${controlPlane.kubeconfig} apply -f examples/nodeclaim-h100-sxm.yaml   (a NodeClaim without a pod)
${product.components.map((c) => `  ${c.component.padEnd(17)} ${c.metricsUrl}   (health ${c.healthUrl}/readyz; ServiceAccount ${c.serviceAccount}; log ${c.process.logFile})`).join('\n')}
  GC Schedule       ${gcScheduleId('sandbox')} every ${garbageCollection.intervalMs / 1000} s, grace ${garbageCollection.gracePeriodMs / 1000} s${garbageCollection.dryRun ? ', dry run' : ''}   (${temporal.uiUrl}/namespaces/${temporal.namespace}/schedules)
`);
  if (flags['exit-when-ready']) {
    // A check of the sandbox itself: each process answered /readyz; its /metrics must answer too.
    for (const c of product.components) {
      const response = await fetch(c.metricsUrl);
      const samples = (await response.text()).split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
      if (!response.ok) throw new Error(`the ${c.component}'s ${c.metricsUrl} answered ${response.status}`);
      say(`${c.component} ready; ${c.metricsUrl} answered with ${samples} samples`);
    }
    await shutdown(0);
  }

  // Every NodeClaim, also those applied by hand, as it goes through its conditions.
  const follower = followNodeClaims(product.kube, { uiUrl: temporal.uiUrl, namespace: temporal.namespace, print: (line) => say(line) });
  stops.push(() => Promise.resolve(follower.stop()));
  if (flags.examples) {
    for (const file of DEFAULT_EXAMPLES) {
      const at = Date.now();
      for (const { object, created } of await applyExample(product.kube, file)) {
        say(`${created ? 'applied' : 'already there'}: examples/${file} (${object.kind} ${object.metadata.name})`);
        if (created && object.kind === NODECLAIM_GVR.kind) follower.created(object.metadata.name, at);
      }
    }
  }
  say('ready; Ctrl-C stops everything');
} catch (err) {
  console.error(`[sandbox] failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
}
