// Karpenter v1.14.1 (its KWOK provider) and scw-karpenter side by side on ONE control
// plane, on the same pods and the same Scaleway catalog, alternating rounds.
//
// Run: npm run bench:karpenter -- --bursts 50,200 --rounds 1
//      (writes bench/results/karpenter-side-by-side.md)
// Options: --bursts N,N,... (50,200; 500 and 1000 work too; 'none' for scenarios only)  --rounds R (pairs per size)
//          --scenarios all|none|name,... (the mixed scenarios of workloads.ts, one pair each; default all)
//          --persist (the Temporal dev server on a SQLite file, as npm start runs it; default in memory)
//          --runtime production|tsx (ours as the image runs it, compiled with its workflow bundle; or npm start's tsx)
//          --sides karpenter,ours (one side alone, e.g. to try a change to ours without building Karpenter)
//          --timeout-min 10 (per round)  --concurrency 32 (parallel pod POSTs)  --warmup 4 (pods)
//          --report PATH (default bench/results/karpenter-side-by-side.md)
//          --cpu-prof DIR (with the production runtime: V8 CPU profiles of ours' worker and watcher, written at the end into DIR/<component>/)
//          --log-level debug (ours' LOG_LEVEL; debug logs every activity's start and end)  --keep (keep the logs)
//          --env NAME=VALUE,... (settings for ours' worker and watcher, e.g. a WORKER_MAX_CONCURRENT_* tunable)
//
// The stack: etcd, kube-apiserver, kube-controller-manager and kube-scheduler; Karpenter's
// CRDs (its NodePool and NodeClaim serve both provisioners) and our ScalewayNodeClass;
// Karpenter out of cluster on a KWOKNodeClass, its instance types made from the offerings
// our planner reads (bench/karpenter/instance-types.ts); scw-karpenter's worker and watcher
// as npm start runs them (child processes on their ServiceAccounts), on a Temporal dev
// server in memory and the Scaleway simulator (recorded latency profile, timeScale 1)
// behind the recording proxy. Both controllers run throughout; each round's pods select
// one provisioner's NodePool, and the rounds alternate which provisioner goes first.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { ControlPlane } from '../../sandbox/control-plane.ts';
import type { TemporalDevServer } from '../../sandbox/temporal-dev-server.ts';
import { startProductComponents, startProductProcesses, type RunningProductProcesses } from '../../sandbox/product-processes.ts';
import { buildProduction, launchCompiled } from './production-build.ts';
import { installCrds } from '../../sandbox/install-crds.ts';
import type { Simulator } from '../../scaleway/simulator/index.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';
import { createScalewayCloud } from '../../scaleway/cloud.ts';
import { createKubeRest } from '../../kube/rest.ts';
import { loadKubeCredentials } from '../../kube/credentials.ts';
import { clusterPath } from '../../kube/objects.ts';
import { NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { parseScalewayNodeClass } from '../../kube/api/schemas.ts';
import { rootVolumeOf } from '../../kube/api/nodeclass-defaults.ts';
import { kwokInstanceTypes } from './instance-types.ts';
import { installKarpenter, installKarpenterCrds, startKarpenter, type RunningKarpenter } from './karpenter-process.ts';
import { startRecordingProxy, type RecordingProxy } from '../recording-proxy.ts';
import { startBenchStack } from '../stack.ts';
import { kwokNodeClass, nodePool, scalewayNodeClass, ZONES, type Side } from './objects.ts';
import { observe, runRound, type Observations, type RoundContext, type RoundResult } from './round.ts';
import { renderReport, type ScenarioOptimum } from './report.ts';
import { burst, SCENARIOS, type Workload } from './workloads.ts';
import { scenarioOptimum } from './scenario-optimum.ts';
import { assertFlowSchemasInstalled } from './apiserver-calls.ts';

const KARPENTER_VERSION = 'v1.14.1';

const DEFAULT_REPORT = fileURLToPath(new URL('../results/karpenter-side-by-side.md', import.meta.url));
const { values: args } = parseArgs({
  options: {
    bursts: { type: 'string', default: '50,200' },
    rounds: { type: 'string', default: '1' },
    'timeout-min': { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '4' },
    scenarios: { type: 'string', default: 'all' },
    persist: { type: 'boolean', default: false },
    sides: { type: 'string', default: 'karpenter,ours' },
    runtime: { type: 'string', default: 'production' },
    report: { type: 'string', default: DEFAULT_REPORT },
    'cpu-prof': { type: 'string' },
    'log-level': { type: 'string' },
    keep: { type: 'boolean', default: false },
    env: { type: 'string' },
  },
});
const bursts = args.bursts.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
const rounds = Math.max(1, Number(args.rounds));
const warmup = Number(args.warmup);
const scenarios = args.scenarios === 'all' ? [...SCENARIOS] : SCENARIOS.filter((w) => args.scenarios.split(',').includes(w.name));
const sides = (['karpenter', 'ours'] as const).filter((s) => args.sides.split(',').includes(s));
const persist = args.persist;
const production = args.runtime !== 'tsx';
const command = [
  `npm run bench:karpenter -- --bursts ${bursts.length ? bursts.join(',') : 'none'} --rounds ${rounds}`,
  args.scenarios === 'all' ? '' : ` --scenarios ${scenarios.length ? scenarios.map((w) => w.name).join(',') : 'none'}`,
  persist ? ' --persist' : '',
  production ? '' : ' --runtime tsx',
  sides.length < 2 ? ` --sides ${sides.join(',')}` : '',
  args.report !== DEFAULT_REPORT ? ` --report ${args.report}` : '',
  args.env ? ` --env ${args.env}` : '',
].join('');
const REPORT = args.report;
/** --env NAME=VALUE,...: what a round of ours runs with on top of the image's settings; the report's command shows it. */
const productEnv = Object.fromEntries((args.env ?? '').split(',').filter(Boolean).map((pair) => {
  const at = pair.indexOf('=');
  if (at <= 0) throw new Error(`--env takes NAME=VALUE pairs, got "${pair}"`);
  return [pair.slice(0, at), pair.slice(at + 1)];
}));

async function waitFor(what: string, probe: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

const STACK = [
  'Stack, one for the whole run: real etcd, kube-apiserver, kube-controller-manager, kube-scheduler (500 QPS); Karpenter\'s CRDs of the release (its NodePool and NodeClaim serve both) and our ScalewayNodeClass.',
  '**Karpenter**: the `sigs.k8s.io/karpenter/kwok` binary out of cluster (admin kubeconfig, no leader election, batch window 1 s idle / 10 s max), NodePool `karpenter-kwok` on a KWOKNodeClass. Its instance types are the offerings our planner reads from the simulator for fr-par-1 and fr-par-2 (shortage and end-of-service ones left out, as our planner leaves them), at the same €/hour, with our allocatable (KWOK\'s own 100m / 10Mi overhead added back) and our node labels (GPU name, count, memory, family...) as offering requirements. KWOK\'s Create is in-process and instant: its "create call" is its NodeClaim\'s providerID appearing.',
  `**scw-karpenter**: worker and watcher ${production ? 'as the image runs them (`node dist/cli/main.js worker|watcher`, NODE_ENV=production, the prebuilt workflow bundle: bench/karpenter/production-build.ts), in child processes as `npm start` starts them' : 'as `npm start` runs them, TypeScript through tsx in child processes'} (ServiceAccount tokens, default 1 s idle / 10 s max batch, 2 s worker poll), Temporal dev server ${persist ? 'persisting to a SQLite file (`--db-filename`, what `npm start` runs)' : 'in memory'}, Scaleway simulator on the \`recorded\` profile at timeScale 1 behind a recording proxy (createServer answers after 2.4-2.8 s; its arrival is the create call), the sandbox's simulated kubelet. NodePool \`scw-karpenter\` on a ScalewayNodeClass (kubeadm, fr-par-1 + fr-par-2).`,
  'Both pools = examples/nodepool-gpu.yaml (on-demand; GPU names l4, l40s, h100-pcie, h100-sxm; the capacity-type taint) with `nvidia.com/gpu: "5000"` and consolidateAfter 1h. Burst pods: 1 GPU, 100m CPU, 256Mi, tolerating the taint, `nodeSelector: karpenter.sh/nodepool: <its pool>`; the mixed scenarios are in bench/karpenter/workloads.ts. Both controllers run the whole time, so each sees the other\'s pods (and ignores them); rounds alternate which side goes first; between rounds the pods and NodeClaims are deleted and waited for. A warm-up burst per side runs first and is not reported.',
  'Per pod, t0 = this process\'s watch first saw PodScheduled=False/Unschedulable. Which NodeClaim a pod is on: ours lists its pods in an annotation; Karpenter says it in Nominated Events, which it rate-limits (5/s, burst 10), so most of its pods are given the earliest free slot (the NodeClaim\'s GPU requests) on a NodeClaim of the burst seen after their t0 (bench/karpenter/round.ts). A round ends when every NodeClaim of the burst has a providerID (ours: also its createServer call), they hold the burst\'s GPUs, and no NodeClaim came for 2 s. Peak RSS and CPU seconds from /proc over the round: Karpenter\'s one process; ours the worker + watcher processes, the Temporal dev server apart.',
].join('\n\n');

let controlPlane: ControlPlane | undefined;
let temporal: TemporalDevServer | undefined;
let temporalConnection: Connection | undefined;
let simulator: Simulator | undefined;
let proxy: RecordingProxy | undefined;
let product: RunningProductProcesses | undefined;
let karpenter: RunningKarpenter | undefined;
let seen: Observations | undefined;
const results: RoundResult[] = [];
const optima: ScenarioOptimum[] = [];
const failures: string[] = [];
const startedAt = new Date();
const install = sides.includes('karpenter') ? installKarpenter() : undefined;
const build = production ? buildProduction() : undefined;
if (build) console.log(`[bench] compiled ours and bundled its workflows in ${build.seconds.toFixed(0)} s (${build.dist})`);
const dir = mkdtempSync(join(tmpdir(), 'scwk-bench-karpenter-'));

const writeReport = (): void => {
  mkdirSync(dirname(REPORT), { recursive: true });
  writeFileSync(REPORT, renderReport({ command, karpenterVersion: KARPENTER_VERSION, buildSeconds: install?.buildSeconds, stack: STACK, persist, results, optima, failures, startedAt }));
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`[bench] ${signal}: stopping; rounds finished so far are in ${REPORT}`);
    process.exit(130);
  });
}

