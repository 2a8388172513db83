// The hashes static drift compares. Karpenter core stamps a hash of the
// NodePool's template on the NodePool and on each NodeClaim it makes
// (karpenter.sh/nodepool-hash, pkg/apis/v1/nodepool.go Hash); the AWS provider
// does the same for its EC2NodeClass. We hash the same NodePool fields (the
// template but its requirements, which drift compares against the NodeClaim's
// labels instead) and the ScalewayNodeClass fields that shape a server once it
// exists. A NodeClaim drifts when its stamp no longer matches a fresh hash.
//
// Lists that are sets upstream (taints, tags, private networks) are sorted and
// empty values dropped (hashstructure's SlicesAsSets and IgnoreZeroValue), so
// reordering or spelling out a default never drifts a node.
import { createHash } from 'node:crypto';
import type { KubeRest } from '../kube/rest.ts';
import {
  ANNOTATION_NODECLASS_HASH,
  ANNOTATION_NODECLASS_HASH_VERSION,
  ANNOTATION_NODEPOOL_HASH,
  ANNOTATION_NODEPOOL_HASH_VERSION,
  NODEPOOL_GVR,
  SCALEWAY_NODECLASS_GVR,
  type GroupVersionResource,
} from '../kube/api/constants.ts';
import { isScalewayNodeClassRef, parseNodePool, parseScalewayNodeClass, type NodePool, type ScalewayNodeClass, type Taint } from '../kube/api/schemas.ts';
import { patchClusterObjectAnnotations } from '../kube/objects.ts';

/**
 * Bump when a field enters or leaves a hash, or a hashed default changes:
 * NodeClaims stamped with another version are then never drifted by hash
 * (upstream's rule). Ours is not upstream's hashstructure number, so the
 * version says so and stock Karpenter never compares the two.
 */
export const NODEPOOL_HASH_VERSION = 'scw-v1';
export const NODECLASS_HASH_VERSION = 'v1';

/** Sorted keys, no undefined, null or empty values: one spelling per meaning. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonical).filter((v) => v !== undefined);
    return items.length === 0 ? undefined : items;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => [k, canonical((value as Record<string, unknown>)[k])] as const)
      .filter(([, v]) => v !== undefined);
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  return value === null || value === '' ? undefined : value;
}

/** A short, stable hash of `value`'s canonical JSON. */
export function stableHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical(value)) ?? '').digest('hex').slice(0, 16);
}

const taintSet = (taints: readonly Taint[]): string[] => [...new Set(taints.map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`))].sort();
const stringSet = (values: readonly string[]): string[] => [...new Set(values)].sort();

/** Hash of what a NodePool's NodeClaims are made from, requirements excepted. */
export function nodePoolHash(pool: Pick<NodePool, 'spec'>): string {
  const { metadata, spec } = pool.spec.template;
  return stableHash({
    labels: metadata.labels,
    annotations: metadata.annotations,
    taints: taintSet(spec.taints),
    startupTaints: taintSet(spec.startupTaints),
    nodeClassRef: spec.nodeClassRef,
    expireAfter: spec.expireAfter,
    terminationGracePeriod: spec.terminationGracePeriod,
  });
}

/**
 * Hash of the ScalewayNodeClass fields a running server was built with. Left
 * out: zones (checked one by one against each NodeClaim's zone: adding a zone
 * drifts nothing), timeouts and the kubeadm token TTL (they only matter while
 * a node joins).
 */
export function nodeClassHash(nodeClass: Pick<ScalewayNodeClass, 'spec'>): string {
  const { zones: _zones, timeouts: _timeouts, bootstrap, tags, privateNetworks, ...rest } = nodeClass.spec;
  const kubeadm = bootstrap.kubeadm && { ...bootstrap.kubeadm, tokenTTL: undefined };
  return stableHash({ ...rest, bootstrap: { ...bootstrap, kubeadm }, tags: stringSet(tags), privateNetworks: stringSet(privateNetworks) });
}

/** The annotations a NodeClaim made from `pool` carries, for NodePool drift. */
export function nodePoolHashAnnotations(pool: Pick<NodePool, 'spec'>): Record<string, string> {
  return { [ANNOTATION_NODEPOOL_HASH]: nodePoolHash(pool), [ANNOTATION_NODEPOOL_HASH_VERSION]: NODEPOOL_HASH_VERSION };
}

/** The annotations a NodeClaim made from `nodeClass` carries, for NodeClass drift. */
export function nodeClassHashAnnotations(nodeClass: Pick<ScalewayNodeClass, 'spec'>): Record<string, string> {
  return { [ANNOTATION_NODECLASS_HASH]: nodeClassHash(nodeClass), [ANNOTATION_NODECLASS_HASH_VERSION]: NODECLASS_HASH_VERSION };
}

async function stamp(kube: KubeRest, gvr: GroupVersionResource, meta: { name: string; annotations?: Record<string, string> | undefined }, wanted: Record<string, string>): Promise<void> {
  if (Object.entries(wanted).every(([k, v]) => meta.annotations?.[k] === v)) return;
  try {
    await patchClusterObjectAnnotations(kube, gvr, meta.name, wanted);
  } catch (err) {
    throw new Error(`stamping the drift hash on ${gvr.kind} ${meta.name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function parsedOrUndefined<T>(parse: (raw: unknown) => T, raw: unknown): T | undefined {
  try {
    return parse(raw);
  } catch {
    // An invalid object is reported by its status controller; there is nothing to hash.
    return undefined;
  }
}

/** Keeps the NodePool's hash annotations current (pools of other NodeClass kinds are not ours). */
export async function stampNodePoolHash(kube: KubeRest, raw: unknown): Promise<void> {
  const pool = parsedOrUndefined(parseNodePool, raw);
  if (!pool || !isScalewayNodeClassRef(pool.spec.template.spec.nodeClassRef)) return;
  await stamp(kube, NODEPOOL_GVR, pool.metadata, nodePoolHashAnnotations(pool));
}

/** Keeps the ScalewayNodeClass's hash annotations current. */
export async function stampNodeClassHash(kube: KubeRest, raw: unknown): Promise<void> {
  const nodeClass = parsedOrUndefined(parseScalewayNodeClass, raw);
  if (!nodeClass) return;
  await stamp(kube, SCALEWAY_NODECLASS_GVR, nodeClass.metadata, nodeClassHashAnnotations(nodeClass));
}
