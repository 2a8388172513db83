// Giving a server its way into the cluster. Everything secret (bootstrap
// tokens, k3s tokens) is read or minted, rendered into cloud-init and sent to
// Scaleway inside one activity: none of it is returned to the workflow.
import { log } from '@temporalio/activity';
import type { ActivityDeps } from './deps.ts';
import type { NodeClaimRef, ServerRef } from './contract.ts';
import { lookUpNodeClass } from './nodeclass.ts';
import { invalidInput, translated } from './failures.ts';
import { getNodeClaimOf } from '../kube/objects.ts';
import type { KubeRest } from '../kube/rest.ts';
import type { NodeClaim, ScalewayNodeClass } from '../kube/api/schemas.ts';
import { parseDuration } from '../kube/api/duration.ts';
import {
  apiServerEndpointFromClusterInfo,
  bootstrapTokenSecret,
  BootstrapError,
  formatBootstrapToken,
  newBootstrapToken,
  renderBootstrap,
  type BootstrapInput,
  type KubeletConfig,
  type NodeRegistration,
  type Taint,
} from '../bootstrap/index.ts';
import { NODECLAIM_UID_LABEL } from '../bootstrap/kubeadm-token.ts';
import { instanceLabels } from '../scaleway/instance-types.ts';
import { nodeAllocation } from '../scaleway/kubelet-reservations.ts';
import { rootVolumeOf } from '../kube/api/nodeclass-defaults.ts';
import type { ServerTypeOffer } from '../scaleway/cloud.ts';

const TOKEN_SECRETS = '/api/v1/namespaces/kube-system/secrets';

interface TokenSecret {
  metadata: { name: string };
  data?: Record<string, string>;
}

const decode = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('utf8');

/** The NodeClaim's bootstrap token: the one minted on an earlier attempt, or a new one. */
async function nodeClaimToken(kube: KubeRest, nodeClaim: NodeClaim, ttlMs: number, now: Date): Promise<string> {
  const uid = nodeClaim.metadata.uid ?? '';
  const existing = await kube.get<{ items: TokenSecret[] }>(`${TOKEN_SECRETS}?labelSelector=${encodeURIComponent(`${NODECLAIM_UID_LABEL}=${uid}`)}`);
  const found = existing.items[0];
  if (found?.data) return `${decode(found.data['token-id'])}.${decode(found.data['token-secret'])}`;
  const token = newBootstrapToken();
  await kube.post(TOKEN_SECRETS, bootstrapTokenSecret(token, {
    expiresAt: new Date(now.getTime() + ttlMs),
    description: `scw-karpenter: join token of NodeClaim ${nodeClaim.metadata.name}`,
    nodeClaimName: nodeClaim.metadata.name,
    nodeClaimUid: uid,
  }));
  return formatBootstrapToken(token);
}

export async function deleteNodeClaimTokens(kube: KubeRest, uid: string): Promise<number> {
  const existing = await kube.get<{ items: TokenSecret[] }>(`${TOKEN_SECRETS}?labelSelector=${encodeURIComponent(`${NODECLAIM_UID_LABEL}=${uid}`)}`);
  for (const secret of existing.items) await kube.delete(`${TOKEN_SECRETS}/${secret.metadata.name}`);
  return existing.items.length;
}

async function secretValue(kube: KubeRest, ref: { name: string; namespace: string; key: string }): Promise<string> {
  const secret = await kube.getOrUndefined<TokenSecret>(`/api/v1/namespaces/${ref.namespace}/secrets/${ref.name}`);
  if (!secret) throw invalidInput('SecretNotFound', `Secret ${ref.namespace}/${ref.name} does not exist`);
  const value = secret.data?.[ref.key];
  if (value === undefined) throw invalidInput('SecretNotFound', `Secret ${ref.namespace}/${ref.name} has no key ${ref.key}`);
  return decode(value);
}

const asTaint = (t: { key: string; value?: string | undefined; effect: string }): Taint => ({
  key: t.key,
  ...(t.value ? { value: t.value } : {}),
  effect: t.effect as Taint['effect'],
});

/** Labels the node registers with: the NodeClaim's own (NodePool template, nodepool) and the instance type's. */
export function nodeLabels(nodeClaim: NodeClaim, offer: ServerTypeOffer | undefined): Record<string, string> {
  return { ...(offer ? instanceLabels(offer) : {}), ...(nodeClaim.metadata.labels ?? {}) };
}

