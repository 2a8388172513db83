// Instance choice on the recorded Scaleway catalog: labels, capacity,
// allocatable (Karpenter's kube-reserved formula) and offering ranking.
// Expected values are derived in the test from the catalog facts.
import { toOffer } from './planner-fixtures.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCatalog } from '../../scaleway/catalog/catalog.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import {
  fits,
  instanceAllocatable,
  instanceCapacity,
  instanceFamily,
  instanceLabels,
  labelMismatch,
  meetsLabels,
  requestedAmounts,
  toResourceList,
  type ResourceAmounts,
} from '../../scaleway/instance-types.ts';
import { rankOfferings, type RankInput } from '../../scaleway/offerings.ts';
import { Requirements, type NodeSelectorRequirementLike } from '../../kube/api/requirements.ts';

const catalog = loadCatalog();
const MiB = 2 ** 20;
const ROOT = 20_000_000_000;
const NONE: ResourceAmounts = { cpu: 0, memory: 0, gpu: 0, pods: 0, ephemeralStorage: 0 };


function zoneOffers(zone: string): ServerTypeOffer[] {
  return catalog.offers(zone).map((o) => toOffer(o));
}

function offerOf(zone: string, type: string, overrides: Partial<ServerTypeOffer> = {}): ServerTypeOffer {
  const o = catalog.offer(zone, type);
  assert.ok(o, `${type} is in the recorded catalog of ${zone}`);
  return toOffer(o, overrides);
}

const reqs = (...list: NodeSelectorRequirementLike[]): Requirements => Requirements.from(list);
const GPU_NAME = 'karpenter.scaleway.com/instance-gpu-name';
const GPU_COUNT = 'karpenter.scaleway.com/instance-gpu-count';
const CPU = 'karpenter.scaleway.com/instance-cpu';
const CAPACITY = 'karpenter.sh/capacity-type';

function rank(offers: readonly ServerTypeOffer[], requirements: Requirements, requests: Record<string, string> = {}, extra: Partial<RankInput> = {}) {
  return rankOfferings({ offers, requirements, requests: requestedAmounts(requests), rootVolumeBytes: ROOT, ...extra });
}

const names = (offers: readonly ServerTypeOffer[]): string[] => offers.map((o) => o.commercialType);

/** Kube-reserved CPU in millicores, written from the published table: 60m, +10m, +5m per core for cores 3-4, +2.5m per core above (whole millicores, as Karpenter truncates). */
function reservedMillicores(cores: number): number {
  if (cores <= 1) return 60 * cores;
  if (cores <= 2) return 60 + 10 * (cores - 1);
  if (cores <= 4) return 70 + 5 * (cores - 2);
  return 80 + Math.floor(2.5 * (cores - 4));
}

/** Ephemeral storage pods may use: the root volume less 1 GiB kube-reserved and the 10% nodefs.available eviction threshold. */
const ROOT_ALLOCATABLE = ROOT - 2 ** 30 - ROOT * 0.1;

function assertSortedByPrice(offers: readonly ServerTypeOffer[]): void {
  for (let i = 1; i < offers.length; i++) {
    assert.ok(offers[i - 1]!.hourlyPriceEur <= offers[i]!.hourlyPriceEur, `${offers[i - 1]!.commercialType} before ${offers[i]!.commercialType}`);
  }
}

