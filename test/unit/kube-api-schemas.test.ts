import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidObjectError,
  NODECLASS_DEFAULTS,
  PRIVATE_NETWORKS_MESSAGE,
  PUBLIC_IP_NONE_MESSAGE,
  TAG_PREFIX,
  formatPath,
  isScalewayNodeClassRef,
  parseNode,
  parseNodeClaim,
  parseNodePool,
  parsePod,
  parseScalewayNodeClass,
  isNodeReady,
  isPodUnschedulable,
  untoleratedTaints,
} from '../../kube/api/index.ts';

const nodeClaim = () => ({
  apiVersion: 'karpenter.sh/v1',
  kind: 'NodeClaim',
  metadata: { name: 'gpu-abc', labels: { 'karpenter.sh/nodepool': 'gpu' }, generation: 1, creationTimestamp: '2026-08-01T10:00:00Z' },
  spec: {
    nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' },
    requirements: [
      { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['L4-1-24G', 'L40S-1-48G'], minValues: 1 },
      { key: 'karpenter.scaleway.com/instance-gpu-count', operator: 'Gt', values: ['0'] },
    ],
    resources: { requests: { cpu: '3500m', memory: 1073741824, 'nvidia.com/gpu': '1' } },
  },
});

const nodePool = () => ({
  apiVersion: 'karpenter.sh/v1',
  kind: 'NodePool',
  metadata: { name: 'gpu' },
  spec: {
    template: {
      spec: {
        nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' },
        requirements: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] }],
        taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
      },
    },
    limits: { 'nvidia.com/gpu': 8 },
  },
});

const nodeClass = () => ({
  apiVersion: 'karpenter.scaleway.com/v1alpha1',
  kind: 'ScalewayNodeClass',
  metadata: { name: 'default', generation: 3 },
  spec: {
    image: 'ubuntu_noble_gpu_os_12',
    rootVolume: { size: '120G', type: 'sbs_5k' },
    zones: ['fr-par-2'],
    bootstrap: { mode: 'kubeadm' },
  },
});

function rejects(fn: () => unknown, expected: RegExp): InvalidObjectError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InvalidObjectError, `expected an InvalidObjectError, got ${String(caught)}`);
  assert.match(caught.message, expected);
  return caught;
}

describe('parseNodeClaim', () => {
  it('accepts a valid NodeClaim and fills the defaults the CRD would', () => {
    const nc = parseNodeClaim(nodeClaim());
    assert.equal(nc.metadata.name, 'gpu-abc');
    assert.equal(nc.spec.expireAfter, '720h');
    assert.deepEqual(nc.spec.taints, []);
    assert.deepEqual(nc.spec.startupTaints, []);
    // Integer quantities become strings so callers handle one type.
    assert.deepEqual(nc.spec.resources.requests, { cpu: '3500m', memory: '1073741824', 'nvidia.com/gpu': '1' });
    assert.deepEqual(nc.status.conditions, []);
    assert.equal(nc.status.providerID, undefined);
    assert.ok(isScalewayNodeClassRef(nc.spec.nodeClassRef));
  });

  it('keeps unknown metadata fields and converts Date timestamps', () => {
    const obj = nodeClaim();
    const withExtra = { ...obj, metadata: { ...obj.metadata, creationTimestamp: new Date('2026-08-01T10:00:00Z'), managedFields: [{ manager: 'x' }] } };
    const nc = parseNodeClaim(withExtra);
    assert.equal(nc.metadata.creationTimestamp, '2026-08-01T10:00:00.000Z');
    assert.deepEqual(nc.metadata.managedFields, [{ manager: 'x' }]);
  });

  it('names the object and the field when an operator is wrong', () => {
    const obj = nodeClaim();
    obj.spec.requirements[1]!.operator = 'GreaterThan';
    const err = rejects(() => parseNodeClaim(obj), /^invalid NodeClaim "gpu-abc": spec\.requirements\[1\]\.operator: /);
    assert.equal(err.kind, 'NodeClaim');
    assert.equal(err.objectName, 'gpu-abc');
    assert.deepEqual(err.issues.map((i) => i.path), ['spec.requirements[1].operator']);
  });

  it('reports every missing field at once', () => {
    const obj = nodeClaim() as { spec: Record<string, unknown> };
    delete obj.spec.nodeClassRef;
    obj.spec.expireAfter = '30 days';
    const err = rejects(() => parseNodeClaim(obj), /spec\.nodeClassRef: .*expected object/);
    assert.deepEqual(err.issues.map((i) => i.path).sort(), ['spec.expireAfter', 'spec.nodeClassRef']);
    assert.match(err.message, /spec\.expireAfter: expected a duration such as 15m or 720h, or Never/);
  });

  it('rejects a wrong kind and an unnamed object', () => {
    rejects(() => parseNodeClaim({ ...nodeClaim(), kind: 'NodePool' }), /^invalid NodeClaim "gpu-abc": kind: /);
    rejects(() => parseNodeClaim({ spec: nodeClaim().spec }), /^invalid NodeClaim "<unnamed>": metadata: /);
    rejects(() => parseNodeClaim(null), /^invalid NodeClaim "<unnamed>"/);
  });

  it('brackets path parts that are label keys', () => {
    const obj = nodeClaim();
    (obj.spec.resources.requests as Record<string, unknown>)['nvidia.com/gpu'] = 'one';
    rejects(() => parseNodeClaim(obj), /spec\.resources\.requests\["nvidia\.com\/gpu"\]: not a quantity/);
    assert.equal(formatPath(['metadata', 'labels', 'karpenter.sh/nodepool']), 'metadata.labels["karpenter.sh/nodepool"]');
  });
});