async function bootstrapInput(deps: ActivityDeps, nodeClaim: NodeClaim, nodeClass: ScalewayNodeClass, node: NodeRegistration, kubelet: KubeletConfig): Promise<BootstrapInput> {
  const b = nodeClass.spec.bootstrap;
  const common = { kubelet, ...(nodeClass.spec.userData ? { userData: nodeClass.spec.userData } : {}) };
  switch (b.mode) {
    case 'kubeadm': {
      const clusterInfo = b.kubeadm?.apiServerEndpoint && b.kubeadm.caCertHashes?.length
        ? undefined
        : apiServerEndpointFromClusterInfo(await deps.kube.get<{ data?: Record<string, string> }>('/api/v1/namespaces/kube-public/configmaps/cluster-info'));
      const ttlMs = parseDuration(b.kubeadm?.tokenTTL ?? '30m');
      const token = await nodeClaimToken(deps.kube, nodeClaim, ttlMs, deps.now());
      return {
        mode: 'kubeadm',
        node,
        ...common,
        kubeadm: {
          apiServerEndpoint: b.kubeadm?.apiServerEndpoint ?? clusterInfo?.apiServerEndpoint ?? '',
          token,
          caCertHashes: b.kubeadm?.caCertHashes?.length ? b.kubeadm.caCertHashes : [clusterInfo?.caCertHash ?? ''],
        },
      };
    }
    case 'k3s': {
      if (!b.k3s) throw invalidInput('BootstrapNotReady', 'bootstrap.k3s is missing');
      return { mode: 'k3s', node, ...common, k3s: { url: b.k3s.serverURL, token: await secretValue(deps.kube, b.k3s.tokenSecretRef) } };
    }
    case 'custom': {
      const template = b.custom?.template ?? (b.custom?.templateSecretRef ? await secretValue(deps.kube, b.custom.templateSecretRef) : undefined);
      if (!template) throw invalidInput('BootstrapNotReady', 'bootstrap.custom needs a template');
      return { mode: 'custom', node, ...common, custom: { template } };
    }
    case 'kosmos':
      // Needs Scaleway's external-node auth call per server; it lands with the Kosmos issue.
      throw invalidInput('BootstrapNotSupported', 'bootstrap mode kosmos is not supported yet: use kubeadm, k3s or custom');
  }
}

export function configureBootstrapActivity(deps: ActivityDeps) {
  return (input: { ref: NodeClaimRef; server: ServerRef; nodeClassName: string }): Promise<void> => translated(async () => {
    const { zone, serverId, commercialType } = input.server;
    // Scaleway reads user data at boot. Setting it again on a server an earlier attempt already powered on
    // changes nothing it booted with, and costs no state read on the first attempt.
    const nodeClaim = await getNodeClaimOf(deps.kube, input.ref);
    if (!nodeClaim) throw invalidInput('NodeClaimNotFound', `NodeClaim ${input.ref.name} no longer exists`);
    const lookup = await lookUpNodeClass(deps, input.nodeClassName);
    if (!lookup.ok) throw invalidInput(lookup.reason, lookup.message);
    const offer = (await deps.catalog.offers(zone)).find((o) => o.commercialType === commercialType);
    // The reservations depend on the type's cores and the NodeClass: without the type, no kubelet configuration to give.
    if (!offer) throw invalidInput('UnknownServerType', `${commercialType} is not in the ${zone} catalog`);
    // The same numbers the planner counted and markLaunched writes as the NodeClaim's allocatable.
    const { kubelet } = nodeAllocation(offer, rootVolumeOf(lookup.nodeClass).sizeBytes, lookup.nodeClass.spec.kubelet);
    const node: NodeRegistration = {
      nodeName: nodeClaim.metadata.name,
      zone,
      serverId,
      labels: nodeLabels(nodeClaim, offer),
      taints: nodeClaim.spec.taints.map(asTaint),
      startupTaints: nodeClaim.spec.startupTaints.map(asTaint),
    };
    let rendered;
    try {
      rendered = renderBootstrap(await bootstrapInput(deps, nodeClaim, lookup.nodeClass, node, kubelet));
    } catch (err) {
      if (err instanceof BootstrapError) throw invalidInput('BootstrapNotReady', `rendering cloud-init for ${nodeClaim.metadata.name}: ${err.message}`);
      throw err;
    }
    for (const warning of rendered.warnings) log.warn(`cloud-init of ${nodeClaim.metadata.name}: ${warning}`);
    await deps.cloud.setCloudInit(zone, serverId, rendered.cloudInit);
  });
}

/**
 * Once joined, the node needs neither its join token nor, when it holds a
 * secret that outlives the join (a k3s cluster token, a custom template, the
 * user's own cloud-init), its user data. A kubeadm node's user data holds only
 * its own bootstrap token, dead once deleted here: it stays, and costs no call.
 */
export function cleanupBootstrapActivity(deps: ActivityDeps) {
  return (input: { ref: NodeClaimRef; server: ServerRef; scrubUserData: boolean }): Promise<void> => translated(async () => {
    await deleteNodeClaimTokens(deps.kube, input.ref.uid);
    if (input.scrubUserData) await deps.cloud.deleteCloudInit(input.server.zone, input.server.serverId);
  });
}
