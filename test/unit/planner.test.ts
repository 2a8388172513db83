// The provisioner's planner on the recorded catalog: pool choice, packing at
// the least €/hour (checked against the exact solver), existing capacity,
// limits, taints, anti-affinity, unsupported constraints, determinism.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plan, existingFromNodeClaim, type PlanInput } from '../../watcher/provisioner/planner.ts';
import { optimalPacking } from '../../watcher/provisioner/optimum.ts';
import { podRequests, toAmounts } from '../../watcher/provisioner/pod-requests.ts';
import { parseNodeClaim } from '../../kube/api/schemas.ts';
import { parsePod } from '../../kube/api/core.ts';
import { catalogOffers, planPool, pod, pods, ROOT_VOLUME_BYTES } from './planner-fixtures.ts';

const OFFERS = catalogOffers('fr-par-2');
const GPU_POOL = planPool({ name: 'gpu' });
const GPU_ONE = { 'nvidia.com/gpu': '1', cpu: '500m', memory: '2Gi' };

/** The cheapest available L4 offer in fr-par-2, straight from the catalog. */
function cheapestL4(): { type: string; price: number } {
  const l4 = OFFERS.filter((o) => o.gpu?.name === 'L4' && o.availability !== 'shortage' && !o.endOfService).sort((a, b) => a.hourlyPriceEur - b.hourlyPriceEur)[0]!;
  return { type: l4.commercialType, price: l4.hourlyPriceEur };
}

const req = (p: ReturnType<typeof plan>['nodeClaims'][number], key: string) => p.requirements.find((r) => r.key === key);

