// The kubelet's reservations and the allocatable they leave, against Karpenter's
// formula written out here from its published rules (capacity − kube-reserved −
// system-reserved − eviction threshold), on recorded catalog types; and the
// round trip through every bootstrap mode: the configuration rendered into the
// cloud-init, read back and applied by the simulated kubelet's own arithmetic,
// gives the allocatable the planner assumed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toOffer } from './planner-fixtures.ts';
import { loadCatalog } from '../../scaleway/catalog/catalog.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import { kubeReservedMillicores, nodeAllocation, type KubeletSettings } from '../../scaleway/kubelet-reservations.ts';
import { toResourceList } from '../../scaleway/instance-types.ts';
import { parseRenderedBootstrap, renderBootstrap, type BootstrapInput, type KubeletConfig, type NodeRegistration } from '../../bootstrap/index.ts';
import { kubeletNodeResources } from '../../sandbox/kubelet-simulator.ts';
import { parseQuantity } from '../../kube/quantity.ts';

const catalog = loadCatalog();
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const ROOT = 120_000_000_000;

function offerOf(type: string, zone = 'fr-par-2'): ServerTypeOffer {
  const o = catalog.offer(zone, type);
  assert.ok(o, `${type} is in the recorded catalog of ${zone}`);
  return toOffer(o);
}

/** Karpenter's kube-reserved CPU, step by step: 6% of core 1, 1% of core 2, 0.5% of cores 3-4, 0.25% above, each truncated to millicores. */
function karpenterCpuMilli(cores: number): number {
  const m = cores * 1000;
  return Math.trunc(Math.min(m, 1000) * 0.06)
    + (m > 1000 ? Math.trunc((Math.min(m, 2000) - 1000) * 0.01) : 0)
    + (m > 2000 ? Math.trunc((Math.min(m, 4000) - 2000) * 0.005) : 0)
    + (m > 4000 ? Math.trunc((m - 4000) * 0.0025) : 0);
}

describe('nodeAllocation with Karpenter defaults', () => {
  for (const type of ['DEV1-S', 'POP2-HC-8C-16G', 'L4-1-24G', 'L4-2-24G', 'H100-SXM-8-80G']) {
    it(`${type}: capacity − kube-reserved (CPU table, 11 MiB × 110 pods + 255 MiB, 1 GiB) − eviction (100 MiB, 10% nodefs)`, () => {
      const offer = offerOf(type);
      const a = nodeAllocation(offer, ROOT);
      assert.deepEqual(a.capacity, { cpu: offer.ncpus, memory: offer.ramBytes, gpu: offer.gpuCount, pods: 110, ephemeralStorage: ROOT });
      assert.equal(Math.round(a.allocatable.cpu * 1000), offer.ncpus * 1000 - karpenterCpuMilli(offer.ncpus));
      assert.equal(a.allocatable.memory, offer.ramBytes - (11 * 110 + 255) * MiB - 100 * MiB);
      assert.equal(a.allocatable.ephemeralStorage, ROOT - GiB - Math.ceil(ROOT * 0.1));
      assert.equal(a.allocatable.pods, 110);
      assert.equal(a.allocatable.gpu, offer.gpuCount);
      assert.deepEqual(a.kubelet, {
        maxPods: 110,
        kubeReserved: { cpu: `${karpenterCpuMilli(offer.ncpus)}m`, memory: '1465Mi', 'ephemeral-storage': '1Gi' },
        systemReserved: {},
        evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '10%', 'nodefs.inodesFree': '5%', 'imagefs.available': '15%' },
      });
    });
  }

  it('gives an 8-vCPU node 7.91 CPUs: a 6-CPU pod and a 2-CPU DaemonSet pod do not both fit', () => {
    const a = nodeAllocation(offerOf('L4-1-24G'), ROOT);
    assert.equal(a.allocatable.cpu, 7.91);
    assert.ok(6 + 2 > a.allocatable.cpu);
  });

  it('truncates each step of the CPU table to whole millicores (5 and 130 cores)', () => {
    assert.equal(kubeReservedMillicores(5), 82);
    assert.equal(kubeReservedMillicores(130), 395);
    assert.equal(kubeReservedMillicores(1), 60);
    assert.equal(kubeReservedMillicores(2), 70);
  });
});

