// The seed's v1alpha5 Provisioner becomes a v1 NodePool our schema accepts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNodePool } from '../../kube/api/schemas.ts';
import { nodePoolFromSeedProvisioner } from '../../watcher/disruption/seed-migration.ts';

const seedProvisioner = {
  apiVersion: 'karpenter.sh/v1alpha5',
  kind: 'Provisioner',
  metadata: { name: 'scaleway-gpu' },
  spec: {
    requirements: [
      { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['scaleway-gpu'] },
      { key: 'karpenter.sh/instance-type', operator: 'In', values: ['l4', 'H100'] },
      { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
      { key: 'karpenter.sh/provisioner-name', operator: 'Exists' },
    ],
    taints: [{ key: 'karpenter.sh/capacity-type', value: 'scaleway-gpu', effect: 'NoSchedule' }],
    labels: { team: 'ml', 'karpenter.sh/instance-type': 'l4' },
    limits: { resources: { cpu: 1000, 'nvidia.com/gpu': '8' } },
    providerRef: { name: 'gpu' },
    ttlSecondsAfterEmpty: 30,
  },
};

describe('nodePoolFromSeedProvisioner', () => {
  it('maps ttlSecondsAfterEmpty to WhenEmpty after that many seconds and keeps the rest', () => {
    const { nodePool, warnings } = nodePoolFromSeedProvisioner(seedProvisioner);
    const parsed = parseNodePool(nodePool);
    assert.equal(parsed.metadata.name, 'scaleway-gpu');
    assert.equal(parsed.apiVersion, 'karpenter.sh/v1');
    assert.equal(parsed.kind, 'NodePool');
    assert.equal(parsed.spec.disruption.consolidationPolicy, 'WhenEmpty');
    assert.equal(parsed.spec.disruption.consolidateAfter, '30s');
    assert.deepEqual(parsed.spec.disruption.budgets, [{ nodes: '10%' }]);
    assert.deepEqual(parsed.spec.template.spec.nodeClassRef, { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'gpu' });
    assert.deepEqual(parsed.spec.template.spec.requirements, [
      { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
      { key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4', 'h100-pcie'] },
      { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
    ]);
    assert.deepEqual(parsed.spec.template.spec.taints, [{ key: 'karpenter.sh/capacity-type', value: 'scaleway-gpu', effect: 'NoSchedule' }]);
    assert.deepEqual(parsed.spec.template.metadata.labels, { team: 'ml' });
    assert.deepEqual(parsed.spec.limits, { cpu: '1000', 'nvidia.com/gpu': '8' });
    assert.equal(parsed.spec.template.spec.expireAfter, 'Never', 'v1alpha5 nodes without ttlSecondsUntilExpired never expired');
    assert.deepEqual(warnings, [
      'requirement karpenter.sh/provisioner-name: label domain "karpenter.sh" is restricted in v1, dropped',
      'label karpenter.sh/instance-type: label domain "karpenter.sh" is restricted in v1, dropped',
    ]);
  });

  it('maps consolidation.enabled, ttlSecondsUntilExpired and the absence of both', () => {
    const withSpec = (spec: Record<string, unknown>) => parseNodePool(nodePoolFromSeedProvisioner({ ...seedProvisioner, spec: { providerRef: { name: 'gpu' }, ...spec } }).nodePool);
    const consolidating = withSpec({ consolidation: { enabled: true }, ttlSecondsUntilExpired: 2592000, weight: 10 });
    assert.equal(consolidating.spec.disruption.consolidationPolicy, 'WhenEmptyOrUnderutilized');
    assert.equal(consolidating.spec.disruption.consolidateAfter, '0s');
    assert.equal(consolidating.spec.template.spec.expireAfter, '2592000s');
    assert.equal(consolidating.spec.weight, 10);
    const neither = withSpec({});
    assert.equal(neither.spec.disruption.consolidateAfter, 'Never');
    assert.equal(neither.spec.limits, undefined);
    assert.deepEqual(neither.spec.template.spec.requirements, []);
  });

  it('warns about what does not carry over', () => {
    const { nodePool, warnings } = nodePoolFromSeedProvisioner({
      ...seedProvisioner,
      spec: { providerRef: { name: 'legacy', kind: 'AWSNodeTemplate' }, kubeletConfiguration: { maxPods: 50 }, requirements: [{ key: 'gpus', operator: 'Gte', values: ['1'] }] },
    });
    assert.equal(nodePool.spec.template.spec.nodeClassRef.name, 'legacy');
    assert.deepEqual(warnings, [
      'requirement gpus: operator Gte is not supported by v1, dropped',
      'providerRef kind AWSNodeTemplate replaced by ScalewayNodeClass "legacy"',
      'kubeletConfiguration dropped: set ScalewayNodeClass spec.kubelet instead',
    ]);
    assert.match(nodePoolFromSeedProvisioner({ ...seedProvisioner, spec: {} }).warnings[0]!, /no providerRef: nodeClassRef points at ScalewayNodeClass "default"/);
  });

  it('refuses something that is not a v1alpha5 Provisioner', () => {
    assert.throws(() => nodePoolFromSeedProvisioner({ ...seedProvisioner, apiVersion: 'karpenter.sh/v1beta1' }), /invalid Provisioner "scaleway-gpu": apiVersion/);
    assert.throws(() => nodePoolFromSeedProvisioner({ ...seedProvisioner, spec: { ttlSecondsAfterEmpty: -1 } }), /ttlSecondsAfterEmpty/);
  });
});
