// Installs the project's CRDs (karpenter.sh/v1 NodeClaim and NodePool, our
// ScalewayNodeClass) as raw JSON, keeping every x-kubernetes-* rule, and waits
// until each is Established and its storage serves: a fresh CRD answers
// 429 "storage is (re)initializing" for a second or two, which the first
// NodeClaims of a burst would otherwise wait out.
import { loadCrds } from '../kube/api/crds.ts';
import { isAlreadyExists, KubeError, type KubeRest } from '../kube/rest.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** What installing a CRD reads of it. */
export interface CrdDocument {
  metadata: { name: string };
  spec: { group: string; scope?: 'Cluster' | 'Namespaced'; names: { plural: string; kind: string }; versions: { name: string; served: boolean }[] };
}

/** Ours: the CRDs of deploy/crds. */
export async function installCrds(kube: KubeRest, timeoutMs = 60_000): Promise<void> {
  await installCustomResourceDefinitions(kube, loadCrds() as unknown as CrdDocument[], timeoutMs);
}

/** Creates each CRD (one that exists is left as it is) and waits until it is Established and its storage serves. */
export async function installCustomResourceDefinitions(kube: KubeRest, crds: readonly CrdDocument[], timeoutMs = 60_000): Promise<void> {
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
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      // A dry-run create, refused or not, also builds the kind's write path (CEL rules, field
      // manager): about 2 s on the first write, which would otherwise land on the first NodeClaim.
      const kind = crd.spec.names.kind;
      for (;;) {
        try {
          await kube.post(`/apis/${crd.spec.group}/${version.name}/${crd.spec.scope === 'Namespaced' ? 'namespaces/default/' : ''}${crd.spec.names.plural}?dryRun=All`, { apiVersion: `${crd.spec.group}/${version.name}`, kind, metadata: { name: 'scw-karpenter-warm-up' } });
          break;
        } catch (err) {
          if (err instanceof KubeError && (err.status === 422 || err.status === 400)) break;
          if (Date.now() > deadline) throw new Error(`${crd.metadata.name} ${version.name} does not serve within ${timeoutMs / 1000} s: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
  }
}
