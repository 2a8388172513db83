// Karpenter v1.14.1 (its KWOK provider) and scw-karpenter side by side on ONE control
// plane, on the same pods and the same Scaleway catalog, alternating rounds.
//
// Run: npm run bench:karpenter -- --bursts 50,200 --rounds 1
//      (writes bench/results/karpenter-side-by-side.md)
// Options: --bursts N,N,... (50,200; 500 and 1000 work too)  --rounds R (pairs per size)
//          --timeout-min 10 (per round)  --concurrency 32 (parallel pod POSTs)  --warmup 4 (pods)
//          --report PATH (default bench/results/karpenter-side-by-side.md)
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
import type { ControlPlane } from '../../sandbox/control-plane.ts';
import type { TemporalDevServer } from '../../sandbox/temporal-dev-server.ts';
import { startProductProcesses, type RunningProductProcesses } from '../../sandbox/product-processes.ts';
import { installCrds } from '../../sandbox/install-crds.ts';
import type { Simulator } from '../../scaleway/simulator/index.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';
import { createScalewayCloud } from '../../scaleway/cloud.ts';
import { createKubeRest, loadKubeConfig } from '../../kube/rest.ts';
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
import { renderReport } from './report.ts';

const KARPENTER_VERSION = 'v1.14.1';

const { values: args } = parseArgs({
  options: {
    bursts: { type: 'string', default: '50,200' },
    rounds: { type: 'string', default: '1' },
    'timeout-min': { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '4' },
    report: { type: 'string', default: fileURLToPath(new URL('../results/karpenter-side-by-side.md', import.meta.url)) },
  },
});
const bursts = args.bursts.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
const rounds = Math.max(1, Number(args.rounds));
const warmup = Number(args.warmup);
const command = `npm run bench:karpenter -- --bursts ${bursts.join(',')} --rounds ${rounds}`;
const REPORT = args.report;

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
  '**scw-karpenter**: worker and watcher as `npm start` runs them (child processes, ServiceAccount tokens, default 1 s idle / 10 s max batch, 2 s worker poll), Temporal dev server in memory, Scaleway simulator on the `recorded` profile at timeScale 1 behind a recording proxy (createServer answers after 2.4-2.8 s; its arrival is the create call), the sandbox\'s simulated kubelet. NodePool `scw-karpenter` on a ScalewayNodeClass (kubeadm, fr-par-1 + fr-par-2).',
  'Both pools = examples/nodepool-gpu.yaml (on-demand; GPU names l4, l40s, h100-pcie, h100-sxm; the capacity-type taint) with `nvidia.com/gpu: "5000"` and consolidateAfter 1h. Pods: 1 GPU, 100m CPU, 256Mi, tolerating the taint, `nodeSelector: karpenter.sh/nodepool: <its pool>`. Both controllers run the whole time, so each sees the other\'s pods (and ignores them); rounds alternate which side goes first; between rounds the pods and NodeClaims are deleted and waited for. A warm-up burst per side runs first and is not reported.',
  'Per pod, t0 = this process\'s watch first saw PodScheduled=False/Unschedulable. Which NodeClaim a pod is on: ours lists its pods in an annotation; Karpenter says it in Nominated Events, which it rate-limits (5/s, burst 10), so most of its pods are given the earliest free slot (the NodeClaim\'s GPU requests) on a NodeClaim of the burst seen after their t0 (bench/karpenter/round.ts). Peak RSS and CPU seconds from /proc over the round: Karpenter\'s one process; ours the worker + watcher processes, the Temporal dev server apart.',
].join('\n\n');

let controlPlane: ControlPlane | undefined;
let temporal: TemporalDevServer | undefined;
let simulator: Simulator | undefined;
let proxy: RecordingProxy | undefined;
let product: RunningProductProcesses | undefined;
let karpenter: RunningKarpenter | undefined;
let seen: Observations | undefined;
const results: RoundResult[] = [];
const failures: string[] = [];
const startedAt = new Date();
const install = installKarpenter();
const dir = mkdtempSync(join(tmpdir(), 'scwk-bench-karpenter-'));

const writeReport = (): void => {
  mkdirSync(dirname(REPORT), { recursive: true });
  writeFileSync(REPORT, renderReport({ command, karpenterVersion: KARPENTER_VERSION, buildSeconds: install.buildSeconds, stack: STACK, results, failures, startedAt }));
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`[bench] ${signal}: stopping; rounds finished so far are in ${REPORT}`);
    process.exit(130);
  });
}

