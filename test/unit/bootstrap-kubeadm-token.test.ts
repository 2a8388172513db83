import assert from 'node:assert/strict';
import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import {
  apiServerEndpointFromClusterInfo,
  BootstrapError,
  bootstrapTokenSecret,
  caCertHash,
  formatBootstrapToken,
  newBootstrapToken,
  parseBootstrapToken,
  parseRenderedBootstrap,
  renderCloudInit,
} from '../../bootstrap/index.ts';

describe('bootstrap tokens', () => {
  it('draws 6 + 16 characters of [a-z0-9] from node:crypto, different each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const t = newBootstrapToken();
      assert.match(t.id, /^[a-z0-9]{6}$/);
      assert.match(t.secret, /^[a-z0-9]{16}$/);
      assert.match(formatBootstrapToken(t), /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
      seen.add(formatBootstrapToken(t));
    }
    assert.equal(seen.size, 200);
  });

  it('uses an injected random source and checks what it returns', () => {
    const t = newBootstrapToken((n) => 'a1'.repeat(n).slice(0, n));
    assert.deepEqual(t, { id: 'a1a1a1', secret: 'a1a1a1a1a1a1a1a1' });
    assert.throws(() => newBootstrapToken((n) => 'A'.repeat(n)), BootstrapError);
    assert.throws(() => newBootstrapToken(() => 'abc'), BootstrapError);
  });

  it('parses <id>.<secret> and rejects anything else', () => {
    assert.deepEqual(parseBootstrapToken('abcdef.0123456789abcdef'), { id: 'abcdef', secret: '0123456789abcdef' });
    for (const bad of ['abcdef0123456789abcdef', 'abcde.0123456789abcdef', 'abcdef.0123456789abcdeF', 'abcdef.0123456789abcdef.x']) {
      assert.throws(() => parseBootstrapToken(bad), BootstrapError, bad);
    }
  });
});

describe('bootstrapTokenSecret', () => {
  const token = { id: 'x7k2pq', secret: '0123456789abcdef' };
  const opts = { expiresAt: new Date('2026-08-14T10:30:00.123Z'), description: 'join token for NodeClaim gpu-l4-x7k2p', nodeClaimName: 'gpu-l4-x7k2p', nodeClaimUid: '3f1e2d4c-5b6a-4789-8abc-def012345678' };

  it('is the kube-system Secret kubeadm discovery and the bootstrap authenticator expect', () => {
    const s = bootstrapTokenSecret(token, opts);
    assert.equal(s.apiVersion, 'v1');
    assert.equal(s.kind, 'Secret');
    assert.equal(s.metadata?.name, 'bootstrap-token-x7k2pq');
    assert.equal(s.metadata?.namespace, 'kube-system');
    assert.equal(s.type, 'bootstrap.kubernetes.io/token');
    assert.deepEqual(s.stringData, {
      'token-id': 'x7k2pq',
      'token-secret': '0123456789abcdef',
      expiration: '2026-08-14T10:30:00Z',
      'usage-bootstrap-authentication': 'true',
      'usage-bootstrap-signing': 'true',
      'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
      description: 'join token for NodeClaim gpu-l4-x7k2p',
    });
    assert.ok(!Number.isNaN(Date.parse(s.stringData?.expiration ?? '')));
  });

  it('ties the Secret to its NodeClaim for garbage collection', () => {
    const s = bootstrapTokenSecret(token, opts);
    assert.deepEqual(s.metadata?.labels, {
      'app.kubernetes.io/managed-by': 'scw-karpenter',
      'karpenter.scaleway.com/nodeclaim': 'gpu-l4-x7k2p',
      'karpenter.scaleway.com/nodeclaim-uid': '3f1e2d4c-5b6a-4789-8abc-def012345678',
    });
    assert.equal(s.metadata?.annotations?.['karpenter.scaleway.com/nodeclaim'], 'gpu-l4-x7k2p');
    assert.deepEqual(s.metadata?.ownerReferences, [{ apiVersion: 'karpenter.sh/v1', kind: 'NodeClaim', name: 'gpu-l4-x7k2p', uid: '3f1e2d4c-5b6a-4789-8abc-def012345678' }]);
  });

  it('keeps a name too long for a label value in the annotation only, and omits an absent description', () => {
    const longName = `gpu-${'a'.repeat(70)}`;
    const s = bootstrapTokenSecret(token, { ...opts, nodeClaimName: longName, description: undefined });
    assert.equal(s.metadata?.labels?.['karpenter.scaleway.com/nodeclaim'], undefined);
    assert.equal(s.metadata?.annotations?.['karpenter.scaleway.com/nodeclaim'], longName);
    assert.equal(s.stringData?.description, undefined);
  });
});

