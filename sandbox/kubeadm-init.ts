// What `kubeadm init` leaves in a cluster for nodes to join with bootstrap
// tokens, done on the sandbox's control plane: the public cluster-info
// ConfigMap (signed per token by the controller manager's bootstrap signer),
// and the RBAC that lets token holders request, and get auto-approved, kubelet
// client certificates.
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { KubeRest } from '../kube/rest.ts';
import { isAlreadyExists } from '../kube/rest.ts';

export const KUBEADM_NODE_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';

async function createIfMissing(kube: KubeRest, path: string, body: unknown): Promise<void> {
  try {
    await kube.post(path, body);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

export async function kubeadmInit(kube: KubeRest, opts: { server: string; caFile: string }): Promise<void> {
  const kubeconfig = stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: '', cluster: { server: opts.server, 'certificate-authority-data': readFileSync(opts.caFile).toString('base64') } }],
    contexts: [],
    users: [],
    'current-context': '',
    preferences: {},
  });
  await createIfMissing(kube, '/api/v1/namespaces/kube-public/configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cluster-info', namespace: 'kube-public' },
    data: { kubeconfig },
  });
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  // Anyone may read cluster-info: a joining node trusts it only through the token's JWS signature and the CA hash.
  await createIfMissing(kube, `${rbac}/namespaces/kube-public/roles`, {
    metadata: { name: 'kubeadm:bootstrap-signer-clusterinfo', namespace: 'kube-public' },
    rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['cluster-info'], verbs: ['get'] }],
  });
  await createIfMissing(kube, `${rbac}/namespaces/kube-public/rolebindings`, {
    metadata: { name: 'kubeadm:bootstrap-signer-clusterinfo', namespace: 'kube-public' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubeadm:bootstrap-signer-clusterinfo' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:anonymous' }],
  });
  const bindToGroup = (name: string, clusterRole: string, group: string): Promise<void> =>
    createIfMissing(kube, `${rbac}/clusterrolebindings`, {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
    });
  await bindToGroup('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', KUBEADM_NODE_TOKEN_GROUP);
  await bindToGroup('kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', KUBEADM_NODE_TOKEN_GROUP);
  await bindToGroup('kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', 'system:nodes');
}
