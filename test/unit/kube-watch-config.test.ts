// client-node's Watch on the credentials we read ourselves: the watch request
// carries the kubeconfig's client certificate, verifies the server against its
// CA and sends the token, without client-node's KubeConfig (and the generated
// API client it loads) behind it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { describe, it } from 'node:test';
import { Watch } from '@kubernetes/client-node/dist/watch.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeCredentials } from '../../kube/credentials.ts';
import { createClusterPki, type ClusterPki } from '../../sandbox/pki.ts';

/** A watch endpoint that streams one ADDED event naming what it saw of the client: its certificate's CN and Authorization. */
async function watchServer(pki: ClusterPki): Promise<{ port: number; paths: string[]; close(): void }> {
  const paths: string[] = [];
  const server = createServer({ cert: readFileSync(pki.servingCert), key: readFileSync(pki.servingKey), ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: false }, (req, res) => {
    paths.push(req.url ?? '');
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(`${JSON.stringify({ type: 'ADDED', object: { kind: 'Pod', metadata: { name: 'p', annotations: { cn: peer.subject?.CN ?? '', authorization: req.headers.authorization ?? '' } } } })}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, paths, close: () => { server.closeAllConnections(); server.close(); } };
}

function kubeconfigFile(dir: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const file = join(dir, 'config');
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'here',
    contexts: [{ name: 'here', context: { cluster: 'c', user: 'u' } }],
    clusters: [{ name: 'c', cluster }],
    users: [{ name: 'u', user }],
  }));
  return file;
}

async function watchOnce(config: unknown, path: string): Promise<{ events: { phase: string; annotations: Record<string, string> }[]; error: unknown }> {
  const events: { phase: string; annotations: Record<string, string> }[] = [];
  const error = await new Promise<unknown>((resolve) => {
    void new Watch(config as KubeConfig).watch(path, { resourceVersion: '7' }, (phase: string, obj: { metadata: { annotations: Record<string, string> } }) => {
      events.push({ phase, annotations: obj.metadata.annotations });
    }, resolve);
  });
  return { events, error };
}

describe("client-node's Watch on our own credentials", () => {
  it('sends the client certificate and verifies the server with the CA, under a server path prefix', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-watch-'));
    const pki = createClusterPki(dir);
    const client = pki.clientCert('watcher', 'scw-karpenter-watcher', []);
    const server = await watchServer(pki);
    t.after(() => server.close());
    const file = kubeconfigFile(dir, { server: `https://127.0.0.1:${server.port}/prefix/`, 'certificate-authority': pki.caCert }, { 'client-certificate': client.certFile, 'client-key': client.keyFile });
    const { events, error } = await watchOnce(await loadKubeCredentials(file).watchConfig(), '/api/v1/pods');
    assert.equal(error, null);
    assert.deepEqual(events, [{ phase: 'ADDED', annotations: { cn: 'scw-karpenter-watcher', authorization: '' } }]);
    assert.equal(server.paths[0], '/prefix/api/v1/pods?watch=true&resourceVersion=7');
  });

  it('sends the token, and refuses a server its CA did not sign', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-watch-'));
    const pki = createClusterPki(dir);
    const server = await watchServer(pki);
    t.after(() => server.close());
    const token = kubeconfigFile(dir, { server: `https://127.0.0.1:${server.port}`, 'certificate-authority-data': readFileSync(pki.caCert).toString('base64') }, { token: 's3cr3t' });
    const seen = await watchOnce(await loadKubeCredentials(token).watchConfig(), '/api/v1/nodes');
    assert.deepEqual(seen.events.map((e) => e.annotations.authorization), ['Bearer s3cr3t']);

    const otherDir = mkdtempSync(join(tmpdir(), 'kube-watch-'));
    const other = createClusterPki(otherDir);
    const stranger = kubeconfigFile(otherDir, { server: `https://127.0.0.1:${server.port}`, 'certificate-authority': other.caCert }, { token: 's3cr3t' });
    const refused = await watchOnce(await loadKubeCredentials(stranger).watchConfig(), '/api/v1/nodes');
    assert.deepEqual(refused.events, []);
    assert.match(String((refused.error as Error & { cause?: unknown }).cause ?? refused.error), /self-signed|unable to verify|certificate/i);
  });
});
