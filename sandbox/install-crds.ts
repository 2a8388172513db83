// Installs the project's CRDs (karpenter.sh/v1 NodeClaim and NodePool, our
// ScalewayNodeClass) as raw JSON, keeping every x-kubernetes-* rule, and waits
// until each is Established.
import { loadCrds } from '../kube/api/crds.ts';
import { isAlreadyExists, type KubeRest } from '../kube/rest.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

export async function installCrds(kube: KubeRest, timeoutMs = 30_000): Promise<void> {
  const crds = loadCrds() as { metadata: { name: string } }[];
  for (const crd of crds) {
    try {
      await kube.post(CRDS, crd);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (;;) {
      const got = await kube.get<{ status?: { conditions?: { type: string; status: string }[] } }>(`${CRDS}/${crd.metadata.name}`);
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} was not Established within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
