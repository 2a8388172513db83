// Our three CRDs on a real kube-apiserver: they install (CEL cost limits
// included), serve, default, and reject invalid objects with the messages of
// their validation rules; the restricted-label mirror in kube/api agrees with
// the API server key by key.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiextensionsV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { useControlPlane } from '../harness/stack.ts';
import { toolsBinDir } from '../../sandbox/tools.ts';
import {
  NODECLAIM_GVR,
  NODEPOOL_GVR,
  SCALEWAY_NODECLASS_GVR,
  exampleNodeClaim,
  exampleNodePool,
  exampleScalewayNodeClass,
  loadCrdModels,
  parseNodeClaim,
  parseNodePool,
  parseScalewayNodeClass,
  restrictedLabelError,
  type GroupVersionResource,
} from '../../kube/api/index.ts';

// The control-plane tools are built by tools/install-tools.sh (npm run test:integration runs it first).
const haveApiServer = existsSync(join(toolsBinDir(), 'kube-apiserver'));

type Obj = Record<string, unknown> & { metadata: { name: string; resourceVersion?: string } };

/** The Status message of a failed API call (client-node puts the raw body in the error). */
function statusMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const message = (JSON.parse(body) as { message?: unknown }).message;
      return typeof message === 'string' ? message : body;
    } catch {
      return body;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

describe('CRDs on a real kube-apiserver', { skip: haveApiServer ? false : 'kube-apiserver not built (run npm run tools)' }, () => {
  let custom: CustomObjectsApi;
  let counter = 0;

  const create = (gvr: GroupVersionResource, body: Obj) => custom.createClusterCustomObject({ group: gvr.group, version: gvr.version, plural: gvr.plural, body }) as Promise<Obj>;
  const get = (gvr: GroupVersionResource, name: string) => custom.getClusterCustomObject({ group: gvr.group, version: gvr.version, plural: gvr.plural, name }) as Promise<Obj>;
  const replace = (gvr: GroupVersionResource, body: Obj) =>
    custom.replaceClusterCustomObject({ group: gvr.group, version: gvr.version, plural: gvr.plural, name: body.metadata.name, body }) as Promise<Obj>;

  /** Creates `body` under a fresh name and returns the API server's message, or undefined when accepted. */
  async function verdict(gvr: GroupVersionResource, body: Obj): Promise<string | undefined> {
    const named = { ...body, metadata: { ...body.metadata, name: `${body.metadata.name}-${++counter}` } };
    try {
      await create(gvr, named);
      return undefined;
    } catch (err) {
      return statusMessage(err);
    }
  }

  async function rejected(gvr: GroupVersionResource, body: Obj, ...expected: string[]): Promise<void> {
    const message = await verdict(gvr, body);
    assert.ok(message !== undefined, `${gvr.kind} was accepted, expected: ${expected.join(' / ')}`);
    for (const e of expected) assert.ok(message.includes(e), `expected "${e}" in: ${message}`);
  }

  before(async () => {
    const cp = await useControlPlane();
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    const crds = loadCrdModels();
    for (const crd of crds) {
      try {
        await ext.createCustomResourceDefinition({ body: crd });
      } catch (err) {
        throw new Error(`installing CRD ${crd.metadata?.name}: ${statusMessage(err)}`, { cause: err });
      }
    }
    for (const crd of crds) {
      const name = crd.metadata?.name ?? '';
      const deadline = Date.now() + 30_000;
      for (;;) {
        const got = await ext.readCustomResourceDefinition({ name });
        if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
        if (Date.now() > deadline) throw new Error(`CRD ${name} not Established: ${JSON.stringify(got.status?.conditions)}`);
        await sleep(100);
      }
    }
    // Established comes a moment before the endpoint serves: retry the first create.
    for (let i = 0; ; i++) {
      try {
        await create(SCALEWAY_NODECLASS_GVR, exampleScalewayNodeClass('gpu'));
        break;
      } catch (err) {
        if (i >= 50) throw new Error(`ScalewayNodeClass never served: ${statusMessage(err)}`, { cause: err });
        await sleep(200);
      }
    }
  });

  describe('valid objects', () => {
    it('stores the complete examples, which our parsers read back', async () => {
      const nodeClass = parseScalewayNodeClass(await get(SCALEWAY_NODECLASS_GVR, 'gpu'));
      assert.deepEqual(nodeClass.spec.zones, ['fr-par-2', 'nl-ams-1']);
      await create(NODEPOOL_GVR, exampleNodePool('gpu', 'gpu'));
      const pool = parseNodePool(await get(NODEPOOL_GVR, 'gpu'));
      assert.equal(pool.spec.template.spec.requirements.length, 4);
      await create(NODECLAIM_GVR, exampleNodeClaim('gpu-x7k2p', 'gpu', 'gpu'));
      const claim = parseNodeClaim(await get(NODECLAIM_GVR, 'gpu-x7k2p'));
      assert.equal(claim.spec.expireAfter, 'Never');
      assert.equal(claim.spec.requirements[2]?.operator, 'Gte');
    });

    it('applies the CRD defaults to minimal objects, matching the parsers', async () => {
      const minimalClass = { apiVersion: SCALEWAY_NODECLASS_GVR.apiVersion, kind: SCALEWAY_NODECLASS_GVR.kind, metadata: { name: 'minimal' }, spec: { bootstrap: { mode: 'kubeadm', kubeadm: {} } } };
      const stored = await create(SCALEWAY_NODECLASS_GVR, minimalClass);
      assert.deepEqual((stored.spec as Record<string, unknown>).timeouts, { launch: '5m', registration: '15m', initialization: '20m' });
      assert.equal((stored.spec as Record<string, unknown>).publicIP, 'ipv4');
      const { status: _ignored, ...parsedSpecOnly } = parseScalewayNodeClass(minimalClass);
      assert.deepEqual(parseScalewayNodeClass(stored).spec.timeouts, parsedSpecOnly.spec.timeouts);

      const minimalPool = {
        apiVersion: NODEPOOL_GVR.apiVersion,
        kind: NODEPOOL_GVR.kind,
        metadata: { name: 'minimal' },
        spec: { template: { spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'minimal' }, requirements: [] } } },
      };
      const pool = await create(NODEPOOL_GVR, minimalPool);
      const disruption = (pool.spec as { disruption: Record<string, unknown> }).disruption;
      assert.deepEqual(disruption, parseNodePool(minimalPool).spec.disruption);
      assert.equal((pool.spec as { template: { spec: { expireAfter: string } } }).template.spec.expireAfter, '720h');
    });

    it('accepts a NodePool written the way upstream documents it', async () => {
      const upstreamStyle = {
        apiVersion: 'karpenter.sh/v1',
        kind: 'NodePool',
        metadata: { name: 'default' },
        spec: {
          template: {
            metadata: { labels: { 'billing-team': 'my-team', 'node.kubernetes.io/pool': 'x' } },
            spec: {
              nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'default' },
              requirements: [
                { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] },
                { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot', 'on-demand'] },
                { key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: ['2'] },
              ],
              expireAfter: '720h',
            },
          },
          limits: { cpu: 1000 },
          disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '1m', budgets: [{ nodes: '10%' }, { nodes: '0', schedule: '@daily', duration: '10m' }] },
        },
      };
      assert.equal(await verdict(NODEPOOL_GVR, upstreamStyle as Obj), undefined);
    });

    it('writes NodeClaim status through the status subresource only', async () => {
      const claim = await get(NODECLAIM_GVR, 'gpu-x7k2p');
      const status = {
        providerID: 'scaleway://instance/fr-par-2/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
        nodeName: 'scw-gpu-x7k2p',
        capacity: { 'nvidia.com/gpu': '1', cpu: '8' },
        conditions: [
          { type: 'Launched', status: 'True', reason: 'Launched', message: '', lastTransitionTime: '2026-08-01T10:00:00Z', observedGeneration: 1 },
          { type: 'Ready', status: 'Unknown', reason: 'ReconcilingDependents', message: 'Registered=Unknown', lastTransitionTime: '2026-08-01T10:00:00Z' },
        ],
      };
      await custom.replaceClusterCustomObjectStatus({ ...NODECLAIM_GVR, name: 'gpu-x7k2p', body: { ...claim, status } });
      const after = parseNodeClaim(await get(NODECLAIM_GVR, 'gpu-x7k2p'));
      assert.equal(after.status.nodeName, 'scw-gpu-x7k2p');
      assert.equal(after.status.conditions.length, 2);
      // A plain update ignores status.
      await replace(NODECLAIM_GVR, { ...(await get(NODECLAIM_GVR, 'gpu-x7k2p')), status: { nodeName: 'other' } });
      assert.equal(parseNodeClaim(await get(NODECLAIM_GVR, 'gpu-x7k2p')).status.nodeName, 'scw-gpu-x7k2p');
    });

    it('serves the scale subresource of a static NodePool', async () => {
      const pool = exampleNodePool('static', 'gpu') as Obj & { spec: Record<string, unknown> };
      delete pool.spec.weight;
      pool.spec.limits = { nodes: '5' };
      pool.spec.replicas = 2;
      await create(NODEPOOL_GVR, pool);
      const scale = (await custom.getClusterCustomObjectScale({ ...NODEPOOL_GVR, name: 'static' })) as { spec?: { replicas?: number } };
      assert.equal(scale.spec?.replicas, 2);
    });
  });

  describe('NodeClaim validation', () => {
    const withRequirement = (r: Record<string, unknown>) => {
      const nc = exampleNodeClaim('bad');
      (nc.spec.requirements as unknown[]).push(r);
      return nc as Obj;
    };

    it('restricts label domains exactly as kube/api restrictedLabelError says', async () => {
      const keys = [
        'karpenter.sh/capacity-type',
        'karpenter.sh/nodepool',
        'karpenter.sh/instance-type',
        'sub.karpenter.sh/x',
        'kubernetes.io/hostname',
        'kubernetes.io/arch',
        'node.kubernetes.io/instance-type',
        'node.kubernetes.io/custom',
        'node-restriction.kubernetes.io/team',
        'foo.kubernetes.io/bar',
        'example.k8s.io/x',
        'kops.k8s.io/instancegroup',
        'karpenter.scaleway.com/instance-gpu-name',
        'team',
      ];
      for (const key of keys) {
        const message = await verdict(NODECLAIM_GVR, withRequirement({ key, operator: 'Exists' }));
        const expected = restrictedLabelError(key, 'NodeClaim');
        if (expected === undefined) assert.equal(message, undefined, `${key} should be accepted`);
        else assert.ok(message?.includes(expected), `${key}: expected "${expected}" in ${message}`);
      }
    });

    it('rejects malformed requirements with the upstream messages', async () => {
      await rejected(NODECLAIM_GVR, withRequirement({ key: 'team', operator: 'In', values: [] }), "requirements with operator 'In' must have a value defined");
      await rejected(NODECLAIM_GVR, withRequirement({ key: 'gpus', operator: 'Gt', values: ['-1'] }), "requirements operator 'Gt', 'Lt', 'Gte', or 'Lte' must have a single positive integer value");
      await rejected(NODECLAIM_GVR, withRequirement({ key: 'gpus', operator: 'Lte', values: ['1', '2'] }), 'must have a single positive integer value');
      await rejected(NODECLAIM_GVR, withRequirement({ key: 'team', operator: 'In', values: ['a'], minValues: 2 }), "requirements with 'minValues' must have at least that many values");
      await rejected(NODECLAIM_GVR, withRequirement({ key: 'team', operator: 'Matches', values: ['a'] }), 'Unsupported value: "Matches"');
    });

    it('rejects an empty nodeClassRef group and a bad expireAfter', async () => {
      const nc = exampleNodeClaim('bad') as Obj & { spec: { nodeClassRef: { group: string }; expireAfter: string } };
      nc.spec.nodeClassRef.group = '';
      nc.spec.expireAfter = '30d';
      await rejected(NODECLAIM_GVR, nc, 'group may not be empty', 'spec.expireAfter');
    });

    it('keeps the spec immutable', async () => {
      const claim = (await get(NODECLAIM_GVR, 'gpu-x7k2p')) as Obj & { spec: { taints: unknown[] } };
      claim.spec.taints = [];
      await assert.rejects(replace(NODECLAIM_GVR, claim), (err) => statusMessage(err).includes('spec is immutable'));
    });
  });

  describe('NodePool validation', () => {
    it('reserves karpenter.sh/nodepool and hostname in template labels and requirements', async () => {
      const labelled = exampleNodePool('bad') as Obj & { spec: { template: { metadata: { labels: Record<string, string> } } } };
      labelled.spec.template.metadata.labels['karpenter.sh/nodepool'] = 'x';
      await rejected(NODEPOOL_GVR, labelled, 'label "karpenter.sh/nodepool" is restricted');
      const hostname = exampleNodePool('bad') as Obj & { spec: { template: { metadata: { labels: Record<string, string> } } } };
      hostname.spec.template.metadata.labels['kubernetes.io/hostname'] = 'x';
      await rejected(NODEPOOL_GVR, hostname, 'label "kubernetes.io/hostname" is restricted');
      const seedAlias = exampleNodePool('bad') as Obj & { spec: { template: { spec: { requirements: unknown[] } } } };
      seedAlias.spec.template.spec.requirements.push({ key: 'karpenter.sh/instance-type', operator: 'In', values: ['l4'] });
      await rejected(NODEPOOL_GVR, seedAlias, 'label domain "karpenter.sh" is restricted');
      const pool = exampleNodePool('bad') as Obj & { spec: { template: { spec: { requirements: unknown[] } } } };
      pool.spec.template.spec.requirements.push({ key: 'karpenter.sh/nodepool', operator: 'In', values: ['x'] });
      await rejected(NODEPOOL_GVR, pool, 'label "karpenter.sh/nodepool" is restricted');
    });

    it('checks budgets, static pools and weights', async () => {
      const budget = exampleNodePool('bad') as Obj & { spec: { disruption: { budgets: unknown[] } } };
      budget.spec.disruption.budgets = [{ nodes: '1', schedule: '@daily' }];
      await rejected(NODEPOOL_GVR, budget, "'schedule' must be set with 'duration'");
      const staticWeighted = exampleNodePool('bad') as Obj & { spec: Record<string, unknown> };
      staticWeighted.spec.replicas = 1;
      staticWeighted.spec.limits = { nodes: '3' };
      await rejected(NODEPOOL_GVR, staticWeighted, "'weight' is not supported on static NodePools");
      const staticCpu = exampleNodePool('bad') as Obj & { spec: Record<string, unknown> };
      delete staticCpu.spec.weight;
      staticCpu.spec.replicas = 1;
      await rejected(NODEPOOL_GVR, staticCpu, "only 'limits.nodes' is supported on static NodePools");
      const heavy = exampleNodePool('bad') as Obj & { spec: Record<string, unknown> };
      heavy.spec.weight = 101;
      await rejected(NODEPOOL_GVR, heavy, 'spec.weight');
    });

    it('keeps nodeClassRef group and kind immutable, but not its name', async () => {
      const pool = (await get(NODEPOOL_GVR, 'gpu')) as Obj & { spec: { template: { spec: { nodeClassRef: Record<string, string> } } } };
      pool.spec.template.spec.nodeClassRef.name = 'minimal';
      const renamed = (await replace(NODEPOOL_GVR, pool)) as typeof pool;
      renamed.spec.template.spec.nodeClassRef.kind = 'OtherNodeClass';
      await assert.rejects(replace(NODEPOOL_GVR, renamed), (err) => statusMessage(err).includes('nodeClassRef.kind is immutable'));
      renamed.spec.template.spec.nodeClassRef.kind = 'ScalewayNodeClass';
      renamed.spec.template.spec.nodeClassRef.group = 'example.com';
      await assert.rejects(replace(NODEPOOL_GVR, renamed), (err) => statusMessage(err).includes('nodeClassRef.group is immutable'));
    });
  });

  describe('ScalewayNodeClass validation', () => {
    const withSpec = (patch: Record<string, unknown>) => {
      const nc = exampleScalewayNodeClass('bad');
      return { ...nc, spec: { ...nc.spec, ...patch } } as Obj;
    };

    it('ties the bootstrap block to the mode', async () => {
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ bootstrap: { mode: 'k3s' } }), 'bootstrap.k3s is required when bootstrap.mode is k3s');
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ bootstrap: { mode: 'kosmos' } }), 'bootstrap.kosmos is required when bootstrap.mode is kosmos');
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ bootstrap: { mode: 'custom' } }), 'bootstrap.custom is required when bootstrap.mode is custom');
      await rejected(
        SCALEWAY_NODECLASS_GVR,
        withSpec({ bootstrap: { mode: 'kubeadm', k3s: { serverURL: 'https://k3s:6443', tokenSecretRef: { name: 't', namespace: 'kube-system' } } } }),
        'bootstrap.k3s is only allowed when bootstrap.mode is k3s',
      );
      await rejected(
        SCALEWAY_NODECLASS_GVR,
        withSpec({ bootstrap: { mode: 'custom', custom: { template: '#cloud-config', templateSecretRef: { name: 't', namespace: 'd' } } } }),
        'bootstrap.custom needs exactly one of template or templateSecretRef',
      );
      const k3s = withSpec({ bootstrap: { mode: 'k3s', k3s: { serverURL: 'https://10.0.0.2:6443', tokenSecretRef: { name: 'k3s', namespace: 'kube-system' } } } });
      assert.equal(await verdict(SCALEWAY_NODECLASS_GVR, k3s), undefined);
      const kosmos = withSpec({ bootstrap: { mode: 'kosmos', kosmos: { poolID: '7f9bcd4e-5a6c-4eaf-b13d-4e5f60718293', region: 'fr-par', agentURL: 'https://example.com/agent' } } });
      assert.equal(await verdict(SCALEWAY_NODECLASS_GVR, kosmos), undefined);
    });

    it('checks volume, network and kubelet settings', async () => {
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ rootVolume: { size: '5G' } }), 'rootVolume.size must be at least 10G');
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ rootVolume: { type: 'b_ssd' } }), 'Unsupported value: "b_ssd"');
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ publicIP: 'none', privateNetworks: [] }), 'publicIP none is not supported yet');
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ privateNetworks: ['5d7fab2c-3e4a-4c8d-8f1b-2c3d4e5f6071'] }), 'privateNetworks is not supported yet');
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ kubelet: { kubeReserved: { gpu: '1' } } }), "valid keys for kubeReserved are ['cpu','memory','ephemeral-storage','pid']");
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ securityGroupID: 'sg-123' }), 'spec.securityGroupID');
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ timeouts: { registration: '15 minutes' } }), 'spec.timeouts.registration');
      assert.equal(await verdict(SCALEWAY_NODECLASS_GVR, withSpec({ rootVolume: { size: '100Gi', type: 'l_ssd' }, publicIP: 'both', privateNetworks: [] })), undefined);
    });

    it('refuses reserved tags and a bootstrap token that would expire before the join', async () => {
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ tags: ['team=ml', 'karpenter.scaleway.com/cluster=other'] }), 'tags may not start with karpenter.scaleway.com');
      const kubeadm = exampleScalewayNodeClass('bad').spec.bootstrap.kubeadm;
      await rejected(
        SCALEWAY_NODECLASS_GVR,
        withSpec({ bootstrap: { mode: 'kubeadm', kubeadm: { ...kubeadm, tokenTTL: '10m' } }, timeouts: { registration: '15m' } }),
        'bootstrap.kubeadm.tokenTTL 10m is shorter than timeouts.registration 15m: the bootstrap token must outlive the join',
      );
      // The defaults (30m token, 15m registration) pass; so does a kubeadm block left to its defaults.
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ bootstrap: { mode: 'kubeadm', kubeadm: {} }, timeouts: { registration: '45m' } }), 'tokenTTL 30m is shorter than timeouts.registration 45m');
      assert.equal(await verdict(SCALEWAY_NODECLASS_GVR, withSpec({ bootstrap: { mode: 'kubeadm', kubeadm: {} }, timeouts: {} })), undefined);
      await rejected(SCALEWAY_NODECLASS_GVR, withSpec({ bootstrap: { mode: 'kubeadm' }, timeouts: { registration: '1h' } }), 'tokenTTL 30m is shorter than timeouts.registration 1h');
      assert.equal(await verdict(SCALEWAY_NODECLASS_GVR, withSpec({ bootstrap: { mode: 'kubeadm', kubeadm: { tokenTTL: '1h' } }, timeouts: { registration: '1h' } })), undefined);
    });
  });
});
