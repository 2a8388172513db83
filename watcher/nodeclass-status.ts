// ScalewayNodeClass status: is it usable? Its spec must be valid, its
// bootstrap prerequisites present (cluster-info or the referenced Secrets),
// and its image must resolve in each zone. The answer is the Ready condition
// (with a reason), the resolved images, and a Warning Event when it is not.
// NodeRegistrationHealthy gathers its NodePools' conditions of that name: a
// NodeClass whose nodes never join is where the fix usually is.
import type { KubeRest } from '../kube/rest.ts';
import { InvalidObjectError, parseScalewayNodeClass, type ScalewayNodeClass } from '../kube/api/schemas.ts';
import { findCondition, setCondition, type Condition } from '../kube/api/conditions.ts';
import { CONDITION, REASON, SCALEWAY_NODECLASS_GVR, type ConditionReason } from '../kube/api/constants.ts';
import type { ConditionUpdate } from '../kube/api/conditions.ts';
import { clusterPath, recordEvent } from '../kube/objects.ts';
import type { ScalewayCloud } from '../scaleway/cloud.ts';
import { CloudError } from '../scaleway/errors.ts';
import { isUuid } from '../kube/api/provider-id.ts';
import { imageCheckZones, imageOf } from '../scaleway/offerings.ts';

interface Verdict {
  ready: boolean;
  reason: string;
  message: string;
  images: { zone: string; imageID: string; label?: string }[];
}

async function secretHasKey(kube: KubeRest, ref: { name: string; namespace: string; key: string }): Promise<string | undefined> {
  const secret = await kube.getOrUndefined<{ data?: Record<string, string> }>(`/api/v1/namespaces/${ref.namespace}/secrets/${ref.name}`);
  if (!secret) return `Secret ${ref.namespace}/${ref.name} does not exist`;
  if (secret.data?.[ref.key] === undefined) return `Secret ${ref.namespace}/${ref.name} has no key ${ref.key}`;
  return undefined;
}

async function judge(kube: KubeRest, cloud: ScalewayCloud, nodeClass: ScalewayNodeClass): Promise<Verdict> {
  const b = nodeClass.spec.bootstrap;
  const fail = (reason: string, message: string): Verdict => ({ ready: false, reason, message, images: [] });
  if (b.mode === 'kubeadm' && !b.kubeadm?.apiServerEndpoint) {
    const info = await kube.getOrUndefined('/api/v1/namespaces/kube-public/configmaps/cluster-info');
    if (!info) return fail(REASON.BootstrapNotReady, 'bootstrap.kubeadm.apiServerEndpoint is not set and kube-public/cluster-info does not exist');
  }
  if (b.mode === 'k3s' && b.k3s) {
    const problem = await secretHasKey(kube, b.k3s.tokenSecretRef);
    if (problem) return fail(REASON.SecretNotFound, `bootstrap.k3s.tokenSecretRef: ${problem}`);
  }
  if (b.mode === 'custom' && b.custom?.templateSecretRef) {
    const problem = await secretHasKey(kube, b.custom.templateSecretRef);
    if (problem) return fail(REASON.SecretNotFound, `bootstrap.custom.templateSecretRef: ${problem}`);
  }
  if (b.mode === 'kosmos') return fail(REASON.BootstrapNotReady, 'bootstrap mode kosmos is not supported yet: use kubeadm, k3s or custom');

  // The image its GPU types boot (this provisioner's NodeClasses are for GPUs), where they are sold.
  const image = imageOf(nodeClass.spec.image, true);
  if (isUuid(image)) return { ready: true, reason: REASON.Ready, message: '', images: [] };
  const volumeType = nodeClass.spec.rootVolume?.type === 'l_ssd' ? 'l_ssd' : 'sbs_volume';
  const images: Verdict['images'] = [];
  for (const zone of imageCheckZones(nodeClass.spec.zones)) {
    try {
      const resolved = await cloud.resolveImage(zone, image, undefined, volumeType);
      images.push({ zone, imageID: resolved.id, label: image });
    } catch (err) {
      if (err instanceof CloudError && err.kind === 'not-found') return fail(REASON.ImageNotFound, `image ${image} does not exist in ${zone}`);
      if (err instanceof CloudError && (err.kind === 'permission-denied' || err.kind === 'unauthenticated')) return fail(REASON.PermissionDenied, err.message);
      throw err;
    }
  }
  return { ready: true, reason: REASON.Ready, message: '', images };
}

