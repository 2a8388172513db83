import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CustomObjectsApi, KubeConfig, VersionApi } from '@kubernetes/client-node';
import { createKubeRest } from '../../kube/rest.ts';
import { credentialsOfKubeConfig } from '../../kube/credentials.ts';
import { useControlPlane } from '../harness/stack.ts';
import type { ControlPlane } from '../../sandbox/control-plane.ts';

describe('real kube-apiserver with etcd', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  before(async () => {
    cp = await useControlPlane();
    kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
  });

  it('answers /version with the pinned release', async () => {
    const info = await kc.makeApiClient(VersionApi).getCode();
    assert.match(info.gitVersion, /^v1\.35\.\d+$/);
    assert.match(cp.versions.etcd ?? '', /etcd Version: 3\.6\./);
  });

  it('serves a CustomResourceDefinition and stores an object of it', async () => {
    const group = 'smoke.scw-karpenter.dev';
    // Raw JSON: client-node's typed model renames `enum` and would drop it.
    await createKubeRest(credentialsOfKubeConfig(kc)).post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `gpupools.${group}` },
        spec: {
          group,
          scope: 'Cluster',
          names: { plural: 'gpupools', singular: 'gpupool', kind: 'GpuPool' },
          versions: [{
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', required: ['gpu'], properties: { gpu: { type: 'string', enum: ['l4', 'h100'] } } } } } },
          }],
        },
    });
    const custom = kc.makeApiClient(CustomObjectsApi);
    const body = { apiVersion: `${group}/v1`, kind: 'GpuPool', metadata: { name: 'pool-a' }, spec: { gpu: 'l4' } };
    // The CRD is served shortly after it is Established.
    let created = false;
    for (let i = 0; i < 50 && !created; i++) {
      try {
        await custom.createClusterCustomObject({ group, version: 'v1', plural: 'gpupools', body });
        created = true;
      } catch {
        await sleep(200);
      }
    }
    assert.ok(created, 'the CRD never became servable');
    const got = (await custom.getClusterCustomObject({ group, version: 'v1', plural: 'gpupools', name: 'pool-a' })) as { spec: { gpu: string }; metadata: { uid: string } };
    assert.equal(got.spec.gpu, 'l4');
    assert.match(got.metadata.uid, /^[0-9a-f-]{36}$/);
    // The schema is enforced by the real apiserver.
    await assert.rejects(
      custom.createClusterCustomObject({ group, version: 'v1', plural: 'gpupools', body: { ...body, metadata: { name: 'pool-b' }, spec: { gpu: 'k80' } } }),
      (err: Error) => /spec\.gpu: Unsupported value/.test(err.message) && err.message.includes("k80"),
    );
  });
});