describe('instanceFamily', () => {
  it('drops the size segments of GPU and POP2 types', () => {
    assert.equal(instanceFamily('L4-1-24G'), 'l4');
    assert.equal(instanceFamily('L40S-8-48G'), 'l40s');
    assert.equal(instanceFamily('H100-1-80G'), 'h100');
    assert.equal(instanceFamily('H100-SXM-2-80G'), 'h100-sxm');
    assert.equal(instanceFamily('B300-SXM-8-288G'), 'b300-sxm');
    assert.equal(instanceFamily('POP2-HC-8C-16G'), 'pop2-hc');
    assert.equal(instanceFamily('POP2-8C-32G'), 'pop2');
    assert.equal(instanceFamily('POP2-HN-10'), 'pop2-hn');
  });

  it('gives every size of a range whose core count carries an arch letter (A12C, X2C) one family', () => {
    for (const range of ['BASIC2', 'BASIC3', 'COMPUTE3', 'MEMORY3', 'STANDARD2', 'STANDARD3']) {
      const types = catalog.commercialTypes().filter((t) => t.startsWith(`${range}-`));
      assert.ok(types.length > 1, `${range} has several sizes in the catalog`);
      for (const t of types) assert.equal(instanceFamily(t), range.toLowerCase(), t);
    }
  });

  it('gives every named size of a range (DEV1-S … DEV1-XL) one family', () => {
    for (const range of ['DEV1', 'GP1', 'PRO2', 'PLAY2']) {
      const types = catalog.commercialTypes().filter((t) => t.startsWith(`${range}-`));
      assert.ok(types.length > 1, `${range} has several sizes in the catalog`);
      for (const t of types) assert.equal(instanceFamily(t), range.toLowerCase(), t);
    }
  });
});

describe('instanceLabels', () => {
  it('labels an L4 node from the catalog facts, with the seed alias', () => {
    const o = catalog.offer('fr-par-2', 'L4-1-24G')!;
    const labels = instanceLabels(toOffer(o));
    assert.deepEqual(labels, {
      'node.kubernetes.io/instance-type': 'L4-1-24G',
      'topology.kubernetes.io/zone': 'fr-par-2',
      'topology.kubernetes.io/region': 'fr-par',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/os': 'linux',
      'karpenter.sh/capacity-type': 'on-demand',
      'karpenter.scaleway.com/instance-family': 'l4',
      'karpenter.scaleway.com/instance-cpu': String(o.facts.ncpus),
      'karpenter.scaleway.com/instance-memory': String(o.facts.ram / MiB),
      [GPU_NAME]: 'l4',
      [GPU_COUNT]: String(o.facts.gpu),
      'karpenter.scaleway.com/instance-gpu-memory': String(o.facts.gpu_info!.gpu_memory / MiB),
      'karpenter.scaleway.com/instance-gpu-manufacturer': 'nvidia',
      'karpenter.sh/instance-type': 'l4',
    });
    assert.equal(o.facts.arch, 'x86_64', 'the catalog says x86_64, Kubernetes says amd64');
  });

  it('names H100 PCIe and SXM cards apart, and keeps the seed short name for PCIe', () => {
    const pcie = instanceLabels(offerOf('fr-par-2', 'H100-2-80G'));
    assert.equal(pcie[GPU_NAME], 'h100-pcie');
    assert.equal(pcie[GPU_COUNT], '2');
    assert.equal(pcie['karpenter.sh/instance-type'], 'h100');
    const sxm = instanceLabels(offerOf('fr-par-2', 'H100-SXM-8-80G'));
    assert.equal(sxm[GPU_NAME], 'h100-sxm');
    assert.equal(sxm['karpenter.sh/instance-type'], 'h100-sxm');
    assert.equal(instanceLabels(offerOf('fr-par-2', 'RENDER-S'))[GPU_NAME], 'p100');
  });

  it('gives arm64 CPU types no GPU labels', () => {
    const armType = catalog.offers('fr-par-2').find((o) => o.facts.arch === 'arm64' && o.facts.gpu === 0);
    assert.ok(armType);
    const labels = instanceLabels(toOffer(armType));
    assert.equal(labels['kubernetes.io/arch'], 'arm64');
    for (const key of Object.keys(labels)) assert.ok(!key.includes('gpu') && key !== 'karpenter.sh/instance-type', key);
    assert.equal(labels['topology.kubernetes.io/region'], 'fr-par');
    assert.equal(instanceLabels(toOffer(catalog.offers('nl-ams-3')[0]!))['topology.kubernetes.io/region'], 'nl-ams');
  });

  it('derives the labels once per offer: the same frozen object each time, a new one for another offer of the same type', () => {
    const offer = offerOf('fr-par-2', 'L4-2-24G');
    const labels = instanceLabels(offer);
    assert.equal(instanceLabels(offer), labels);
    assert.ok(Object.isFrozen(labels));
    const elsewhere = { ...offer, zone: 'fr-par-1' };
    assert.equal(instanceLabels(elsewhere)['topology.kubernetes.io/zone'], 'fr-par-1');
    assert.equal(labels['topology.kubernetes.io/zone'], 'fr-par-2');
  });

  it('meetsLabels says what labelMismatch says, for every offer of two zones and requirements of each kind', () => {
    const offers = catalog.offers('fr-par-1').concat(catalog.offers('fr-par-2')).map((o) => toOffer(o));
    const sets: NodeSelectorRequirementLike[][] = [
      [{ key: GPU_NAME, operator: 'In', values: ['l4', 'h100-sxm'] }],
      [{ key: GPU_COUNT, operator: 'Gt', values: ['1'] }, { key: 'topology.kubernetes.io/zone', operator: 'NotIn', values: ['fr-par-1'] }],
      [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['scaleway-gpu'] }, { key: GPU_NAME, operator: 'Exists' }],
      [{ key: GPU_NAME, operator: 'DoesNotExist' }, { key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }],
      [{ key: 'example.com/team', operator: 'In', values: ['ml'] }],
    ];
    let met = 0;
    for (const set of sets) {
      const requirements = Requirements.from(set);
      for (const o of offers) {
        const mismatch = labelMismatch(requirements, instanceLabels(o));
        assert.equal(meetsLabels(requirements, instanceLabels(o)), mismatch === undefined, `${o.commercialType}@${o.zone} against ${requirements.toString()}: ${mismatch}`);
        if (mismatch === undefined) met++;
      }
    }
    assert.ok(met > 0 && met < sets.length * offers.length, `some offers meet the sets and some do not (${met})`);
  });
});