describe('nodeAllocation honours the NodeClass kubelet settings', () => {
  const offer = offerOf('L4-1-24G');

  it('maxPods sets pods and the kube-reserved memory', () => {
    const a = nodeAllocation(offer, ROOT, { maxPods: 58 });
    assert.equal(a.capacity.pods, 58);
    assert.equal(a.kubelet.kubeReserved.memory, `${11 * 58 + 255}Mi`);
    assert.equal(a.allocatable.memory, offer.ramBytes - (11 * 58 + 255) * MiB - 100 * MiB);
  });

  it('a kubeReserved key replaces its default alone; systemReserved adds to it', () => {
    const a = nodeAllocation(offer, ROOT, { kubeReserved: { cpu: '500m' }, systemReserved: { cpu: '250m', memory: '1Gi', 'ephemeral-storage': '2Gi' } });
    assert.deepEqual(a.kubelet.kubeReserved, { cpu: '500m', memory: '1465Mi', 'ephemeral-storage': '1Gi' });
    assert.deepEqual(a.kubelet.systemReserved, { cpu: '250m', memory: '1Gi', 'ephemeral-storage': '2Gi' });
    assert.equal(a.allocatable.cpu, 7.25);
    assert.equal(a.allocatable.memory, offer.ramBytes - 1465 * MiB - GiB - 100 * MiB);
    assert.equal(a.allocatable.ephemeralStorage, ROOT - GiB - 2 * GiB - Math.ceil(ROOT * 0.1));
  });

  it('evictionHard thresholds: a percentage of capacity, an absolute quantity, 100% disables; other signals keep their defaults', () => {
    const a = nodeAllocation(offer, ROOT, { evictionHard: { 'memory.available': '5%', 'nodefs.available': '2Gi' } });
    assert.equal(a.allocatable.memory, offer.ramBytes - 1465 * MiB - Math.ceil(offer.ramBytes * 0.05));
    assert.equal(a.allocatable.ephemeralStorage, ROOT - GiB - 2 * GiB);
    assert.equal(a.kubelet.evictionHard['imagefs.available'], '15%');
    const off = nodeAllocation(offer, ROOT, { evictionHard: { 'memory.available': '100%' } });
    assert.equal(off.allocatable.memory, offer.ramBytes - 1465 * MiB);
  });

  it('rounds a sub-millicore CPU reservation up, as the kubelet does, and never goes below zero', () => {
    assert.equal(nodeAllocation(offer, ROOT, { kubeReserved: { cpu: '0.0005' } }).allocatable.cpu, 7.999);
    const starved = nodeAllocation(offerOf('DEV1-S'), ROOT, { systemReserved: { cpu: '4', memory: '8Gi' } });
    assert.equal(starved.allocatable.cpu, 0);
    assert.equal(starved.allocatable.memory, 0);
  });
});

// ---- Rendered, read back, applied by the simulated kubelet -------------------------------

const SERVER_ID = '0b6c3f7e-8d4a-4c59-9a4e-2f1d6b7c8e90';
const CA_HASH = `sha256:${'0123456789abcdef'.repeat(4)}`;
const node: NodeRegistration = { nodeName: 'gpu-l4-x7k2p', zone: 'fr-par-2', serverId: SERVER_ID, labels: {}, taints: [], startupTaints: [] };