interface PoolView {
  metadata?: { name?: string };
  spec?: { template?: { spec?: { nodeClassRef?: { group?: string; kind?: string; name?: string } } } };
  status?: { conditions?: Condition[] };
}

/**
 * The NodeClass's NodeRegistrationHealthy: False when any of its NodePools'
 * is False (their messages, by pool), True when one is True and none False,
 * Unknown otherwise; undefined when no NodePool uses the class.
 */
export function nodeClassRegistrationCondition(nodeClassName: string, nodePools: readonly unknown[]): ConditionUpdate | undefined {
  const pools = (nodePools as PoolView[]).filter((p) => {
    const ref = p.spec?.template?.spec?.nodeClassRef;
    return ref?.group === SCALEWAY_NODECLASS_GVR.group && ref.kind === SCALEWAY_NODECLASS_GVR.kind && ref.name === nodeClassName;
  });
  if (pools.length === 0) return undefined;
  const of = (p: PoolView) => findCondition(p.status?.conditions, CONDITION.NodeRegistrationHealthy);
  const failing = pools.filter((p) => of(p)?.status === 'False').sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const type = CONDITION.NodeRegistrationHealthy;
  if (failing.length > 0) {
    const stopped = failing.some((p) => of(p)?.reason === REASON.RegistrationStopped);
    const reason: ConditionReason = stopped ? REASON.RegistrationStopped : REASON.RegistrationFailed;
    return { type, status: 'False', reason, message: failing.map((p) => `NodePool ${p.metadata?.name ?? '?'}: ${of(p)?.message ?? ''}`).join('; ') };
  }
  if (pools.some((p) => of(p)?.status === 'True')) return { type, status: 'True', reason: REASON.NodeRegistered, message: '' };
  return { type, status: 'Unknown', reason: REASON.NoRegistrationYet, message: `no node of a NodePool using ScalewayNodeClass ${nodeClassName} has registered since it last changed` };
}

export async function reconcileNodeClassStatus(kube: KubeRest, cloud: ScalewayCloud, raw: unknown, now = new Date(), options: { nodePools?: readonly unknown[] } = {}): Promise<void> {
  const meta = (raw as { metadata: { name: string; uid?: string; generation?: number; resourceVersion?: string } }).metadata;
  const previous = (raw as { status?: { conditions?: Condition[]; observedGeneration?: number } }).status;
  let verdict: Verdict;
  try {
    verdict = await judge(kube, cloud, parseScalewayNodeClass(raw));
  } catch (err) {
    if (!(err instanceof InvalidObjectError)) throw err;
    verdict = { ready: false, reason: REASON.InvalidSpec, message: err.message, images: [] };
  }
  const before = findCondition(previous?.conditions, CONDITION.Ready);
  let conditions = setCondition(previous?.conditions, { type: CONDITION.Ready, status: verdict.ready ? 'True' : 'False', reason: verdict.reason, message: verdict.message }, now, meta.generation);
  const registration = options.nodePools ? nodeClassRegistrationCondition(meta.name, options.nodePools) : undefined;
  const registrationBefore = findCondition(previous?.conditions, CONDITION.NodeRegistrationHealthy);
  if (registration) conditions = setCondition(conditions, registration, now, meta.generation);
  const registrationChanged = registration !== undefined && (registrationBefore?.status !== registration.status || registrationBefore.reason !== registration.reason || registrationBefore.message !== (registration.message ?? ''));
  const changed = registrationChanged || before?.status !== (verdict.ready ? 'True' : 'False') || before.reason !== verdict.reason || before.message !== verdict.message || previous?.observedGeneration !== meta.generation;
  if (!changed) return;
  await kube.patch(`${clusterPath(SCALEWAY_NODECLASS_GVR, meta.name)}/status`, {
    status: { conditions, images: verdict.images, observedGeneration: meta.generation },
  });
  const target = { apiVersion: SCALEWAY_NODECLASS_GVR.apiVersion, kind: SCALEWAY_NODECLASS_GVR.kind, name: meta.name, uid: meta.uid };
  if (!verdict.ready) await recordEvent(kube, target, 'Warning', verdict.reason, verdict.message, now);
  if (registrationChanged && registration.status === 'False') await recordEvent(kube, target, 'Warning', registration.reason, registration.message ?? '', now);
}
