// Where the apiserver is and how to authenticate to it, for kube/rest.ts.
// The two cases the product runs in are read here directly: a Pod's
// ServiceAccount (the token the kubelet mounts and rotates) and a kubeconfig
// file with a token or a client certificate. client-node's KubeConfig does the
// same and more, but loading it costs a process about 90 MiB (it pulls in the
// whole generated API), which the worker, that only ever sends REST requests,
// has no other use for. Any kubeconfig that needs more (exec plugins,
// auth-providers, proxies, several files in KUBECONFIG) is handed to
// client-node's KubeConfig, loaded then and only then.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import type { RequestOptions as HttpsRequestOptions } from 'node:https';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { watchConfigOf, type WatchConfig } from './watch-config.ts';

/** An https request's options, with the TLS context the Agent hands to tls.connect. */
export type RequestOptions = HttpsRequestOptions & Pick<ConnectionOptions, 'secureContext'>;

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * A projected ServiceAccount token is rotated by the kubelet (at 80% of its
 * hour): reading the file again after a minute picks the new one up long before
 * the old one expires, without a file read per request (client-go waits the same).
 */
export const TOKEN_FILE_REREAD_MS = 60_000;

/** The server of the requests, and what to add to each one's options. */
export interface KubeEndpoint {
  readonly server: URL;
  /** Sets TLS material and the Authorization header on one request's options. */
  apply(opts: RequestOptions): Promise<void>;
}

export interface KubeCredentials {
  /** Where these credentials came from, for log lines (`in-cluster`, a file path). */
  readonly source: string;
  readonly endpoint: () => Promise<KubeEndpoint>;
  /** client-node's KubeConfig of the same credentials (loaded on first call). */
  readonly kubeConfig: () => Promise<KubeConfig>;
  /** What client-node's Watch needs: built from the endpoint, or the KubeConfig when only client-node reads these credentials. */
  readonly watchConfig: () => Promise<WatchConfig>;
}

/** Credentials this module reads itself, with client-node's KubeConfig of the same source for whoever asks for it. */
function ownCredentials(source: string, endpoint: KubeEndpoint, full: KubeCredentials): KubeCredentials {
  const watchConfig = watchConfigOf(endpoint);
  return { source, endpoint: () => Promise.resolve(endpoint), kubeConfig: full.kubeConfig, watchConfig: () => Promise.resolve(watchConfig) };
}

type Clock = () => number;

/** A token file's content, read again once TOKEN_FILE_REREAD_MS has passed. */
function tokenFileReader(path: string, now: Clock): () => string {
  let token = '';
  let readAt = -Infinity;
  return () => {
    if (now() - readAt >= TOKEN_FILE_REREAD_MS) {
      token = readFileSync(path, 'utf8').trim();
      readAt = now();
    }
    return token;
  };
}

interface TlsAndAuth {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecure: boolean;
  servername?: string;
  token?: () => string;
}

function endpointOf(server: URL, auth: TlsAndAuth): KubeEndpoint {
  // One TLS context for every connection: built from the CA and key pair per new socket instead, a burst
  // that opens tens of sockets at once spends a third of a second of CPU parsing the same PEM again.
  const secureContext = createSecureContext({ ...(auth.ca ? { ca: auth.ca } : {}), ...(auth.cert ? { cert: auth.cert } : {}), ...(auth.key ? { key: auth.key } : {}) });
  return {
    server,
    apply: (opts) => {
      opts.secureContext = secureContext;
      if (auth.insecure) opts.rejectUnauthorized = false;
      if (auth.servername) opts.servername = auth.servername;
      const token = auth.token?.();
      if (token) opts.headers = { ...opts.headers, Authorization: `Bearer ${token}` };
      return Promise.resolve();
    },
  };
}

/** client-node's KubeConfig as credentials: the fallback, and for callers that built one. */
export function credentialsOfKubeConfig(kc: KubeConfig, source = 'kubeconfig'): KubeCredentials {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`${source}: the kubeconfig has no current cluster`);
  const endpoint: KubeEndpoint = { server: new URL(cluster.server), apply: (opts) => kc.applyToHTTPSOptions(opts) };
  return { source, endpoint: () => Promise.resolve(endpoint), kubeConfig: () => Promise.resolve(kc), watchConfig: () => Promise.resolve(kc) };
}