function inputs(kubelet: KubeletConfig): BootstrapInput[] {
  return [
    { mode: 'kubeadm', node, kubelet, kubeadm: { apiServerEndpoint: '10.42.0.1:6443', token: 'x7k2pq.0123456789abcdef', caCertHashes: [CA_HASH] } },
    { mode: 'k3s', node, kubelet, k3s: { url: 'https://10.42.0.1:6443', token: 'K10abc::server:secret' } },
    { mode: 'kosmos', node, kubelet, kosmos: { poolId: '5e2b1c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e', poolRegion: 'fr-par', metadataUrl: 'https://api.scaleway.com/k8s/v1/regions/fr-par/nodes/abc/metadata', nodeSecretKey: 'k' } },
    { mode: 'custom', node, kubelet, custom: { template: '#!/bin/sh\nexec kubelet --config=/var/lib/kubelet/config.yaml {{ .KubeletArgs }}\n' } },
    { mode: 'custom', node, kubelet, custom: { template: '#cloud-config\nruncmd:\n  - [kubelet, "--max-pods={{ .MaxPods }}", "--kube-reserved={{ .KubeReserved }}", "--system-reserved={{ .SystemReserved }}", "--eviction-hard={{ .EvictionHard }}", "--provider-id={{ .ProviderID }}"]\n' } },
  ];
}

const parsedAmounts = (list: Record<string, string>): Record<string, number> => Object.fromEntries(Object.entries(list).map(([k, v]) => [k, parseQuantity(v)]));

describe('the rendered kubelet configuration, as the simulated kubelet applies it', () => {
  const cases: [string, string, KubeletSettings][] = [
    ['L4-1-24G', 'defaults', {}],
    ['H100-SXM-8-80G', 'defaults', {}],
    ['POP2-HC-8C-16G', 'custom kubelet settings', { maxPods: 64, kubeReserved: { cpu: '200m', memory: '2Gi' }, systemReserved: { cpu: '100m', memory: '512Mi', 'ephemeral-storage': '3Gi' }, evictionHard: { 'memory.available': '3%', 'nodefs.available': '5Gi' } }],
  ];
  for (const [type, what, settings] of cases) {
    it(`${type} with ${what}: every mode's node reports the allocatable the planner assumed`, () => {
      const offer = offerOf(type);
      const planned = nodeAllocation(offer, ROOT, settings);
      for (const input of inputs(planned.kubelet)) {
        const rendered = renderBootstrap(input);
        const reported = kubeletNodeResources({ ncpus: offer.ncpus, ramBytes: offer.ramBytes, rootVolumeBytes: ROOT }, parseRenderedBootstrap(rendered.cloudInit).kubelet);
        const expected = toResourceList(planned.allocatable);
        delete expected['nvidia.com/gpu']; // the device plugin's, reported later
        assert.deepEqual(parsedAmounts(reported.allocatable), parsedAmounts(expected), `${input.mode} mode`);
        assert.deepEqual(parsedAmounts(reported.capacity), parsedAmounts(Object.fromEntries(Object.entries(toResourceList(planned.capacity)).filter(([k]) => k !== 'nvidia.com/gpu'))), `${input.mode} mode capacity`);
      }
    });
  }

  it('a custom template that leaves the kubelet flags out gets kubelet defaults, and a warning', () => {
    const offer = offerOf('L4-1-24G');
    const planned = nodeAllocation(offer, ROOT);
    const rendered = renderBootstrap({ mode: 'custom', node, kubelet: planned.kubelet, custom: { template: '#!/bin/sh\nexec kubelet --provider-id={{ .ProviderID }}\n' } });
    assert.ok(rendered.warnings.some((w) => /will not reserve what the planner subtracted/.test(w)), rendered.warnings.join('; '));
    const reported = kubeletNodeResources({ ncpus: offer.ncpus, ramBytes: offer.ramBytes, rootVolumeBytes: ROOT }, parseRenderedBootstrap(rendered.cloudInit).kubelet);
    assert.equal(reported.allocatable.cpu, '8');
    assert.notDeepEqual(parsedAmounts(reported.allocatable), parsedAmounts(toResourceList(planned.allocatable)));
  });
});
