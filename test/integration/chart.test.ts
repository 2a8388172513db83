// The Helm chart as a user installs it: `helm lint --strict` on both charts,
// deploy/ equal to what `helm template` renders, the rendered manifests applied
// server-side to a real apiserver, and the ServiceAccounts' tokens bound to the
// chart's roles: what each process needs is allowed, what it does not is refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../sandbox/control-plane.ts';
import { toolPath } from '../../sandbox/tools.ts';
import { serviceAccountIdentity } from '../../sandbox/service-accounts.ts';
import { createKubeRest, KubeError, type KubeRest } from '../../kube/rest.ts';
import { loadKubeCredentials } from '../../kube/credentials.ts';
import { CHART_DIR, CRD_CHART_DIR, DEPLOY_MANIFEST, helm, renderDeployManifests } from '../../tools/render-manifests.ts';

const CRDS = new URL('../../deploy/crds/', import.meta.url).pathname;

/** The call's HTTP status; a 429 (the apiserver still warming up its new CRDs and tokens) is asked again. */
async function status(call: () => Promise<unknown>): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      await call();
      return 200;
    } catch (err) {
      if (!(err instanceof KubeError)) throw err;
      if (err.status !== 429 || attempt >= 20) return err.status;
      await sleep(500);
    }
  }
}