describe('planner', () => {
  it('plans one NodeClaim of the cheapest L4 type for one GPU pod, fallbacks in price order', () => {
    const result = plan({ pods: [pod({ name: 'gpu', requests: { 'nvidia.com/gpu': '1' } })], nodePools: [GPU_POOL], offers: OFFERS });
    assert.equal(result.nodeClaims.length, 1);
    const nc = result.nodeClaims[0]!;
    const expected = cheapestL4();
    assert.equal(nc.offering.commercialType, expected.type);
    assert.equal(nc.hourlyPriceEur, expected.price);
    const prices = nc.offerings.map((o) => o.hourlyPriceEur);
    assert.deepEqual(prices, [...prices].sort((a, b) => a - b));
    assert.equal(req(nc, 'node.kubernetes.io/instance-type')!.values![0], expected.type);
    assert.deepEqual(req(nc, 'karpenter.sh/capacity-type')!.values, ['on-demand']);
    assert.deepEqual(req(nc, 'karpenter.sh/nodepool')!.values, ['gpu']);
    assert.equal(nc.resources.requests['nvidia.com/gpu'], '1');
    assert.deepEqual(result.nominations.map((n) => [n.pod.name, n.name, n.planned]), [['gpu', nc.name, true]]);
    assert.deepEqual(result.podErrors, []);
  });

  it('packs eight one-GPU pods with small CPU requests at the optimum price', () => {
    const input: PlanInput = { pods: pods('train', 8, { requests: GPU_ONE }), nodePools: [GPU_POOL], offers: OFFERS };
    const heuristic = plan(input);
    const exact = plan(input, { solver: optimalPacking });
    assert.ok(Math.abs(heuristic.hourlyPriceEur - exact.hourlyPriceEur) < 1e-9, `${heuristic.hourlyPriceEur} vs optimum ${exact.hourlyPriceEur}`);
    assert.ok(Math.abs(heuristic.hourlyPriceEur - 8 * cheapestL4().price) < 1e-9);
    assert.equal(heuristic.nodeClaims.flatMap((n) => n.pods).length, 8);
    for (const nc of heuristic.nodeClaims) assert.ok(!nc.offering.commercialType.startsWith('H100'), 'never an H100 for unpinned pods');
  });

  it('keeps pods pinned to L40S and to L4 (gpu-name label and the seed alias) on separate NodeClaims', () => {
    const result = plan({
      pods: [
        pod({ name: 'l40s', requests: { 'nvidia.com/gpu': '1' }, nodeSelector: { 'karpenter.scaleway.com/instance-gpu-name': 'l40s' } }),
        pod({ name: 'l4-seed', requests: { 'nvidia.com/gpu': '1' }, nodeSelector: { 'karpenter.sh/instance-type': 'l4' } }),
      ],
      nodePools: [GPU_POOL],
      offers: OFFERS,
    });
    assert.equal(result.nodeClaims.length, 2);
    const byPod = new Map(result.nodeClaims.map((n) => [n.pods[0]!.name, n]));
    assert.ok(byPod.get('l40s')!.offerings.every((o) => o.commercialType.startsWith('L40S')));
    assert.ok(byPod.get('l4-seed')!.offerings.every((o) => o.commercialType.startsWith('L4-')));
    assert.deepEqual(req(byPod.get('l4-seed')!, 'karpenter.scaleway.com/instance-gpu-name')!.values, ['l4']);
    assert.ok(result.nodeClaims.every((n) => n.requirements.every((r) => r.key !== 'karpenter.sh/instance-type')), 'restricted key not written');
  });

  it('stops at a NodePool nvidia.com/gpu limit with pod errors and a limit event', () => {
    const pool = planPool({ name: 'gpu', limits: { 'nvidia.com/gpu': '4' }, usage: { 'nvidia.com/gpu': '1' } });
    const result = plan({ pods: pods('p', 5, { requests: GPU_ONE }), nodePools: [pool], offers: OFFERS });
    const gpus = result.nodeClaims.reduce((n, nc) => n + OFFERS.find((o) => o.commercialType === nc.offering.commercialType)!.gpuCount, 0);
    assert.equal(gpus, 3);
    assert.equal(result.nodeClaims.flatMap((n) => n.pods).length, 3);
    assert.equal(result.podErrors.length, 2);
    for (const e of result.podErrors) assert.match(e.reason, /NodePool gpu: limit reached/);
    assert.equal(result.limitEvents.length, 1);
    assert.equal(result.limitEvents[0]!.nodePool, 'gpu');
    // No fallback offering would exceed the limit either.
    for (const nc of result.nodeClaims) for (const o of nc.offerings) assert.ok(OFFERS.find((x) => x.commercialType === o.commercialType)!.gpuCount <= 3);
  });

  it('nominates pods to existing nodes and launching NodeClaims instead of planning new ones', () => {
    const launching = parseNodeClaim({
      metadata: { name: 'gpu-launching', labels: { 'karpenter.sh/nodepool': 'gpu' } },
      spec: {
        nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' },
        requirements: [
          { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['L4-2-24G'] },
          { key: 'karpenter.sh/nodepool', operator: 'In', values: ['gpu'] },
        ],
        resources: { requests: { 'nvidia.com/gpu': '1', cpu: '500m', memory: '2Gi', pods: '1' } },
      },
    });
    const result = plan({
      pods: [
        pod({ name: 'cpu', requests: { cpu: '1', memory: '1Gi' } }),
        pod({ name: 'gpu-l4', requests: GPU_ONE, nodeSelector: { 'karpenter.sh/instance-type': 'l4' } }),
      ],
      nodePools: [GPU_POOL],
      offers: OFFERS,
      existing: [
        { kind: 'Node', name: 'node-a', labels: { 'kubernetes.io/arch': 'amd64' }, taints: [], available: { cpu: '2', memory: '4Gi', pods: '10' } },
        existingFromNodeClaim(launching, { offers: OFFERS, rootVolumeBytes: ROOT_VOLUME_BYTES }),
      ],
    });
    assert.deepEqual(result.nodeClaims, []);
    assert.deepEqual(result.nominations.map((n) => [n.pod.name, n.kind, n.name, n.planned]), [
      ['cpu', 'Node', 'node-a', false],
      ['gpu-l4', 'NodeClaim', 'gpu-launching', false],
    ]);
  });

  it("gives a launching NodeClaim's room back when its pods were bound elsewhere, instead of buying another node", () => {
    // An L4-2-24G launching for two one-GPU pods; the scheduler put both on the first node that came up.
    const launching = parseNodeClaim({
      metadata: { name: 'gpu-launching', labels: { 'karpenter.sh/nodepool': 'gpu' } },
      spec: {
        nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' },
        requirements: [{ key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['L4-2-24G'] }, { key: 'karpenter.sh/nodepool', operator: 'In', values: ['gpu'] }],
        resources: { requests: { 'nvidia.com/gpu': '2', cpu: '1', memory: '4Gi', pods: '2' } },
      },
    });
    const departed = [pod({ name: 'a', requests: GPU_ONE }), pod({ name: 'b', requests: GPU_ONE })];
    const pending = [pod({ name: 'c', requests: GPU_ONE }), pod({ name: 'd', requests: GPU_ONE })];
    const full = plan({ pods: pending, nodePools: [GPU_POOL], offers: OFFERS, existing: [existingFromNodeClaim(launching, { offers: OFFERS, rootVolumeBytes: ROOT_VOLUME_BYTES })] });
    assert.ok(full.nodeClaims.length > 0, 'counted as full, the launching NodeClaim leaves the pods to a new one');
    const freed = plan({ pods: pending, nodePools: [GPU_POOL], offers: OFFERS, existing: [existingFromNodeClaim(launching, { offers: OFFERS, rootVolumeBytes: ROOT_VOLUME_BYTES, departedPods: departed })] });
    assert.deepEqual(freed.nodeClaims, [], 'no new NodeClaim');
    assert.deepEqual(freed.nominations.map((n) => [n.pod.name, n.name]), [['c', 'gpu-launching'], ['d', 'gpu-launching']]);
  });

  it("sizes a launching NodeClaim by the offers of the pass at hand, not by an earlier pass's", () => {
    const launching = (types: string[]) => parseNodeClaim({
      metadata: { name: `gpu-${types.join('-')}`, labels: { 'karpenter.sh/nodepool': 'gpu' } },
      spec: {
        nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' },
        requirements: [{ key: 'node.kubernetes.io/instance-type', operator: 'In', values: types }, { key: 'karpenter.sh/nodepool', operator: 'In', values: ['gpu'] }],
        resources: { requests: { 'nvidia.com/gpu': '1', cpu: '100m', memory: '256Mi', pods: '1' } },
      },
    });
    const gpusLeft = (nc: ReturnType<typeof launching>, offers: typeof OFFERS): number =>
      toAmounts(existingFromNodeClaim(nc, { offers, rootVolumeBytes: ROOT_VOLUME_BYTES }).available).gpu;
    const two = launching(['L4-2-24G']);
    assert.equal(gpusLeft(two, OFFERS), 1, 'an L4-2-24G holding one pod has one GPU left');
    assert.equal(gpusLeft(launching(['L4-1-24G', 'L4-2-24G']), OFFERS), 0, 'it may become an L4-1-24G: no GPU left');
    // The next pass reads a catalog where the type is gone: the same NodeClaim is sized by that list.
    const withoutIt = OFFERS.filter((o) => o.commercialType !== 'L4-2-24G');
    assert.ok(gpusLeft(two, withoutIt) <= 0, 'no offer left: no room');
    assert.equal(gpusLeft(two, [...OFFERS]), 1);
  });

  it('keeps minValues instance types on each NodeClaim, and plans nothing that cannot have them', () => {
    const l4Types = OFFERS.filter((o) => o.gpu?.name === 'L4' && o.availability !== 'shortage' && !o.endOfService).map((o) => o.commercialType);
    assert.ok(l4Types.length >= 3, `fr-par-2 offers ${l4Types.join(', ')}`);
    const pool = planPool({ name: 'flex', requirements: [{ key: 'node.kubernetes.io/instance-type', operator: 'In', values: l4Types, minValues: 3 }] });
    const one = plan({ pods: [pod({ name: 'p', requests: GPU_ONE })], nodePools: [pool], offers: OFFERS });
    assert.equal(one.nodeClaims.length, 1);
    const types = req(one.nodeClaims[0]!, 'node.kubernetes.io/instance-type');
    assert.ok((types?.values?.length ?? 0) >= 3, `at least three types to fall back on: ${types?.values?.join(', ')}`);
    assert.equal(types?.minValues, 3, 'the NodeClaim carries the minValues');

    // Only the largest L4 type holds four GPUs: one value where three are required.
    const four = plan({ pods: [pod({ name: 'big', requests: { 'nvidia.com/gpu': '4', cpu: '1', memory: '4Gi' } })], nodePools: [pool], offers: OFFERS });
    assert.equal(four.nodeClaims.length, 0);
    assert.match(four.podErrors[0]?.reason ?? '', /minValues 3 but the instance types that fit its pods give 1/);
  });

  it('takes fewer, larger nodes when they cost the same: four one-GPU pods on one L4-4-24G, not two L4-2-24G', () => {
    // The catalog prices each L4 size per GPU: two L4-2-24G cost what one L4-4-24G costs.
    const price = (type: string): number => OFFERS.find((o) => o.commercialType === type && o.availability !== 'shortage')!.hourlyPriceEur;
    assert.ok(Math.abs(2 * price('L4-2-24G') - price('L4-4-24G')) < 1e-9, 'the tie this test is about');
    const result = plan({ pods: pods('pair', 4, { requests: GPU_ONE }), nodePools: [GPU_POOL], offers: OFFERS });
    assert.deepEqual(result.nodeClaims.map((n) => [n.offering.commercialType, n.pods.length]), [['L4-4-24G', 4]]);
    assert.ok(Math.abs(result.hourlyPriceEur - 4 * cheapestL4().price) < 1e-9, 'no dearer for it');

    // A burst: a quarter of the NodeClaims at the same €/hour (the greedy placement alone pairs them on L4-2-24G).
    const burst = plan({ pods: pods('burst', 400, { requests: { 'nvidia.com/gpu': '1', cpu: '100m', memory: '256Mi' } }), nodePools: [GPU_POOL], offers: OFFERS });
    assert.equal(burst.nodeClaims.length, 100);
    assert.ok(Math.abs(burst.hourlyPriceEur - 400 * cheapestL4().price) < 1e-6, `${burst.hourlyPriceEur} €/h`);

    // Never against a pod's own rules: hostname anti-affinity still keeps each on a node of its own.
    const antiAffinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'apart' } } }] } };
    const apart = plan({ pods: pods('apart', 4, { requests: GPU_ONE, labels: { app: 'apart' }, affinity: antiAffinity }), nodePools: [GPU_POOL], offers: OFFERS });
    assert.equal(apart.nodeClaims.length, 4);
  });

  it('does not merge NodeClaims into one that would break minValues', () => {
    const l4Types = OFFERS.filter((o) => o.gpu?.name === 'L4' && o.availability !== 'shortage' && !o.endOfService).map((o) => o.commercialType);
    // Two or more GPUs leave L4-2-24G and L4-4-24G (two types); four leave only L4-4-24G.
    const pool = planPool({ name: 'flex', requirements: [{ key: 'node.kubernetes.io/instance-type', operator: 'In', values: l4Types, minValues: 2 }] });
    const result = plan({ pods: pods('pair', 4, { requests: GPU_ONE }), nodePools: [pool], offers: OFFERS });
    assert.deepEqual(result.podErrors, []);
    assert.equal(result.nodeClaims.flatMap((n) => n.pods).length, 4);
    for (const nc of result.nodeClaims) assert.ok((req(nc, 'node.kubernetes.io/instance-type')?.values?.length ?? 0) >= 2, `${nc.name}: ${req(nc, 'node.kubernetes.io/instance-type')?.values?.join(', ')}`);
    assert.ok(Math.abs(result.hourlyPriceEur - 4 * cheapestL4().price) < 1e-9);
  });

  it('names the taint a pod does not tolerate', () => {
    const pool = planPool({ name: 'gpu', taints: [{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }] });
    const result = plan({ pods: [pod({ name: 'p', requests: GPU_ONE })], nodePools: [pool], offers: OFFERS });
    assert.equal(result.nodeClaims.length, 0);
    assert.equal(result.podErrors.length, 1);
    assert.match(result.podErrors[0]!.reason, /NodePool gpu: taint nvidia\.com\/gpu=true:NoSchedule not tolerated/);
  });

  it('plans no node for a GPU short name the scheduler would not match, and says which label value to use', () => {
    // Nodes carry instance-gpu-name=h100-pcie: a node planned for `h100` would never get the pod.
    const result = plan({ pods: [pod({ name: 'p', requests: GPU_ONE, nodeSelector: { 'karpenter.scaleway.com/instance-gpu-name': 'h100' } })], nodePools: [GPU_POOL], offers: OFFERS });
    assert.equal(result.nodeClaims.length, 0);
    assert.match(result.podErrors[0]?.reason ?? '', /instance-gpu-name=h100-pcie \(not h100\)/);
    const exact = plan({ pods: [pod({ name: 'p', requests: GPU_ONE, nodeSelector: { 'karpenter.scaleway.com/instance-gpu-name': 'l4' } })], nodePools: [GPU_POOL], offers: OFFERS });
    assert.equal(exact.nodeClaims.length, 1, 'a label value nodes carry plans a node');
  });

  it('places the seed GPU pod on an L4 through the seed-equivalent NodePool (scaleway-gpu alias, capacity-type taint)', () => {
    const pool = planPool({
      name: 'scaleway-gpu',
      requirements: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['scaleway-gpu'] }],
      taints: [{ key: 'karpenter.sh/capacity-type', value: 'scaleway-gpu', effect: 'NoSchedule' }],
      startupTaints: [{ key: 'nvidia.com/gpu-not-ready', effect: 'NoSchedule' }],
    });
    const seedPod = pod({
      name: 'gpu-test',
      requests: { 'nvidia.com/gpu': '1' },
      nodeSelector: { 'karpenter.sh/instance-type': 'l4' },
      tolerations: [{ key: 'karpenter.sh/capacity-type', operator: 'Exists' }],
    });
    const result = plan({ pods: [seedPod], nodePools: [pool], offers: OFFERS });
    assert.deepEqual(result.podErrors, []);
    assert.equal(result.nodeClaims.length, 1);
    const nc = result.nodeClaims[0]!;
    assert.equal(nc.offering.commercialType, cheapestL4().type);
    assert.deepEqual(req(nc, 'karpenter.sh/capacity-type')!.values, ['on-demand']);
    assert.equal(nc.taints.length, 1);
    assert.equal(nc.startupTaints.length, 1);
  });

  it('never puts pods with hostname anti-affinity against each other on one NodeClaim', () => {
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'ha' } } }] } };
    const result = plan({ pods: pods('ha', 3, { requests: { cpu: '100m', memory: '128Mi' }, labels: { app: 'ha' }, affinity: anti }), nodePools: [planPool({ name: 'cpu' })], offers: OFFERS });
    assert.equal(result.nodeClaims.length, 3);
    for (const nc of result.nodeClaims) assert.equal(nc.pods.length, 1);
  });

  it('reports constraints it does not support instead of planning a wrong node', () => {
    const result = plan({
      pods: [
        pod({ name: 'affine', requests: { cpu: '1' }, affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { a: 'b' } } }] } } }),
        pod({ name: 'pvc', requests: { cpu: '1' }, extra: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] } }),
      ],
      nodePools: [planPool({ name: 'cpu' })],
      offers: OFFERS,
    });
    assert.equal(result.nodeClaims.length, 0);
    assert.deepEqual(result.podErrors.map((e) => e.pod.name), ['affine', 'pvc']);
    assert.match(result.podErrors[0]!.reason, /required pod affinity/);
    assert.match(result.podErrors[1]!.reason, /volume topology/);
  });

  it('spreads pods across zones within maxSkew', () => {
    const spread = { topologySpreadConstraints: [{ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 's' } } }] };
    const result = plan({ pods: pods('s', 4, { requests: { cpu: '100m' }, labels: { app: 's' }, extra: spread }), nodePools: [planPool({ name: 'cpu', zones: ['fr-par-1', 'fr-par-2'] })], offers: catalogOffers('fr-par-1', 'fr-par-2') });
    const perZone = new Map<string, number>();
    for (const nc of result.nodeClaims) {
      const zones = req(nc, 'topology.kubernetes.io/zone')!.values!;
      assert.equal(zones.length, 1);
      perZone.set(zones[0]!, (perZone.get(zones[0]!) ?? 0) + nc.pods.length);
    }
    assert.deepEqual([...perZone.entries()].sort(), [['fr-par-1', 2], ['fr-par-2', 2]]);
  });

  it('offers GPU types to CPU pods only when the NodePool selects them', () => {
    const cpuOnly = plan({ pods: [pod({ name: 'c', requests: { cpu: '1' } })], nodePools: [GPU_POOL], offers: OFFERS });
    assert.ok(cpuOnly.nodeClaims[0]!.offerings.every((o) => !/^(L4|L40S|H100|B300|RENDER)/.test(o.commercialType)));
    const explicit = plan({ pods: [pod({ name: 'c', requests: { cpu: '1' } })], nodePools: [planPool({ name: 'l4', requirements: [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4'] }] })], offers: OFFERS });
    assert.equal(explicit.nodeClaims[0]!.offering.commercialType, cheapestL4().type);
  });

  it('tries NodePools by weight and falls through on incompatible requirements', () => {
    const heavy = planPool({ name: 'heavy', weight: 50, requirements: [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['h100-sxm'] }] });
    const result = plan({ pods: [pod({ name: 'p', requests: GPU_ONE, nodeSelector: { 'karpenter.sh/instance-type': 'l4' } }), pod({ name: 'q', requests: GPU_ONE })], nodePools: [GPU_POOL, heavy], offers: OFFERS });
    const byPod = new Map(result.nodeClaims.flatMap((n) => n.pods.map((p) => [p.name, n.nodePool])));
    assert.equal(byPod.get('p'), 'gpu');
    assert.equal(byPod.get('q'), 'heavy');
  });

  it('counts DaemonSet overhead in requests and fit', () => {
    const pool = planPool({ name: 'gpu', daemonSetOverhead: { cpu: '7', memory: '1Gi' } });
    const result = plan({ pods: [pod({ name: 'p', requests: { 'nvidia.com/gpu': '1', cpu: '1' } })], nodePools: [pool], offers: OFFERS });
    // An 8-vCPU L4-1 cannot hold 7 + 1 cores after kube-reserved: the cheapest larger GPU type.
    const expected = OFFERS.filter((o) => o.gpuCount >= 1 && o.ncpus > 8 && o.availability !== 'shortage' && !o.endOfService).sort((a, b) => a.hourlyPriceEur - b.hourlyPriceEur)[0]!;
    assert.equal(result.nodeClaims[0]!.offering.commercialType, expected.commercialType);
    assert.equal(result.nodeClaims[0]!.resources.requests.cpu, '8');
  });

  it('computes the effective request with init containers and sidecars', () => {
    const p = parsePod({
      metadata: { name: 'init' },
      spec: {
        containers: [{ name: 'a', resources: { requests: { cpu: '1', memory: '1Gi' } } }, { name: 'b', resources: { requests: { cpu: '500m' } } }],
        initContainers: [{ name: 'big', resources: { requests: { cpu: '3' } } }, { name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '250m', memory: '1Gi' } } }],
        overhead: { cpu: '100m' },
      },
    });
    const r = podRequests(p);
    assert.equal(Math.round(r.cpu * 1000), 3100);
    assert.equal(r.memory, 2 * 2 ** 30);
    assert.equal(r.pods, 1);
  });

  it('is deterministic whatever the input order', () => {
    const list = [...pods('a', 3, { requests: GPU_ONE }), ...pods('b', 3, { requests: { cpu: '2', memory: '4Gi' } }), pod({ name: 'c', requests: { 'nvidia.com/gpu': '2', cpu: '10' } })];
    const one = plan({ pods: list, nodePools: [GPU_POOL], offers: OFFERS });
    const two = plan({ pods: [...list].reverse(), nodePools: [GPU_POOL], offers: [...OFFERS].reverse() });
    assert.deepEqual(two, one);
  });

  it('matches the exact optimum on random small mixes', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 6; round++) {
      const list = Array.from({ length: 11 }, (_, i) => pod({ name: `r${round}-${i}`, requests: { 'nvidia.com/gpu': String([1, 1, 2, 4][rand(4)]), cpu: String(1 + rand(12)), memory: `${4 + rand(60)}Gi` } }));
      const input = { pods: list, nodePools: [GPU_POOL], offers: OFFERS };
      const heuristic = plan(input).hourlyPriceEur;
      const exact = plan(input, { solver: optimalPacking }).hourlyPriceEur;
      assert.ok(heuristic <= exact * 1.02 + 1e-9, `round ${round}: ${heuristic} vs ${exact}`);
    }
  });
});