/** Credentials loaded through client-node's KubeConfig, imported on first use. */
function clientNodeCredentials(source: string, load: (kc: KubeConfig, make: () => KubeConfig) => void): KubeCredentials {
  let loaded: Promise<KubeCredentials> | undefined;
  const get = (): Promise<KubeCredentials> =>
    (loaded ??= import('@kubernetes/client-node').then(({ KubeConfig: Config }) => {
      const kc = new Config();
      load(kc, () => new Config());
      return credentialsOfKubeConfig(kc, source);
    }));
  return { source, endpoint: async () => (await get()).endpoint(), kubeConfig: async () => (await get()).kubeConfig(), watchConfig: async () => (await get()).watchConfig() };
}

/** A kubeconfig's parts this module reads; anything else in a user means client-node's KubeConfig. */
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name: string; cluster?: Record<string, unknown> }[];
  users?: { name: string; user?: Record<string, unknown> }[];
}

const CLUSTER_FIELDS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'extensions']);
const USER_FIELDS = new Set(['token', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'extensions']);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The endpoint of a kubeconfig's current context, or undefined when it needs
 * more than a server, a CA, and a token or client certificate.
 */
export function parseKubeconfig(text: string, dir: string, now: Clock = Date.now): KubeEndpoint | undefined {
  const file = parseYaml(text) as KubeconfigFile | null;
  const contextName = file?.['current-context'];
  const context = file?.contexts?.find((c) => c.name === contextName)?.context;
  const cluster = file?.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = file?.users?.find((u) => u.name === context?.user)?.user ?? {};
  const server = str(cluster?.server);
  if (!cluster || !server) return undefined;
  if (Object.keys(cluster).some((k) => !CLUSTER_FIELDS.has(k)) || Object.keys(user).some((k) => !USER_FIELDS.has(k))) return undefined;
  // Paths in a kubeconfig are relative to the file, as kubectl reads them.
  const fileAt = (field: unknown): Buffer | undefined => (str(field) ? readFileSync(resolve(dir, field as string)) : undefined);
  const data = (field: unknown): Buffer | undefined => (str(field) ? Buffer.from(field as string, 'base64') : undefined);
  const token = str(user.token);
  const tokenFile = str(user.tokenFile);
  return endpointOf(new URL(server), {
    ca: data(cluster['certificate-authority-data']) ?? fileAt(cluster['certificate-authority']),
    cert: data(user['client-certificate-data']) ?? fileAt(user['client-certificate']),
    key: data(user['client-key-data']) ?? fileAt(user['client-key']),
    insecure: cluster['insecure-skip-tls-verify'] === true,
    servername: str(cluster['tls-server-name']),
    token: token ? () => token : tokenFile ? tokenFileReader(resolve(dir, tokenFile), now) : undefined,
  });
}

/** The Pod's ServiceAccount, as the kubelet mounts it, or undefined outside a Pod. */
export function inClusterEndpoint(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR, now: Clock = Date.now): KubeEndpoint | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port || !existsSync(join(dir, 'token'))) return undefined;
  return endpointOf(new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`), {
    ca: existsSync(join(dir, 'ca.crt')) ? readFileSync(join(dir, 'ca.crt')) : undefined,
    insecure: false,
    token: tokenFileReader(join(dir, 'token'), now),
  });
}

/**
 * Credentials as kubectl finds them: the kubeconfig at `path` (KUBECONFIG),
 * else ~/.kube/config, else the Pod's ServiceAccount.
 */
export function loadKubeCredentials(path: string | undefined = process.env.KUBECONFIG): KubeCredentials {
  const fromFile = (file: string): KubeCredentials => {
    const endpoint = parseKubeconfig(readFileSync(file, 'utf8'), dirname(resolve(file)));
    const full = clientNodeCredentials(file, (kc) => kc.loadFromFile(file));
    return endpoint ? ownCredentials(file, endpoint, full) : full;
  };
  if (path?.includes(delimiter)) {
    // Several files, merged as kubectl merges them: the first one's current context wins.
    return clientNodeCredentials(path, (kc, make) =>
      path.split(delimiter).filter((f) => f !== '' && existsSync(f)).forEach((f, i) => {
        const one = make();
        one.loadFromFile(f);
        kc.mergeConfig(one, i > 0);
      }));
  }
  if (path) return fromFile(path);
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return fromFile(home);
  const inCluster = inClusterEndpoint();
  if (!inCluster) throw new Error('no kubeconfig: KUBECONFIG is unset, ~/.kube/config does not exist, and this is not a Pod with a ServiceAccount token');
  return ownCredentials('in-cluster', inCluster, clientNodeCredentials('in-cluster', (kc) => kc.loadFromCluster()));
}