describe('parseNodePool', () => {
  it('fills disruption and template defaults', () => {
    const np = parseNodePool(nodePool());
    assert.deepEqual(np.spec.disruption, {
      consolidateAfter: '0s',
      consolidationPolicy: 'WhenEmptyOrUnderutilized',
      consolidateWhen: 'WhenEmptyOrUnderutilized',
      decisionRatioThreshold: 1,
      budgets: [{ nodes: '10%' }],
    });
    assert.deepEqual(np.spec.template.metadata, { labels: {}, annotations: {} });
    assert.equal(np.spec.template.spec.expireAfter, '720h');
    assert.deepEqual(np.spec.limits, { 'nvidia.com/gpu': '8' });
    assert.equal(np.spec.template.spec.taints[0]?.effect, 'NoSchedule');
  });

  it('rejects a bad budget and a weight out of range', () => {
    const obj = nodePool() as ReturnType<typeof nodePool> & { spec: Record<string, unknown> };
    obj.spec.disruption = { consolidateAfter: 'Never', budgets: [{ nodes: '150%' }] };
    obj.spec.weight = 0;
    const err = rejects(() => parseNodePool(obj), /^invalid NodePool "gpu": /);
    assert.deepEqual(err.issues.map((i) => i.path).sort(), ['spec.disruption.budgets[0].nodes', 'spec.weight']);
  });
});

