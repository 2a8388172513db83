import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

const b64 = (file: string): string => readFileSync(file).toString('base64');

/** Writes a kubeconfig with the CA and client certificate embedded, mode 0600. */
export function writeKubeconfig(path: string, opts: { server: string; caFile: string; certFile: string; keyFile: string; user: string; cluster?: string }): void {
  const cluster = opts.cluster ?? 'scw-karpenter-sandbox';
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: opts.server, 'certificate-authority-data': b64(opts.caFile) } }],
    users: [{ name: opts.user, user: { 'client-certificate-data': b64(opts.certFile), 'client-key-data': b64(opts.keyFile) } }],
    contexts: [{ name: cluster, context: { cluster, user: opts.user } }],
    'current-context': cluster,
  };
  writeFileSync(path, stringify(doc), { mode: 0o600 });
}