describe('capacity and allocatable', () => {
  it('takes capacity from the facts', () => {
    const o = catalog.offer('fr-par-2', 'L4-2-24G')!;
    assert.deepEqual(instanceCapacity(toOffer(o), ROOT), { cpu: o.facts.ncpus, memory: o.facts.ram, gpu: 2, pods: 110, ephemeralStorage: ROOT });
    assert.equal(instanceCapacity(toOffer(o), ROOT, { maxPods: 58 }).pods, 58);
  });

  it('reserves CPU by the kube-reserved table, memory by 11 MiB per pod + 255 MiB + 100 MiB eviction, storage by 1 GiB + 10% eviction, for every fr-par-2 type', () => {
    for (const o of catalog.offers('fr-par-2')) {
      const a = instanceAllocatable(toOffer(o), ROOT);
      const cpuMillis = o.facts.ncpus * 1000 - reservedMillicores(o.facts.ncpus);
      assert.ok(Math.abs(a.cpu * 1000 - cpuMillis) < 1e-6, `${o.commercialType}: ${a.cpu} cores, expected ${cpuMillis}m`);
      assert.equal(a.memory, o.facts.ram - (11 * 110 + 255 + 100) * MiB, o.commercialType);
      assert.equal(a.gpu, o.facts.gpu);
      assert.equal(a.pods, 110);
      assert.equal(a.ephemeralStorage, ROOT_ALLOCATABLE);
    }
  });

  it('uses maxPods for the memory reservation', () => {
    const o = catalog.offer('fr-par-2', 'L4-1-24G')!;
    assert.equal(instanceAllocatable(toOffer(o), ROOT, { maxPods: 58 }).memory, o.facts.ram - (11 * 58 + 255 + 100) * MiB);
  });

  it('reserves 60m on one core, 70m on two, 80m on four, 90m on eight', () => {
    const alloc = (ncpus: number): number => Math.round(instanceAllocatable({ ...offerOf('fr-par-2', 'L4-1-24G'), ncpus }, ROOT).cpu * 1000);
    assert.equal(alloc(1), 940);
    assert.equal(alloc(2), 1930);
    assert.equal(alloc(4), 3920);
    assert.equal(alloc(8), 7910);
  });
});