describe('parseScalewayNodeClass', () => {
  it('fills defaults for timeouts, public IP and lists', () => {
    const nc = parseScalewayNodeClass(nodeClass());
    assert.deepEqual(nc.spec.timeouts, { launch: '5m', registration: '15m', initialization: '20m' });
    assert.equal(nc.spec.publicIP, NODECLASS_DEFAULTS.publicIP);
    assert.deepEqual(nc.spec.tags, []);
    assert.deepEqual(nc.spec.privateNetworks, []);
    assert.equal(nc.spec.bootstrap.mode, 'kubeadm');
    assert.deepEqual(nc.status, { conditions: [], images: [] });
  });

  it('defaults secret keys inside the bootstrap blocks', () => {
    const obj = nodeClass();
    obj.spec.bootstrap = { mode: 'k3s', k3s: { serverURL: 'https://10.0.0.2:6443', tokenSecretRef: { name: 'k3s', namespace: 'kube-system' } } } as never;
    const nc = parseScalewayNodeClass(obj);
    assert.deepEqual(nc.spec.bootstrap.k3s?.tokenSecretRef, { name: 'k3s', namespace: 'kube-system', key: 'token' });
  });

  it('requires the block of the chosen mode, with the CRD message', () => {
    const obj = nodeClass();
    obj.spec.bootstrap = { mode: 'k3s' };
    rejects(() => parseScalewayNodeClass(obj), /^invalid ScalewayNodeClass "default": spec\.bootstrap\.k3s: bootstrap\.k3s is required when bootstrap\.mode is k3s$/);
  });

  it('rejects a block for another mode', () => {
    const obj = nodeClass();
    obj.spec.bootstrap = { mode: 'kubeadm', kosmos: { poolID: '11111111-2222-4333-8444-555555555555', region: 'fr-par' } } as never;
    rejects(() => parseScalewayNodeClass(obj), /spec\.bootstrap\.kosmos: bootstrap\.kosmos is only allowed when bootstrap\.mode is kosmos/);
  });

  it('needs exactly one custom template source', () => {
    const obj = nodeClass();
    obj.spec.bootstrap = { mode: 'custom', custom: {} } as never;
    rejects(() => parseScalewayNodeClass(obj), /spec\.bootstrap\.custom: bootstrap\.custom needs exactly one of template or templateSecretRef/);
  });

  it('checks enums, UUIDs and zones', () => {
    const obj = nodeClass() as ReturnType<typeof nodeClass> & { spec: Record<string, unknown> };
    obj.spec.rootVolume = { size: '120G', type: 'b_ssd' };
    obj.spec.securityGroupID = 'not-a-uuid';
    obj.spec.zones = ['paris-2'];
    obj.spec.publicIP = 'none';
    const err = rejects(() => parseScalewayNodeClass(obj), /^invalid ScalewayNodeClass "default": /);
    assert.deepEqual(err.issues.map((i) => i.path).sort(), ['spec.rootVolume.type', 'spec.securityGroupID', 'spec.zones[0]']);
  });

  it('refuses privateNetworks and publicIP none, which nothing implements yet', () => {
    const obj = nodeClass() as ReturnType<typeof nodeClass> & { spec: Record<string, unknown> };
    obj.spec.privateNetworks = ['11111111-2222-4333-8444-555555555555'];
    const err = rejects(() => parseScalewayNodeClass(obj), /spec\.privateNetworks: privateNetworks is not supported yet/);
    assert.deepEqual(err.issues.map((i) => i.message), [PRIVATE_NETWORKS_MESSAGE]);
    obj.spec.publicIP = 'none';
    const both = rejects(() => parseScalewayNodeClass(obj), /spec\.publicIP: publicIP none is not supported yet: it needs privateNetworks/);
    assert.deepEqual(both.issues.map((i) => i.path).sort(), ['spec.privateNetworks', 'spec.publicIP']);
    obj.spec.privateNetworks = [];
    rejects(() => parseScalewayNodeClass(obj), new RegExp(PUBLIC_IP_NONE_MESSAGE));
    obj.spec.publicIP = 'both';
    assert.deepEqual(parseScalewayNodeClass(obj).spec.privateNetworks, []);
  });

  it('refuses a kubeadm tokenTTL shorter than the registration timeout, naming both', () => {
    const obj = nodeClass() as ReturnType<typeof nodeClass> & { spec: Record<string, unknown> };
    obj.spec.bootstrap = { mode: 'kubeadm', kubeadm: { tokenTTL: '10m' } } as never;
    rejects(() => parseScalewayNodeClass(obj), /spec\.bootstrap\.kubeadm\.tokenTTL: bootstrap\.kubeadm\.tokenTTL 10m is shorter than timeouts\.registration 15m: the bootstrap token must outlive the join/);
    obj.spec.timeouts = { registration: '1h' };
    obj.spec.bootstrap = { mode: 'kubeadm', kubeadm: {} } as never;
    rejects(() => parseScalewayNodeClass(obj), /tokenTTL 30m is shorter than timeouts\.registration 1h/);
    obj.spec.bootstrap = { mode: 'kubeadm' };
    rejects(() => parseScalewayNodeClass(obj), /tokenTTL 30m is shorter than timeouts\.registration 1h/);
    obj.spec.bootstrap = { mode: 'kubeadm', kubeadm: { tokenTTL: '1h' } } as never;
    assert.equal(parseScalewayNodeClass(obj).spec.bootstrap.kubeadm?.tokenTTL, '1h');
    // Other modes have no kubeadm token: nothing to compare.
    obj.spec.bootstrap = { mode: 'k3s', k3s: { serverURL: 'https://10.0.0.2:6443', tokenSecretRef: { name: 'k3s', namespace: 'kube-system' } } } as never;
    assert.equal(parseScalewayNodeClass(obj).spec.bootstrap.mode, 'k3s');
  });

  it('refuses tags with the reserved prefix', () => {
    const obj = nodeClass() as ReturnType<typeof nodeClass> & { spec: Record<string, unknown> };
    obj.spec.tags = ['team=ml', `${TAG_PREFIX}/nodeclaim-uid=1234`];
    rejects(() => parseScalewayNodeClass(obj), /spec\.tags\[1\]: tags may not start with karpenter\.scaleway\.com/);
    obj.spec.tags = ['team=ml', 'karpenter.sh/whatever'];
    assert.deepEqual(parseScalewayNodeClass(obj).spec.tags, ['team=ml', 'karpenter.sh/whatever']);
  });

  it('accepts an image UUID and rejects an upper-case label', () => {
    const obj = nodeClass();
    obj.spec.image = '0a1b2c3d-0000-4000-8000-000000000001';
    assert.equal(parseScalewayNodeClass(obj).spec.image, '0a1b2c3d-0000-4000-8000-000000000001');
    obj.spec.image = 'Ubuntu Noble';
    rejects(() => parseScalewayNodeClass(obj), /spec\.image: expected a marketplace label or an image UUID/);
  });
});