describe('the Helm chart', () => {
  const helmBin = toolPath('helm');
  let dir: string;
  let controlPlane: ControlPlane;
  let admin: KubeRest;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scw-chart-'));
    controlPlane = await startControlPlane({ dir: join(dir, 'kube') });
    admin = createKubeRest(loadKubeCredentials(controlPlane.kubeconfig));
  });
  after(async () => {
    await controlPlane?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes helm lint --strict, both charts, defaults and every option on', () => {
    for (const chart of [CHART_DIR, CRD_CHART_DIR]) helm(['lint', '--strict', chart], helmBin);
    helm(['lint', '--strict', CHART_DIR, '--set', 'serviceMonitor.enabled=true,grafanaDashboards.enabled=true'], helmBin);
  });

  it('refuses values of the wrong type or outside their enum (values.schema.json), naming the value', () => {
    const lintFails = (set: string): string => {
      try {
        helm(['lint', '--strict', CHART_DIR, '--set', set], helmBin);
      } catch (err) {
        return String((err as { stdout?: string }).stdout ?? '') + String((err as { stderr?: string }).stderr ?? '');
      }
      assert.fail(`helm lint --strict passed with ${set}`);
    };
    assert.match(lintFails('watcher.replicas=two'), /\/watcher\/replicas.*want integer/);
    assert.match(lintFails('logLevel=verbose'), /\/logLevel/);
    assert.match(lintFails('worker.garbageCollection.interval=every-minute'), /\/worker\/garbageCollection\/interval/);
    assert.match(lintFails('watcher.replica=2'), /\/watcher.*replica/, 'a misspelt key is refused too');
  });

  it('rolls both Deployments when a Secret they read changes (checksum annotations on the pod templates)', () => {
    const credentials = (secretKey: string): string => `scaleway.accessKey=SCWXXXXXXXXXXXXXXXXX,scaleway.projectId=11111111-2222-3333-4444-555555555555,scaleway.secretKey=${secretKey}`;
    const annotations = (set: string): Map<string, Record<string, string>> => {
      const docs = parseAllDocuments(helm(['template', 'scw-karpenter', CHART_DIR, '--namespace', 'scw-karpenter', '--set', set], helmBin)).map((d) => d.toJS() as { kind?: string; metadata?: { name: string }; spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } } | null);
      return new Map(docs.filter((d) => d?.kind === 'Deployment').map((d) => [d?.metadata?.name ?? '', d?.spec?.template?.metadata?.annotations ?? {}]));
    };
    const before = annotations(credentials('aaaaaaaa-1111-2222-3333-444444444444'));
    const after = annotations(credentials('bbbbbbbb-1111-2222-3333-444444444444'));
    assert.deepEqual([...before.keys()].sort(), ['scw-karpenter-watcher', 'scw-karpenter-worker']);
    for (const [name, a] of before) {
      assert.match(a['checksum/secrets'] ?? '', /^[0-9a-f]{64}$/, `${name} has checksum/secrets`);
      assert.notEqual(after.get(name)?.['checksum/secrets'], a['checksum/secrets'], `a new secret key rolls ${name}`);
    }
    // A Secret made by hand is checksummed from the cluster at install or upgrade (lookup): the annotation is there.
    const byHand = annotations('scaleway.existingSecret=scw-credentials,podAnnotations.team=gpu');
    for (const [name, a] of byHand) {
      assert.match(a['checksum/existing-secrets'] ?? '', /^[0-9a-f]{64}$/, `${name} has checksum/existing-secrets`);
      assert.equal(a['team'], 'gpu', `${name} keeps podAnnotations`);
    }
  });

  it('renders deploy/scw-karpenter.yaml exactly (run npm run manifests when this fails)', () => {
    assert.equal(readFileSync(DEPLOY_MANIFEST, 'utf8'), renderDeployManifests(helmBin));
  });

  it('renders a ServiceMonitor only where the Prometheus operator API is served', () => {
    const without = helm(['template', 'scw-karpenter', CHART_DIR, '--namespace', 'scw-karpenter'], helmBin);
    assert.doesNotMatch(without, /kind: ServiceMonitor/);
    const withIt = helm(['template', 'scw-karpenter', CHART_DIR, '--namespace', 'scw-karpenter', '--api-versions', 'monitoring.coreos.com/v1', '--set', 'serviceMonitor.enabled=true'], helmBin);
    assert.match(withIt, /kind: ServiceMonitor/);
  });

  it('applies server-side to a real apiserver, and its roles allow what each process does and refuse the rest', async () => {
    const kubectl = toolPath('kubectl');
    const out = execFileSync(kubectl, ['--kubeconfig', controlPlane.kubeconfig, 'apply', '--server-side', '-f', CRDS, '-f', DEPLOY_MANIFEST], { encoding: 'utf8' });
    assert.match(out, /deployment\.apps\/scw-karpenter-watcher serverside-applied/);
    assert.match(out, /deployment\.apps\/scw-karpenter-worker serverside-applied/);
    assert.match(out, /clusterrole\.rbac\.authorization\.k8s\.io\/scw-karpenter-watcher serverside-applied/);

    execFileSync(kubectl, ['--kubeconfig', controlPlane.kubeconfig, 'wait', '--for', 'condition=established', '--timeout', '60s', '-f', CRDS]);

    const as = async (name: string): Promise<KubeRest> => {
      const identity = await serviceAccountIdentity(admin, { server: controlPlane.server, caFile: controlPlane.pki.caCert, name, dir: join(dir, name) });
      assert.doesNotMatch(readFileSync(identity.kubeconfig, 'utf8'), /client-certificate/);
      return createKubeRest(loadKubeCredentials(identity.kubeconfig));
    };
    const watcher = await as('scw-karpenter-watcher');
    const worker = await as('scw-karpenter-worker');
    const nodeClaim = { apiVersion: 'karpenter.sh/v1', kind: 'NodeClaim', metadata: { name: 'rbac-probe' }, spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'gpu' }, requirements: [] } };

    // What the watcher does.
    assert.equal(await status(() => watcher.get('/apis/karpenter.sh/v1/nodeclaims')), 200);
    assert.equal(await status(() => watcher.get('/api/v1/pods')), 200);
    assert.equal(await status(() => watcher.post('/apis/karpenter.sh/v1/nodeclaims', nodeClaim)), 200);
    assert.equal(await status(() => watcher.post('/apis/coordination.k8s.io/v1/namespaces/scw-karpenter/leases', { metadata: { name: 'scw-karpenter-watcher' }, spec: {} })), 200);
    // What the worker does.
    assert.equal(await status(() => worker.get('/apis/karpenter.sh/v1/nodeclaims/rbac-probe')), 200);
    assert.equal(await status(() => worker.get('/api/v1/namespaces/kube-system/secrets')), 200);
    assert.equal(await status(() => worker.get('/api/v1/nodes')), 200);

    // Refused: neither reads Secrets cluster-wide, the watcher lists none, the worker makes no NodeClaims, and no Lease but the watcher's own.
    assert.equal(await status(() => watcher.get('/api/v1/namespaces/kube-system/secrets')), 403);
    assert.equal(await status(() => worker.get('/api/v1/secrets')), 403);
    assert.equal(await status(() => worker.post('/apis/karpenter.sh/v1/nodeclaims', { ...nodeClaim, metadata: { name: 'rbac-probe-2' } })), 403);
    assert.equal(await status(() => worker.post('/apis/coordination.k8s.io/v1/namespaces/scw-karpenter/leases', { metadata: { name: 'x' }, spec: {} })), 403);
    assert.equal(await status(() => watcher.delete('/api/v1/namespaces/kube-system/pods/anything')), 403);
    assert.equal(await status(() => watcher.get('/api/v1/namespaces/default/configmaps')), 403);
  });
});