describe('toResourceList', () => {
  it('writes an L4-1-24G allocatable as Kubernetes quantities', () => {
    const o = catalog.offer('fr-par-2', 'L4-1-24G')!;
    const list = toResourceList(instanceAllocatable(toOffer(o), ROOT));
    assert.deepEqual(list, {
      cpu: '7910m',
      memory: `${(o.facts.ram - 1565 * MiB) / 1024}Ki`,
      pods: '110',
      'ephemeral-storage': `${Math.floor(ROOT_ALLOCATABLE / 1024)}Ki`,
      'nvidia.com/gpu': '1',
    });
  });

  it('writes whole cores without a unit and leaves out GPUs on CPU types', () => {
    const list = toResourceList(instanceCapacity(offerOf('fr-par-2', 'DEV1-S'), ROOT));
    assert.equal(list.cpu, '2');
    assert.ok(!('nvidia.com/gpu' in list));
  });

  it('does not lose a millicore to floating point', () => {
    const a = instanceAllocatable({ ...offerOf('fr-par-2', 'DEV1-S'), ncpus: 130 }, ROOT);
    assert.equal(toResourceList(a).cpu, `${130 * 1000 - reservedMillicores(130)}m`);
  });
});

describe('requestedAmounts and fits', () => {
  it('parses a resource list; missing keys are zero', () => {
    assert.deepEqual(requestedAmounts({ cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '2', pods: 3 }), {
      cpu: 0.5, memory: 2 ** 30, gpu: 2, pods: 3, ephemeralStorage: 0,
    });
    assert.deepEqual(requestedAmounts(undefined), NONE);
    assert.throws(() => requestedAmounts({ cpu: 'lots' }), /invalid quantity/);
  });

  it('fits at the boundary and not one unit above', () => {
    const avail: ResourceAmounts = { cpu: 7.91, memory: 1000, gpu: 1, pods: 110, ephemeralStorage: 500 };
    assert.ok(fits(avail, avail));
    assert.ok(fits(NONE, avail));
    assert.ok(fits({ ...avail, cpu: 0.91 + 7 }, avail), 'floating-point sums of the same amount fit');
    assert.ok(!fits({ ...avail, cpu: 7.911 }, avail));
    assert.ok(!fits({ ...avail, memory: 1001 }, avail));
    assert.ok(!fits({ ...avail, gpu: 2 }, avail));
    assert.ok(!fits({ ...avail, pods: 111 }, avail));
    assert.ok(!fits({ ...avail, ephemeralStorage: 501 }, avail));
  });
});

describe('labelMismatch', () => {
  const labels = instanceLabels(offerOf('fr-par-2', 'L4-1-24G'));

  it('accepts matching requirements and explains a mismatch', () => {
    assert.equal(labelMismatch(reqs({ key: GPU_NAME, operator: 'In', values: ['l4', 'l40s'] }), labels), undefined);
    const why = labelMismatch(reqs({ key: GPU_NAME, operator: 'In', values: ['l40s'] }), labels);
    assert.ok(why?.includes(`${GPU_NAME}=l4`), why);
  });

  it('ignores keys the instance does not define', () => {
    assert.equal(labelMismatch(reqs({ key: 'team', operator: 'In', values: ['ml'] }), labels), undefined);
  });

  it('reads the seed alias key as the GPU name key', () => {
    assert.equal(labelMismatch(reqs({ key: 'karpenter.sh/instance-type', operator: 'In', values: ['l4'] }), labels), undefined);
    assert.ok(labelMismatch(reqs({ key: 'karpenter.sh/instance-type', operator: 'In', values: ['h100-pcie'] }), labels));
  });
});

