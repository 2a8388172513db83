// kube/credentials.ts: a kubeconfig's server, CA and token or client
// certificate, read without client-node; the Pod's ServiceAccount with its
// rotated token; and client-node's KubeConfig for whatever else a kubeconfig
// holds (an exec plugin here).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestOptions } from 'node:https';
import { describe, it } from 'node:test';
import { inClusterEndpoint, loadKubeCredentials, parseKubeconfig, TOKEN_FILE_REREAD_MS } from '../../kube/credentials.ts';

const kubeconfig = (cluster: Record<string, unknown>, user: Record<string, unknown>): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'here',
    contexts: [{ name: 'other', context: { cluster: 'far', user: 'nobody' } }, { name: 'here', context: { cluster: 'near', user: 'me' } }],
    clusters: [{ name: 'far', cluster: { server: 'https://far.example:6443' } }, { name: 'near', cluster }],
    users: [{ name: 'nobody', user: { token: 'not-this-one' } }, { name: 'me', user }],
  });

async function applied(endpoint: { apply(o: RequestOptions): Promise<void> }): Promise<RequestOptions> {
  const opts: RequestOptions = { headers: { Accept: 'application/json' } };
  await endpoint.apply(opts);
  return opts;
}

describe('kube credentials', () => {
  it('reads the current context of a kubeconfig: server, CA data and token', async () => {
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
    const endpoint = parseKubeconfig(kubeconfig({ server: 'https://10.0.0.1:6443', 'certificate-authority-data': ca.toString('base64') }, { token: 's3cr3t' }), '/nowhere');
    assert.ok(endpoint);
    assert.equal(endpoint.server.href, 'https://10.0.0.1:6443/');
    const opts = await applied(endpoint);
    assert.deepEqual(opts.ca, ca);
    assert.deepEqual(opts.headers, { Accept: 'application/json', Authorization: 'Bearer s3cr3t' });
    assert.equal(opts.rejectUnauthorized, undefined);
  });

  it('reads certificate files relative to the kubeconfig, and insecure-skip-tls-verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-credentials-'));
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'admin.crt'), 'CERT');
    writeFileSync(join(dir, 'pki', 'admin.key'), 'KEY');
    const endpoint = parseKubeconfig(kubeconfig({ server: 'https://cp:6443', 'insecure-skip-tls-verify': true, 'tls-server-name': 'kubernetes' }, { 'client-certificate': 'pki/admin.crt', 'client-key': 'pki/admin.key' }), dir);
    assert.ok(endpoint);
    const opts = await applied(endpoint);
    assert.deepEqual(opts.cert, Buffer.from('CERT'));
    assert.deepEqual(opts.key, Buffer.from('KEY'));
    assert.equal(opts.rejectUnauthorized, false);
    assert.equal(opts.servername, 'kubernetes');
    assert.equal((opts.headers as Record<string, string>).Authorization, undefined);
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
    writeFileSync(join(dir, 'ca.crt'), 'CLUSTER-CA');
    let now = 1_000;
    const endpoint = inClusterEndpoint({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir, () => now);
    assert.ok(endpoint);
    assert.equal(endpoint.server.host, '[fd00::1]');
    const bearer = async (): Promise<string | undefined> => ((await applied(endpoint)).headers as Record<string, string>).Authorization;
    assert.equal(await bearer(), 'Bearer first');
    assert.equal((await applied(endpoint)).ca?.toString(), 'CLUSTER-CA');
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