try {
  console.log(`[bench] stack in ${dir}`);
  [controlPlane, temporal, simulator] = await startBenchStack(dir);
  proxy = await startRecordingProxy(simulator.url);
  const kube = createKubeRest(loadKubeConfig(controlPlane.kubeconfig));
  // Karpenter's CRDs first: ours then only add the ScalewayNodeClass (NodePool and NodeClaim already exist).
  await installKarpenterCrds(kube, install);
  await installCrds(kube);
  await kube.post(clusterPath(SCALEWAY_NODECLASS_GVR), scalewayNodeClass);
  await kube.post('/apis/karpenter.kwok.sh/v1alpha1/kwoknodeclasses', kwokNodeClass);
  for (const side of ['ours', 'karpenter'] as const) await kube.post(clusterPath(NODEPOOL_GVR), nodePool(side));

  // The offerings our planner reads, from the simulator through the product's own adapter.
  const cloud = createScalewayCloud({ ...TEST_CREDENTIALS, apiUrl: simulator.url });
  const offers = (await Promise.all(ZONES.map((z) => cloud.listServerTypes(z)))).flat();
  const nodeClass = parseScalewayNodeClass(await kube.get(clusterPath(SCALEWAY_NODECLASS_GVR, 'gpu')));
  const instanceTypes = kwokInstanceTypes(offers, { rootVolumeBytes: rootVolumeOf(nodeClass).sizeBytes, kubelet: nodeClass.spec.kubelet });
  const instanceTypesFile = join(dir, 'karpenter-instance-types.json');
  writeFileSync(instanceTypesFile, JSON.stringify(instanceTypes, null, 1));
  const prices = new Map(offers.map((o) => [`${o.commercialType}@${o.zone}`, o.hourlyPriceEur]));
  console.log(`[bench] ${instanceTypes.length} instance types (${offers.length} offers) for Karpenter in ${instanceTypesFile}`);

  karpenter = await startKarpenter({ install, kubeconfig: controlPlane.kubeconfig, instanceTypesFile, logFile: join(dir, 'karpenter.log') });
  // The NodeClass exists before the product starts, so the worker starts with its catalogs read (worker/warm-caches.ts).
  product = await startProductProcesses({ dir: join(dir, 'product'), controlPlane, temporal, simulator: { ...simulator, url: proxy.url } });
  await waitFor('the ScalewayNodeClass Ready', async () => {
    const nc = await kube.get<{ status?: { conditions?: { type: string; status: string }[] } }>(clusterPath(SCALEWAY_NODECLASS_GVR, 'gpu'));
    return nc.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  }, 120_000);
  await waitFor('both NodePools Ready', async () => {
    const pools = (await kube.get<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>(clusterPath(NODEPOOL_GVR))).items;
    return pools.length === 2 && pools.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }, 120_000);
  console.log(`[bench] Karpenter (pid ${karpenter.pid}, log ${karpenter.process.logFile}) and scw-karpenter (logs in ${join(dir, 'product')}) are up`);

  seen = await observe(kube);
  const ctx: RoundContext = {
    kube,
    proxy,
    seen,
    pids: {
      karpenter: [karpenter.pid],
      ours: product.components.map((c) => c.process.child.pid ?? 0),
      temporal: [temporal.process.child.pid ?? 0],
    },
    price: (type, zone) => prices.get(`${type}@${zone}`),
    timeoutMs: Number(args['timeout-min']) * 60_000,
    concurrency: Number(args.concurrency),
  };
  if (warmup > 0) {
    for (const side of ['karpenter', 'ours'] as const) await runRound(ctx, side, warmup, 0);
  }
  for (const n of bursts) {
    for (let r = 1; r <= rounds; r++) {
      const order: Side[] = r % 2 === 1 ? ['karpenter', 'ours'] : ['ours', 'karpenter'];
      for (const side of order) {
        try {
          results.push(await runRound(ctx, side, n, r));
        } catch (err) {
          const message = `${side} ${n} pods round ${r} failed: ${err instanceof Error ? err.message : String(err)}`;
          console.error(`[bench] ${message}`);
          failures.push(message);
        }
        writeReport();
        await sleep(3_000);
      }
    }
  }
} catch (err) {
  const message = `the run failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`;
  console.error(`[bench] ${message}`);
  failures.push(message);
} finally {
  writeReport();
  console.log(`[bench] wrote ${REPORT}; stopping the stack`);
  await seen?.stop().catch(() => undefined);
  await product?.stop().catch(() => undefined);
  await karpenter?.stop().catch(() => undefined);
  await proxy?.close().catch(() => undefined);
  await simulator?.close().catch(() => undefined);
  await temporal?.stop().catch(() => undefined);
  await controlPlane?.stop().catch(() => undefined);
  if (failures.length === 0) rmSync(dir, { recursive: true, force: true });
  else console.log(`[bench] logs kept in ${dir}`);
}
process.exit(failures.length > 0 || results.some((r) => !r.completed) ? 1 : 0);