describe('rankOfferings on the fr-par-2 catalog', () => {
  const offers = zoneOffers('fr-par-2');
  const shortage = offers.filter((o) => o.availability === 'shortage');
  const inStock = offers.filter((o) => o.availability !== 'shortage');

  it('puts the cheapest in-stock L4 type first for one GPU and counts what it left out', () => {
    const l4 = inStock.filter((o) => o.gpu?.name === 'L4');
    const cheapest = Math.min(...l4.map((o) => o.hourlyPriceEur));
    const { offerings, excluded } = rank(offers, reqs({ key: GPU_NAME, operator: 'In', values: ['l4'] }), { 'nvidia.com/gpu': '1' });
    assert.equal(offerings[0]?.hourlyPriceEur, cheapest);
    assert.equal(offerings[0]?.commercialType, l4.find((o) => o.hourlyPriceEur === cheapest)?.commercialType);
    assert.deepEqual(new Set(names(offerings)), new Set(names(l4)));
    assertSortedByPrice(offerings);
    assert.equal(excluded['out of stock (shortage)'], shortage.length, 'shortage is checked first');
    assert.ok(shortage.some((o) => o.commercialType === 'L4-8-24G'), 'the recorded shortage of L4-8-24G is among them');
    const total = Object.values(excluded).reduce((a, b) => a + b, 0);
    assert.equal(total + offerings.length, offers.length, 'every offer is either kept or counted once');
    // The other GPU types meet the request but not the name.
    assert.ok((excluded['requirements not met'] ?? 0) >= inStock.filter((o) => o.gpuCount > 0 && o.gpu?.name !== 'L4').length);
  });

  it('matches GPU label values, not short names: h100 alone finds nothing here', () => {
    const all = offers.map((o) => ({ ...o, availability: 'available' }));
    assert.equal(rank(all, reqs({ key: GPU_NAME, operator: 'In', values: ['h100'] }), { 'nvidia.com/gpu': '1' }).offerings.length, 0);
    const pcie = rank(all, reqs({ key: GPU_NAME, operator: 'In', values: ['h100-pcie'] }), { 'nvidia.com/gpu': '1' }).offerings;
    assert.deepEqual(new Set(names(pcie)), new Set(all.filter((o) => o.gpu?.name === 'H100-PCIe').map((o) => o.commercialType)));
  });

  it('accepts the seed capacity type scaleway-gpu as on-demand, and refuses spot', () => {
    const gpuReq: NodeSelectorRequirementLike = { key: GPU_NAME, operator: 'In', values: ['l4'] };
    const plain = names(rank(offers, reqs(gpuReq), { 'nvidia.com/gpu': '1' }).offerings);
    assert.ok(plain.length > 0);
    assert.deepEqual(names(rank(offers, reqs(gpuReq, { key: CAPACITY, operator: 'In', values: ['scaleway-gpu'] }), { 'nvidia.com/gpu': '1' }).offerings), plain);
    assert.deepEqual(names(rank(offers, reqs(gpuReq, { key: CAPACITY, operator: 'In', values: ['on-demand', 'spot'] }), { 'nvidia.com/gpu': '1' }).offerings), plain);
    assert.equal(rank(offers, reqs(gpuReq, { key: CAPACITY, operator: 'In', values: ['spot'] }), { 'nvidia.com/gpu': '1' }).offerings.length, 0);
  });

  it('offers nothing to capacity-type NotIn [on-demand]', () => {
    const { offerings } = rank(offers, reqs({ key: CAPACITY, operator: 'NotIn', values: ['on-demand'] }));
    assert.deepEqual(names(offerings), []);
  });

  it('applies NotIn, Gt and Lt on the GPU count', () => {
    const gpu1 = { 'nvidia.com/gpu': '1' };
    const notOne = rank(offers, reqs({ key: GPU_COUNT, operator: 'NotIn', values: ['1'] }), gpu1).offerings;
    assert.deepEqual(new Set(names(notOne)), new Set(names(inStock.filter((o) => o.gpuCount > 1))));
    assertSortedByPrice(notOne);
    const gtTwo = rank(offers, reqs({ key: GPU_COUNT, operator: 'Gt', values: ['2'] }), gpu1).offerings;
    assert.deepEqual(new Set(names(gtTwo)), new Set(names(inStock.filter((o) => o.gpuCount > 2))));
    const ltTwo = rank(offers, reqs({ key: GPU_COUNT, operator: 'Lt', values: ['2'] }), gpu1).offerings;
    assert.deepEqual(new Set(names(ltTwo)), new Set(names(inStock.filter((o) => o.gpuCount === 1))));
  });

  it('keeps only CPU types for GPU count DoesNotExist', () => {
    const { offerings } = rank(offers, reqs({ key: GPU_COUNT, operator: 'DoesNotExist' }));
    assert.deepEqual(new Set(names(offerings)), new Set(names(inStock.filter((o) => o.gpuCount === 0))));
    assert.equal(offerings[0]?.hourlyPriceEur, Math.min(...inStock.filter((o) => o.gpuCount === 0).map((o) => o.hourlyPriceEur)));
  });

  it('applies Gt and Lt on the CPU count', () => {
    const big = rank(offers, reqs({ key: CPU, operator: 'Gt', values: ['64'] })).offerings;
    assert.deepEqual(new Set(names(big)), new Set(names(inStock.filter((o) => o.ncpus > 64))));
    assert.ok(big.length > 0);
    const small = rank(offers, reqs({ key: CPU, operator: 'Lt', values: ['3'] })).offerings;
    assert.deepEqual(new Set(names(small)), new Set(names(inStock.filter((o) => o.ncpus < 3))));
    assert.ok(small.length > 0);
  });

  it('keeps CPU types out of a GPU-name requirement even without a GPU request', () => {
    const byName = rank(offers, reqs({ key: GPU_NAME, operator: 'In', values: ['l4'] })).offerings;
    assert.deepEqual(new Set(names(byName)), new Set(names(inStock.filter((o) => o.gpu?.name === 'L4'))));
    const byCount = rank(offers, reqs({ key: GPU_COUNT, operator: 'Gt', values: ['0'] })).offerings;
    assert.deepEqual(new Set(names(byCount)), new Set(names(inStock.filter((o) => o.gpuCount > 0))));
    // With one GPU requested the CPU types are left out for the right reason: the name, not their size.
    const { excluded } = rank(offers, reqs({ key: GPU_NAME, operator: 'In', values: ['l4'] }), { 'nvidia.com/gpu': '1' });
    assert.deepEqual(excluded, { 'out of stock (shortage)': shortage.length, 'requirements not met': inStock.filter((o) => o.gpu?.name !== 'L4').length });
  });

  it('does not let requirement keys the instance does not define exclude anything', () => {
    const base = rank(offers, reqs({ key: GPU_NAME, operator: 'In', values: ['l4'] }), { 'nvidia.com/gpu': '1' });
    const withTeam = rank(offers, reqs({ key: GPU_NAME, operator: 'In', values: ['l4'] }, { key: 'team', operator: 'In', values: ['ml'] }), { 'nvidia.com/gpu': '1' });
    assert.deepEqual(names(withTeam.offerings), names(base.offerings));
    assert.deepEqual(withTeam.excluded, base.excluded);
  });

  it('leaves out types with fewer GPUs than requested and counts them as too small', () => {
    const { offerings, excluded } = rank(offers, Requirements.empty(), { 'nvidia.com/gpu': '2' });
    assert.deepEqual(new Set(names(offerings)), new Set(names(inStock.filter((o) => o.gpuCount >= 2))));
    assert.equal(excluded['too small for the requests'], inStock.filter((o) => o.gpuCount < 2).length);
    assert.equal(excluded['out of stock (shortage)'], shortage.length);
    assert.ok(!names(offerings).includes('L4-1-24G'));
  });

  it('checks CPU and memory against allocatable, not capacity', () => {
    const l4 = offerOf('fr-par-2', 'L4-1-24G');
    const whole = { 'nvidia.com/gpu': '1', cpu: String(l4.ncpus) };
    assert.ok(!names(rank([l4], Requirements.empty(), whole).offerings).includes('L4-1-24G'), 'all 8 cores do not fit: some are reserved');
    const memory = `${(l4.ramBytes - 1565 * MiB) / 1024}Ki`;
    assert.deepEqual(names(rank([l4], Requirements.empty(), { memory }).offerings), ['L4-1-24G']);
    assert.deepEqual(names(rank([l4], Requirements.empty(), { memory: `${(l4.ramBytes - 1565 * MiB) / 1024 + 1}Ki` }).offerings), []);
  });

  it('skips recently unavailable offerings with their reason', () => {
    const l4 = reqs({ key: GPU_NAME, operator: 'In', values: ['l4'] });
    const base = rank(offers, l4, { 'nvidia.com/gpu': '1' }).offerings;
    const first = base[0]!;
    const { offerings, excluded } = rank(offers, l4, { 'nvidia.com/gpu': '1' }, {
      unavailable: (zone, type) => (zone === first.zone && type === first.commercialType ? 'out of stock' : undefined),
    });
    assert.deepEqual(names(offerings), names(base.slice(1)));
    assert.equal(excluded['recently out of stock'], 1);
  });
});

