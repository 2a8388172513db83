// kube/credentials.ts: a kubeconfig's server, CA and token or client
// certificate, read without client-node; the Pod's ServiceAccount with its
// rotated token; and client-node's KubeConfig for whatever else a kubeconfig
// holds (an exec plugin here).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { describe, it } from 'node:test';
import { inClusterEndpoint, loadKubeCredentials, parseKubeconfig, TOKEN_FILE_REREAD_MS, type KubeEndpoint, type RequestOptions } from '../../kube/credentials.ts';
import { createClusterPki, type ClusterPki } from '../../sandbox/pki.ts';

const kubeconfig = (cluster: Record<string, unknown>, user: Record<string, unknown>): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'here',
    contexts: [{ name: 'other', context: { cluster: 'far', user: 'nobody' } }, { name: 'here', context: { cluster: 'near', user: 'me' } }],
    clusters: [{ name: 'far', cluster: { server: 'https://far.example:6443' } }, { name: 'near', cluster }],
    users: [{ name: 'nobody', user: { token: 'not-this-one' } }, { name: 'me', user }],
  });

/** An HTTPS server with the PKI's serving certificate that answers with what it saw of the client. */
async function tlsServer(pki: ClusterPki): Promise<{ port: number; close(): void }> {
  const server = createServer({ cert: readFileSync(pki.servingCert), key: readFileSync(pki.servingKey), ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.end(JSON.stringify({ authorization: req.headers.authorization ?? null, clientCN: peer.subject?.CN ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => { server.closeAllConnections(); server.close(); } };
}

/** A GET through the endpoint's options, as kube/rest.ts sends one. */
async function get(endpoint: KubeEndpoint): Promise<unknown> {
  const opts: RequestOptions = { hostname: endpoint.server.hostname, port: endpoint.server.port, path: '/', agent: false };
  await endpoint.apply(opts);
  return new Promise((resolve, reject) => {
    request(opts, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(JSON.parse(text) as unknown));
    }).on('error', reject).end();
  });
}

async function applied(endpoint: { apply(o: RequestOptions): Promise<void> }): Promise<RequestOptions> {
  const opts: RequestOptions = { headers: { Accept: 'application/json' } };
  await endpoint.apply(opts);
  return opts;
}

describe('kube credentials', () => {
  it('reads the current context of a kubeconfig: server, CA data and token, and the TLS it sets up verifies the server', async (t) => {
    const pki = createClusterPki(mkdtempSync(join(tmpdir(), 'kube-pki-')));
    const server = await tlsServer(pki);
    t.after(() => server.close());
    const ca = readFileSync(pki.caCert).toString('base64');
    const endpoint = parseKubeconfig(kubeconfig({ server: `https://127.0.0.1:${server.port}`, 'certificate-authority-data': ca }, { token: 's3cr3t' }), '/nowhere');
    assert.ok(endpoint);
    assert.equal(endpoint.server.href, `https://127.0.0.1:${server.port}/`);
    assert.deepEqual(await get(endpoint), { authorization: 'Bearer s3cr3t', clientCN: null });
    // One TLS context for all its requests, not one per new socket.
    assert.equal((await applied(endpoint)).secureContext, (await applied(endpoint)).secureContext);
    // Another CA: the server's certificate is refused.
    const other = createClusterPki(mkdtempSync(join(tmpdir(), 'kube-pki-')));
    const stranger = parseKubeconfig(kubeconfig({ server: `https://127.0.0.1:${server.port}`, 'certificate-authority-data': readFileSync(other.caCert).toString('base64') }, { token: 's3cr3t' }), '/');
    assert.ok(stranger);
    await assert.rejects(get(stranger), /self-signed|unable to verify|certificate/i);
  });

  it('reads certificate files relative to the kubeconfig: the server sees the client certificate', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-pki-'));
    const pki = createClusterPki(dir);
    const client = pki.clientCert('admin', 'sandbox-admin', ['system:masters']);
    const server = await tlsServer(pki);
    t.after(() => server.close());
    const endpoint = parseKubeconfig(kubeconfig(
      { server: `https://127.0.0.1:${server.port}`, 'certificate-authority': basename(pki.caCert), 'tls-server-name': 'kubernetes' },
      { 'client-certificate': basename(client.certFile), 'client-key': basename(client.keyFile) },
    ), dir);
    assert.ok(endpoint);
    assert.equal((await applied(endpoint)).servername, 'kubernetes');
    assert.deepEqual(await get(endpoint), { authorization: null, clientCN: 'sandbox-admin' });
    const insecure = parseKubeconfig(kubeconfig({ server: `https://127.0.0.1:${server.port}`, 'insecure-skip-tls-verify': true }, { token: 't' }), dir);
    assert.ok(insecure);
    assert.equal((await applied(insecure)).rejectUnauthorized, false);
    assert.deepEqual(await get(insecure), { authorization: 'Bearer t', clientCN: null });
  });

  it('leaves exec plugins, auth-providers and missing servers to client-node', () => {
    assert.equal(parseKubeconfig(kubeconfig({ server: 'https://cp:6443' }, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'scw' } }), '/'), undefined);
    assert.equal(parseKubeconfig(kubeconfig({ server: 'https://cp:6443' }, { 'auth-provider': { name: 'oidc' } }), '/'), undefined);
    assert.equal(parseKubeconfig(kubeconfig({ server: 'https://cp:6443', 'proxy-url': 'socks5://p:1080' }, { token: 't' }), '/'), undefined);
    assert.equal(parseKubeconfig(kubeconfig({}, { token: 't' }), '/'), undefined);
  });

  it('loads a kubeconfig with an exec plugin through client-node, with the same server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-credentials-'));
    const file = join(dir, 'config');
    writeFileSync(file, kubeconfig({ server: 'https://exec.example:6443' }, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' } }));
    const credentials = loadKubeCredentials(file);
    assert.equal((await credentials.endpoint()).server.host, 'exec.example:6443');
    const kc = await credentials.kubeConfig();
    assert.equal((kc.getCurrentUser()?.exec as { command?: string } | undefined)?.command, 'true');
  });

  it('reads the ServiceAccount token again once it may have been rotated, not on every request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-sa-'));
    writeFileSync(join(dir, 'token'), 'first\n');
    writeFileSync(join(dir, 'ca.crt'), readFileSync(createClusterPki(mkdtempSync(join(tmpdir(), 'kube-pki-'))).caCert));
    let now = 1_000;
    const endpoint = inClusterEndpoint({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir, () => now);
    assert.ok(endpoint);
    assert.equal(endpoint.server.host, '[fd00::1]');
    const bearer = async (): Promise<string | undefined> => ((await applied(endpoint)).headers as Record<string, string>).Authorization;
    assert.equal(await bearer(), 'Bearer first');
    writeFileSync(join(dir, 'token'), 'second\n');
    now += TOKEN_FILE_REREAD_MS - 1;
    assert.equal(await bearer(), 'Bearer first');
    now += 1;
    assert.equal(await bearer(), 'Bearer second');
  });

  it('is not in a Pod without the service env or the token file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-sa-'));
    assert.equal(inClusterEndpoint({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir), undefined);
    writeFileSync(join(dir, 'token'), 't');
    assert.equal(inClusterEndpoint({}, dir), undefined);
    assert.equal(inClusterEndpoint({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir)?.server.href, 'https://10.96.0.1/');
  });
});
