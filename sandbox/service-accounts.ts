// The identities the sandbox runs scw-karpenter under, as a cluster would: the
// RBAC documents of the rendered chart (deploy/scw-karpenter.yaml: Namespace,
// ServiceAccounts, ClusterRoles, Roles and their bindings, and the FlowSchemas
// that give their requests a priority level) applied server-side,
// and for each process a token from the TokenRequest API, written as a
// kubeconfig and as the folder a kubelet mounts at
// /var/run/secrets/kubernetes.io/serviceaccount.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { KubeRest } from '../kube/rest.ts';
import type { ControlPlane } from './control-plane.ts';

export const RELEASE_NAMESPACE = 'scw-karpenter';
const RENDERED_CHART = fileURLToPath(new URL('../deploy/scw-karpenter.yaml', import.meta.url));
const FIELD_MANAGER = 'scw-karpenter-sandbox';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

/** Where each RBAC kind lives in the API. */
const RBAC_PATHS: Record<string, (m: Manifest) => string> = {
  Namespace: (m) => `/api/v1/namespaces/${m.metadata.name}`,
  ServiceAccount: (m) => `/api/v1/namespaces/${m.metadata.namespace ?? RELEASE_NAMESPACE}/serviceaccounts/${m.metadata.name}`,
  ClusterRole: (m) => `/apis/rbac.authorization.k8s.io/v1/clusterroles/${m.metadata.name}`,
  ClusterRoleBinding: (m) => `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${m.metadata.name}`,
  Role: (m) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${m.metadata.namespace ?? RELEASE_NAMESPACE}/roles/${m.metadata.name}`,
  RoleBinding: (m) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${m.metadata.namespace ?? RELEASE_NAMESPACE}/rolebindings/${m.metadata.name}`,
  FlowSchema: (m) => `/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas/${m.metadata.name}`,
};

/** The rendered chart's RBAC documents and FlowSchemas, Namespaces first (the rest live in them). */
export function rbacManifests(file = RENDERED_CHART): Manifest[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Manifest | null);
  const rbac = docs.filter((d): d is Manifest => d !== null && typeof d === 'object' && d.kind in RBAC_PATHS);
  return [...rbac.filter((d) => d.kind === 'Namespace'), ...rbac.filter((d) => d.kind !== 'Namespace')];
}

/** Applies the chart's RBAC and FlowSchemas server-side; Roles in namespaces other than the release's (kube-system, kube-public) exist already. */
export async function installRbac(adminKube: KubeRest): Promise<void> {
  for (const manifest of rbacManifests()) {
    const path = RBAC_PATHS[manifest.kind]?.(manifest);
    if (!path) continue;
    await adminKube.patch(`${path}?fieldManager=${FIELD_MANAGER}&force=true`, manifest, 'apply');
  }
}

export interface ServiceAccountIdentity {
  name: string;
  namespace: string;
  token: string;
  /** A kubeconfig with the token (no client certificate), mode 0600. */
  kubeconfig: string;
  /** token, ca.crt and namespace, as a kubelet mounts them at /var/run/secrets/kubernetes.io/serviceaccount. */
  mountDir: string;
}

export interface ServiceAccountIdentityOptions {
  server: string;
  caFile: string;
  name: string;
  namespace?: string;
  dir: string;
  /** The token's life; the apiserver's minimum is 10 min. Default 24 h, longer than any sandbox run. */
  expirationSeconds?: number;
}

export async function serviceAccountIdentity(adminKube: KubeRest, options: ServiceAccountIdentityOptions): Promise<ServiceAccountIdentity> {
  const namespace = options.namespace ?? RELEASE_NAMESPACE;
  const request = await adminKube.post<{ status: { token: string } }>(`/api/v1/namespaces/${namespace}/serviceaccounts/${options.name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: options.expirationSeconds ?? 24 * 3600 },
  });
  const token = request.status.token;
  const mountDir = join(options.dir, 'serviceaccount');
  mkdirSync(mountDir, { recursive: true });
  writeFileSync(join(mountDir, 'token'), token, { mode: 0o644 });
  writeFileSync(join(mountDir, 'ca.crt'), readFileSync(options.caFile));
  writeFileSync(join(mountDir, 'namespace'), namespace);
  const kubeconfig = join(options.dir, 'kubeconfig');
  const user = `system:serviceaccount:${namespace}:${options.name}`;
  writeFileSync(kubeconfig, [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: sandbox`,
    '  cluster:',
    `    server: ${options.server}`,
    `    certificate-authority: ${join(mountDir, 'ca.crt')}`,
    'users:',
    `- name: ${JSON.stringify(user)}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${options.name}`,
    '  context:',
    '    cluster: sandbox',
    `    user: ${JSON.stringify(user)}`,
    `    namespace: ${namespace}`,
    `current-context: ${options.name}`,
    '',
  ].join('\n'), { mode: 0o600 });
  return { name: options.name, namespace, token, kubeconfig, mountDir };
}

/** The chart's ServiceAccount of a process (`scw-karpenter-worker`, `scw-karpenter-watcher`), on a token for the sandbox's apiserver. */
export function componentIdentity(adminKube: KubeRest, controlPlane: Pick<ControlPlane, 'server' | 'pki'>, component: 'worker' | 'watcher', dir: string): Promise<ServiceAccountIdentity> {
  return serviceAccountIdentity(adminKube, { server: controlPlane.server, caFile: controlPlane.pki.caCert, name: `scw-karpenter-${component}`, dir });
}
