// kubeadm's join credentials: a per-node bootstrap token (as a kube-system
// Secret tied to its NodeClaim), the CA pin, and the API server endpoint
// read from kube-public/cluster-info.
import { createHash, randomInt, X509Certificate } from 'node:crypto';
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { fromYaml, isMap } from './cloud-config.ts';
import { BootstrapError } from './errors.ts';

export interface BootstrapToken {
  /** 6 of [a-z0-9]: public, names the Secret. */
  id: string;
  /** 16 of [a-z0-9]: the secret part. */
  secret: string;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const TOKEN_ID = /^[a-z0-9]{6}$/;
const TOKEN_SECRET = /^[a-z0-9]{16}$/;

/** The group kubeadm's RBAC lets join (CSR creation and auto-approval for node client certificates). */
export const BOOTSTRAP_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';
export const NODECLAIM_NAME_LABEL = 'karpenter.scaleway.com/nodeclaim';
export const NODECLAIM_UID_LABEL = 'karpenter.scaleway.com/nodeclaim-uid';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'scw-karpenter';

function cryptoRandom(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** A new token from `random(n)` (n characters of [a-z0-9]); node:crypto by default. */
export function newBootstrapToken(random: (length: number) => string = cryptoRandom): BootstrapToken {
  const token = { id: random(6), secret: random(16) };
  if (!TOKEN_ID.test(token.id) || !TOKEN_SECRET.test(token.secret)) throw new BootstrapError('random source gave characters outside [a-z0-9] or the wrong length');
  return token;
}

/** `<id>.<secret>`, as `kubeadm join --token` and the JoinConfiguration take it. */
export function formatBootstrapToken(token: BootstrapToken): string {
  return `${token.id}.${token.secret}`;
}

export function parseBootstrapToken(text: string): BootstrapToken {
  const [id = '', secret = '', ...rest] = text.split('.');
  if (rest.length > 0 || !TOKEN_ID.test(id) || !TOKEN_SECRET.test(secret)) throw new BootstrapError('bootstrap token is not <6 of [a-z0-9]>.<16 of [a-z0-9]>');
  return { id, secret };
}

export interface BootstrapTokenSecretOptions {
  /** When the API server stops accepting the token; the token cleaner deletes the Secret then. */
  expiresAt: Date;
  description?: string;
  nodeClaimName: string;
  nodeClaimUid: string;
}

const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * The kube-system Secret that makes `token` valid for joining. Tied to its NodeClaim three ways:
 * labels (to list them), an annotation with the full name, and an owner reference so Kubernetes
 * deletes it with the NodeClaim (a namespaced object may be owned by a cluster-scoped one).
 */
export function bootstrapTokenSecret(token: BootstrapToken, opts: BootstrapTokenSecretOptions): V1Secret {
  if (!TOKEN_ID.test(token.id) || !TOKEN_SECRET.test(token.secret)) throw new BootstrapError('bootstrap token is not <6 of [a-z0-9]>.<16 of [a-z0-9]>');
  if (Number.isNaN(opts.expiresAt.getTime())) throw new BootstrapError('bootstrap token expiry is not a valid date');
  if (!LABEL_VALUE.test(opts.nodeClaimUid)) throw new BootstrapError(`NodeClaim UID "${opts.nodeClaimUid}" is not a valid label value`);
  const labels: Record<string, string> = { [MANAGED_BY_LABEL]: MANAGED_BY, [NODECLAIM_UID_LABEL]: opts.nodeClaimUid };
  // Names may exceed what a label value holds; the annotation always has the name.
  if (LABEL_VALUE.test(opts.nodeClaimName)) labels[NODECLAIM_NAME_LABEL] = opts.nodeClaimName;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `bootstrap-token-${token.id}`,
      namespace: 'kube-system',
      labels,
      annotations: { [NODECLAIM_NAME_LABEL]: opts.nodeClaimName },
      ownerReferences: [{ apiVersion: 'karpenter.sh/v1', kind: 'NodeClaim', name: opts.nodeClaimName, uid: opts.nodeClaimUid }],
    },
    type: 'bootstrap.kubernetes.io/token',
    stringData: {
      'token-id': token.id,
      'token-secret': token.secret,
      expiration: opts.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'usage-bootstrap-authentication': 'true',
      // Without it the bootstrap signer never signs cluster-info for this token and discovery fails.
      'usage-bootstrap-signing': 'true',
      'auth-extra-groups': BOOTSTRAP_TOKEN_GROUP,
      ...(opts.description ? { description: opts.description } : {}),
    },
  };
}

/** `sha256:<hex>` over the DER SubjectPublicKeyInfo of the (first) certificate in `pem`: kubeadm's CA pin. */
export function caCertHash(pem: string | Buffer): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new BootstrapError(`CA certificate is not a PEM or DER X.509 certificate: ${(err as Error).message}`);
  }
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

export interface ClusterInfo {
  /** `host:port` for kubeadm's discovery (`apiServerEndpoint`). */
  apiServerEndpoint: string;
  /** The server URL as written in the kubeconfig. */
  server: string;
  /** The cluster CA, PEM. */
  caCertificate: string;
  /** Its pin, `sha256:<hex>`. */
  caCertHash: string;
}

/** Reads `kube-public/cluster-info`: its kubeconfig's server URL becomes host:port, and its CA data the pin. */
export function apiServerEndpointFromClusterInfo(configMap: Pick<V1ConfigMap, 'data'>): ClusterInfo {
  const where = 'cluster-info ConfigMap';
  const text = configMap.data?.kubeconfig;
  if (!text) throw new BootstrapError(`${where} has no data.kubeconfig`);
  const kubeconfig = fromYaml(text, `${where} kubeconfig`);
  const clusters = isMap(kubeconfig) && Array.isArray(kubeconfig.clusters) ? kubeconfig.clusters : [];
  const first: unknown = clusters[0];
  const cluster = isMap(first) ? first.cluster : undefined;
  if (!isMap(cluster) || typeof cluster.server !== 'string') throw new BootstrapError(`${where} kubeconfig has no clusters[0].cluster.server`);
  const caData = cluster['certificate-authority-data'];
  if (typeof caData !== 'string' || caData === '') throw new BootstrapError(`${where} kubeconfig has no certificate-authority-data`);
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new BootstrapError(`${where} server "${cluster.server}" is not a URL`);
  }
  if (url.protocol !== 'https:') throw new BootstrapError(`${where} server "${cluster.server}" is not https`);
  const caCertificate = Buffer.from(caData, 'base64').toString('utf8');
  return {
    apiServerEndpoint: `${url.hostname}:${url.port || '443'}`,
    server: cluster.server,
    caCertificate,
    caCertHash: caCertHash(caCertificate),
  };
}
