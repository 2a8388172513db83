// The provisioner's pass while a burst launches: every NodeClaim still
// launching becomes existing capacity (existingFromNodeClaim) and the pods not
// yet spoken for are planned against it (plan). The watcher runs this pass on
// its one thread, next to its Lease renewals and watches, each time pods are
// still pending, so its length at 500 launching NodeClaims is what a 1000-pod
// burst costs the watcher's event loop per pass.
//
// Run: npm run bench:planning-pass [-- --claims 100,250,500 --pending 20 --repeat 5]
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { parseNodeClaim, type NodeClaim } from '../kube/api/schemas.ts';
import { existingFromNodeClaim, plan } from '../watcher/provisioner/planner.ts';
import { catalogOffers, planPool, pods, ROOT_VOLUME_BYTES } from '../test/unit/planner-fixtures.ts';

const { values: args } = parseArgs({
  options: {
    claims: { type: 'string', default: '100,250,500' },
    pending: { type: 'string', default: '20' },
    repeat: { type: 'string', default: '5' },
  },
});
const sizes = args.claims.split(',').map(Number);
const pendingCount = Number(args.pending);
const repeat = Number(args.repeat);

// As the benchmark's NodePool and NodeClass: both zones, every GPU offering.
const offers = catalogOffers('fr-par-1', 'fr-par-2');
const pool = planPool({ name: 'gpu' });
const GPU_POD = { requests: { 'nvidia.com/gpu': '1', cpu: '100m', memory: '256Mi' } };

/** The NodeClaims the watcher would have made for a burst of 2 × n one-GPU pods, as the apiserver returns them. */
function launchingNodeClaims(n: number): NodeClaim[] {
  const burst = plan({ pods: pods('burst', 2 * n, GPU_POD), nodePools: [pool], offers });
  return burst.nodeClaims.map((planned) => parseNodeClaim({
    metadata: { name: planned.name, labels: { ...planned.labels, 'karpenter.sh/nodepool': planned.nodePool } },
    spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'gpu' }, requirements: planned.requirements, resources: planned.resources },
  }));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

console.log(`${offers.length} offers; ${pendingCount} pods pending per pass; median of ${repeat} passes`);
console.log('| launching NodeClaims | existing capacity ms | plan ms | pass ms |');
console.log('|---|---|---|---|');
for (const n of sizes) {
  const claims = launchingNodeClaims(n);
  const pending = pods('late', pendingCount, GPU_POD);
  const existingMs: number[] = [];
  const planMs: number[] = [];
  for (let i = 0; i < repeat; i++) {
    // A fresh offers array per pass, as the provisioner reads the catalog each pass.
    const passOffers = [...offers];
    const t0 = performance.now();
    const existing = claims.map((nc) => existingFromNodeClaim(nc, { offers: passOffers, rootVolumeBytes: ROOT_VOLUME_BYTES }));
    const t1 = performance.now();
    plan({ pods: pending, nodePools: [pool], offers: passOffers, existing });
    const t2 = performance.now();
    existingMs.push(t1 - t0);
    planMs.push(t2 - t1);
  }
  const e = median(existingMs);
  const p = median(planMs);
  console.log(`| ${claims.length} | ${e.toFixed(0)} | ${p.toFixed(0)} | ${(e + p).toFixed(0)} |`);
}