describe('rankOfferings filters and ties', () => {
  it('counts end-of-service types of fr-par-1 and never offers them', () => {
    const offers = zoneOffers('fr-par-1');
    const eos = offers.filter((o) => o.endOfService);
    assert.ok(eos.length > 0, 'fr-par-1 records end-of-service types');
    const { offerings, excluded } = rank(offers, Requirements.empty());
    assert.equal(excluded['end of service'], eos.length);
    for (const o of offerings) assert.ok(!o.endOfService, o.commercialType);
  });

  it('ranks by price across zones', () => {
    const offers = [...zoneOffers('fr-par-1'), ...zoneOffers('fr-par-2')].map((o) => ({ ...o, availability: 'available' }));
    const { offerings } = rank(offers, reqs({ key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['L4-1-24G'] }));
    const p1 = catalog.offer('fr-par-1', 'L4-1-24G')!.hourlyPrice;
    const p2 = catalog.offer('fr-par-2', 'L4-1-24G')!.hourlyPrice;
    assert.equal(offerings.length, 2);
    assert.equal(offerings[0]?.hourlyPriceEur, Math.min(p1, p2));
  });

  it('breaks price ties by stock, then name, then zone', () => {
    const price = { hourlyPriceEur: 1 };
    const offers = [
      offerOf('fr-par-2', 'L4-2-24G', { ...price, availability: 'available' }),
      offerOf('fr-par-2', 'L4-1-24G', { ...price, availability: 'scarce' }),
      offerOf('fr-par-2', 'L4-1-24G', { ...price, availability: 'available', zone: 'fr-par-1' }),
      offerOf('fr-par-2', 'L4-1-24G', { ...price, availability: 'available' }),
      offerOf('fr-par-2', 'L40S-1-48G', { hourlyPriceEur: 0.5, availability: 'scarce' }),
    ];
    const { offerings } = rank(offers, Requirements.empty());
    assert.deepEqual(offerings.map((o) => `${o.commercialType}@${o.zone}/${o.availability}`), [
      'L40S-1-48G@fr-par-2/scarce',
      'L4-1-24G@fr-par-1/available',
      'L4-1-24G@fr-par-2/available',
      'L4-2-24G@fr-par-2/available',
      'L4-1-24G@fr-par-2/scarce',
    ]);
  });
});