describe('core/v1 subsets', () => {
  it('parses a Node from client-node with Date timestamps and reads readiness', () => {
    const node = parseNode({
      metadata: { name: 'scw-gpu-abc', creationTimestamp: new Date('2026-08-01T10:00:00Z') },
      spec: { providerID: 'scaleway://instance/fr-par-2/11111111-2222-4333-8444-555555555555', taints: [{ key: 'karpenter.sh/unregistered', effect: 'NoExecute' }] },
      status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date() }], allocatable: { 'nvidia.com/gpu': 1 } },
    });
    assert.equal(node.spec.taints.length, 1);
    assert.deepEqual(node.status.allocatable, { 'nvidia.com/gpu': '1' });
    assert.ok(isNodeReady(node));
    assert.ok(!isNodeReady(parseNode({ metadata: { name: 'n' } })));
  });

  it('parses a pending GPU pod and its tolerations', () => {
    const pod = parsePod({
      metadata: { name: 'train', namespace: 'ml' },
      spec: {
        nodeSelector: { 'karpenter.sh/instance-type': 'l4' },
        containers: [{ name: 'main', resources: { limits: { 'nvidia.com/gpu': 1 } } }],
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      },
      status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
    });
    assert.ok(isPodUnschedulable(pod));
    assert.deepEqual(pod.spec.containers[0]?.resources.limits, { 'nvidia.com/gpu': '1' });
    const taints = [
      { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' },
      { key: 'karpenter.sh/disrupted', effect: 'NoSchedule' },
      { key: 'soft', effect: 'PreferNoSchedule' },
    ];
    assert.deepEqual(untoleratedTaints(pod.spec.tolerations, taints), [{ key: 'karpenter.sh/disrupted', effect: 'NoSchedule' }]);
    assert.deepEqual(untoleratedTaints([{ operator: 'Exists' }], taints), []);
    assert.equal(untoleratedTaints([{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'absent' }], taints.slice(0, 1)).length, 1);
  });

  it('rejects a pod affinity with an operator core/v1 does not have', () => {
    assert.throws(
      () =>
        parsePod({
          metadata: { name: 'p', namespace: 'd' },
          spec: {
            containers: [{ name: 'c' }],
            affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'Gte', values: ['1'] }] }] } } },
          },
        }),
      /invalid Pod "p": spec\.affinity\.nodeAffinity\.requiredDuringSchedulingIgnoredDuringExecution\.nodeSelectorTerms\[0\]\.matchExpressions\[0\]\.operator/,
    );
  });
});