describe('CA pin and cluster-info', () => {
  let dir: string;
  const certs: Record<string, { pem: string; hash: string }> = {};

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bootstrap-ca-'));
    const make: Record<string, string[]> = {
      rsa: ['-newkey', 'rsa:2048'],
      ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
    };
    for (const [name, keyArgs] of Object.entries(make)) {
      const certFile = join(dir, `${name}.crt`);
      execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', join(dir, `${name}.key`), '-out', certFile, '-days', '1', '-subj', `/CN=test-${name}-ca`], { stdio: 'ignore' });
      // The pin as kubeadm's docs compute it, independently of node:crypto.
      const out = execSync(`openssl x509 -pubkey -noout -in '${certFile}' | openssl pkey -pubin -outform der | sha256sum`, { encoding: 'utf8' });
      certs[name] = { pem: readFileSync(certFile, 'utf8'), hash: `sha256:${out.split(' ')[0] ?? ''}` };
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes the DER SubjectPublicKeyInfo like openssl does (RSA and EC keys)', () => {
    for (const [name, c] of Object.entries(certs)) {
      assert.match(c.hash, /^sha256:[0-9a-f]{64}$/, name);
      assert.equal(caCertHash(c.pem), c.hash, name);
    }
    assert.notEqual(certs.rsa?.hash, certs.ec?.hash);
  });

  it('rejects what is not a certificate', () => {
    assert.throws(() => caCertHash('-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n'), BootstrapError);
  });

  const clusterInfo = (server: string, pem: string) => ({
    data: {
      kubeconfig: stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: '', cluster: { server, 'certificate-authority-data': Buffer.from(pem).toString('base64') } }],
        contexts: [],
        users: [],
      }),
    },
  });

  it('reads host:port, the CA and its pin from kube-public/cluster-info', () => {
    const rsa = certs.rsa!;
    const info = apiServerEndpointFromClusterInfo(clusterInfo('https://10.42.0.1:6443', rsa.pem));
    assert.deepEqual(info, { apiServerEndpoint: '10.42.0.1:6443', server: 'https://10.42.0.1:6443', caCertificate: rsa.pem, caCertHash: rsa.hash });
    assert.equal(apiServerEndpointFromClusterInfo(clusterInfo('https://api.example.com', rsa.pem)).apiServerEndpoint, 'api.example.com:443');
    assert.equal(apiServerEndpointFromClusterInfo(clusterInfo('https://[fd00::1]:6443', rsa.pem)).apiServerEndpoint, '[fd00::1]:6443');
  });

  it('explains a cluster-info it cannot use', () => {
    assert.throws(() => apiServerEndpointFromClusterInfo({ data: {} }), /no data\.kubeconfig/);
    assert.throws(() => apiServerEndpointFromClusterInfo({ data: { kubeconfig: 'clusters: []\n' } }), /no clusters\[0\]\.cluster\.server/);
    assert.throws(() => apiServerEndpointFromClusterInfo(clusterInfo('http://10.42.0.1:6443', certs.rsa!.pem)), /not https/);
  });

  it('feeds a kubeadm cloud-init that a simulated kubelet can read back', () => {
    const info = apiServerEndpointFromClusterInfo(clusterInfo('https://10.42.0.1:6443', certs.ec!.pem));
    const token = newBootstrapToken();
    const cloudInit = renderCloudInit({
      mode: 'kubeadm',
      node: { nodeName: 'gpu-l4-x7k2p', zone: 'nl-ams-1', serverId: '0b6c3f7e-8d4a-4c59-9a4e-2f1d6b7c8e90', labels: {}, taints: [], startupTaints: [] },
      kubelet: { maxPods: 110, kubeReserved: { cpu: '90m', memory: '1465Mi', 'ephemeral-storage': '1Gi' }, systemReserved: {}, evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '10%' } },
      kubeadm: { apiServerEndpoint: info.apiServerEndpoint, token: formatBootstrapToken(token), caCertHashes: [info.caCertHash] },
    });
    const parsed = parseRenderedBootstrap(cloudInit);
    assert.deepEqual(parsed.kubeadm, { apiServerEndpoint: '10.42.0.1:6443', token: formatBootstrapToken(token), caCertHashes: [certs.ec!.hash] });
    assert.deepEqual(parsed.labels, {});
    assert.deepEqual(parsed.taints, [{ key: 'karpenter.sh/unregistered', effect: 'NoExecute' }]);
    assert.equal(parsed.providerID, 'scaleway://instance/nl-ams-1/0b6c3f7e-8d4a-4c59-9a4e-2f1d6b7c8e90');
  });
});