try {
  console.log(`[bench] stack in ${dir} (Temporal ${persist ? 'on SQLite' : 'in memory'})`);
  [controlPlane, temporal, simulator] = await startBenchStack(dir, { persist });
  proxy = await startRecordingProxy(simulator.url);
  const kube = createKubeRest(loadKubeCredentials(controlPlane.kubeconfig));
  // Karpenter's CRDs first: ours then only add the ScalewayNodeClass (NodePool and NodeClaim already exist).
  if (install) await installKarpenterCrds(kube, install);
  await installCrds(kube);
  assertFlowSchemasInstalled();
  await kube.post(clusterPath(SCALEWAY_NODECLASS_GVR), scalewayNodeClass);
  if (install) await kube.post('/apis/karpenter.kwok.sh/v1alpha1/kwoknodeclasses', kwokNodeClass);
  for (const side of sides) await kube.post(clusterPath(NODEPOOL_GVR), nodePool(side));

  // The offerings our planner reads, from the simulator through the product's own adapter.
  const cloud = createScalewayCloud({ ...TEST_CREDENTIALS, apiUrl: simulator.url });
  const offers = (await Promise.all(ZONES.map((z) => cloud.listServerTypes(z)))).flat();
  const nodeClass = parseScalewayNodeClass(await kube.get(clusterPath(SCALEWAY_NODECLASS_GVR, 'gpu')));
  const instanceTypes = kwokInstanceTypes(offers, { rootVolumeBytes: rootVolumeOf(nodeClass).sizeBytes, kubelet: nodeClass.spec.kubelet });
  const instanceTypesFile = join(dir, 'karpenter-instance-types.json');
  writeFileSync(instanceTypesFile, JSON.stringify(instanceTypes, null, 1));
  const prices = new Map(offers.map((o) => [`${o.commercialType}@${o.zone}`, o.hourlyPriceEur]));
  console.log(`[bench] ${instanceTypes.length} instance types (${offers.length} offers) for Karpenter in ${instanceTypesFile}`);
  for (const w of scenarios) {
    const o = scenarioOptimum(w, offers, nodeClass);
    optima.push({ scenario: w.name, ...o });
    console.log(`[bench] optimum of ${w.name}: ${'error' in o ? o.error : `€${o.eurPerHour.toFixed(3)}/h (${o.types})`}`);
  }

  if (install) karpenter = await startKarpenter({ install, kubeconfig: controlPlane.kubeconfig, instanceTypesFile, logFile: join(dir, 'karpenter.log') });
  // The NodeClass exists before the product starts, so the worker starts with its catalogs read (worker/warm-caches.ts).
  const productOptions = { dir: join(dir, 'product'), controlPlane, temporal, simulator: { ...simulator, url: proxy.url }, env: productEnv };
  product = build ? await startProductComponents(productOptions, launchCompiled(productOptions, build, { cpuProfileDir: args['cpu-prof'], logLevel: args['log-level'] })) : await startProductProcesses(productOptions);
  temporalConnection = await Connection.connect({ address: temporal.address });
  await waitFor('the ScalewayNodeClass Ready', async () => {
    const nc = await kube.get<{ status?: { conditions?: { type: string; status: string }[] } }>(clusterPath(SCALEWAY_NODECLASS_GVR, 'gpu'));
    return nc.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  }, 120_000);
  await waitFor('the NodePools Ready', async () => {
    const pools = (await kube.get<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>(clusterPath(NODEPOOL_GVR))).items;
    return pools.length === sides.length && pools.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }, 120_000);
  console.log(`[bench] ${karpenter ? `Karpenter (pid ${karpenter.pid}, log ${karpenter.process.logFile}) and ` : ''}scw-karpenter (logs in ${join(dir, 'product')}) are up`);

  seen = await observe(kube);
  const ctx: RoundContext = {
    kube,
    proxy,
    seen,
    pids: {
      karpenter: karpenter ? [karpenter.pid] : [],
      ours: product.components.map((c) => c.process.child.pid ?? 0),
      temporal: [temporal.process.child.pid ?? 0],
    },
    oursNames: product.components.map((c) => c.component),
    oursMetricsUrls: product.components.map((c) => c.metricsUrl),
    price: (type, zone) => prices.get(`${type}@${zone}`),
    timeoutMs: Number(args['timeout-min']) * 60_000,
    concurrency: Number(args.concurrency),
    temporal: new Client({ connection: temporalConnection, namespace: temporal.namespace }),
    karpenterMetricsUrl: karpenter?.metricsUrl,
    exited: (side) => {
      const gone = (c: { child: { exitCode: number | null; signalCode: string | null } }): boolean => c.child.exitCode !== null || c.child.signalCode !== null;
      if (side === 'karpenter') return karpenter && gone(karpenter.process) ? ['karpenter'] : [];
      return (product?.components ?? []).filter((c) => gone(c.process)).map((c) => `the ${c.component} (${c.process.child.exitCode ?? c.process.child.signalCode}; log ${c.process.logFile})`);
    },
  };
  const run = async (side: Side, w: Workload, r: number): Promise<void> => {
    try {
      results.push(await runRound(ctx, side, w, r));
    } catch (err) {
      const message = `${side} ${w.name} round ${r} failed: ${err instanceof Error ? err.message : String(err)}`;
      console.error(`[bench] ${message}`);
      failures.push(message);
    }
    writeReport();
    // Nothing restarts a process here (a Deployment would): the rounds after it would measure nothing.
    const gone = ctx.exited(side);
    if (gone.length > 0) throw new Error(`${side}: ${gone.join(', ')} exited; stopping the run`);
    await sleep(3_000);
  };
  if (warmup > 0) {
    for (const side of sides) await runRound(ctx, side, burst(warmup), 0);
  }
  // Alternate which side goes first: odd rounds Karpenter, even rounds ours.
  const order = (r: number): Side[] => (r % 2 === 1 ? sides : [...sides].reverse());
  // The scenarios first: they are short, and a run cut short by a deadline keeps them and the smaller bursts.
  for (const [i, w] of scenarios.entries()) {
    for (const side of order(i + 1)) await run(side, w, 1);
  }
  for (const n of bursts) {
    for (let r = 1; r <= rounds; r++) for (const side of order(r)) await run(side, burst(n), r);
  }
} catch (err) {
  const message = `the run failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`;
  console.error(`[bench] ${message}`);
  failures.push(message);
} finally {
  writeReport();
  console.log(`[bench] wrote ${REPORT}; stopping the stack`);
  await seen?.stop().catch(() => undefined);
  await temporalConnection?.close().catch(() => undefined);
  await product?.stop().catch(() => undefined);
  await karpenter?.stop().catch(() => undefined);
  await proxy?.close().catch(() => undefined);
  await simulator?.close().catch(() => undefined);
  await temporal?.stop().catch(() => undefined);
  await controlPlane?.stop().catch(() => undefined);
  if (failures.length === 0 && !args.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`[bench] logs kept in ${dir}`);
}
process.exit(failures.length > 0 || results.some((r) => !r.completed) ? 1 : 0);
