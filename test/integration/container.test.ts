// The built image end to end: `npm run image`'s archive loaded into podman, the
// worker and the watcher run from it as their Pods would run (ServiceAccount
// token and CA mounted, KUBERNETES_SERVICE_HOST/PORT and no kubeconfig, user
// 65532, read-only root filesystem, no capabilities), against the sandbox's
// apiserver, Temporal dev server and Scaleway simulator; the seed's GPU pod gets
// its node. Skipped, with the reason, where containers cannot run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { buildImage, containerSupport, loadImage, readImageArchive, SERVICE_ACCOUNT_MOUNT, startProductContainers, type ComponentContainer, type RunningProductContainers } from '../../sandbox/containers.ts';
import { startSimulator } from '../../scaleway/simulator/index.ts';
import { codecKeysEnv, generateCodecKeys } from '../../runtime/codec-key.ts';
import { clusterPath, getNode } from '../../kube/objects.ts';
import { getText } from '../../kube/rest.ts';
import { NODECLAIM_GVR, NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { parseNodeClaim, type NodeClaim } from '../../kube/api/schemas.ts';
import { eventually, nodeClassObject } from '../harness/provisioning.ts';
import { onTeardown, tempDir, useControlPlane, useTemporal } from '../harness/stack.ts';

const DOCKERFILE = new URL('../../Dockerfile', import.meta.url);

/** The final stage of the Dockerfile, as the image config it gives: USER, WORKDIR, ENTRYPOINT, CMD, ENV, LABEL. */
function dockerfileConfig(text: string): { User?: string; WorkingDir?: string; Entrypoint?: string[]; Cmd?: string[]; Env: string[]; Labels: Record<string, string> } {
  const instructions = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const stage = instructions.slice(instructions.findLastIndex((l) => /^FROM\s/i.test(l)) + 1);
  const pairs = (rest: string): [string, string][] =>
    [...rest.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S+)/g)].map((m) => [m[1] ?? '', (m[2] ?? '').startsWith('"') ? (JSON.parse(m[2] ?? '""') as string) : (m[2] ?? '')]);
  const out: ReturnType<typeof dockerfileConfig> = { Env: [], Labels: {} };
  for (const line of stage) {
    const [, keyword = '', rest = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    switch (keyword.toUpperCase()) {
      case 'USER': out.User = rest; break;
      case 'WORKDIR': out.WorkingDir = rest; break;
      case 'ENTRYPOINT': out.Entrypoint = JSON.parse(rest) as string[]; break;
      case 'CMD': out.Cmd = JSON.parse(rest) as string[]; break;
      case 'ENV': out.Env.push(...pairs(rest).map(([k, v]) => `${k}=${v}`)); break;
      case 'LABEL': for (const [k, v] of pairs(rest)) out.Labels[k] = v; break;
    }
  }
  return out;
}

const example = (file: string): Record<string, unknown> => parseYaml(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** A cold machine builds the image and installs podman, runc, umoci and skopeo from Debian first. */
const SETUP_TIMEOUT_MS = 30 * 60_000;
const support = containerSupport();

describe('the built image: worker and watcher containers on ServiceAccount tokens take a NodeClaim to Ready', { skip: support.ok ? false : `containers cannot run here: ${support.reason}` }, () => {
  let product: RunningProductContainers;
  const component = (name: 'worker' | 'watcher'): ComponentContainer => {
    const c = product.components.find((p) => p.component === name);
    assert.ok(c, name);
    return c;
  };

  before(async () => {
    const built = await buildImage();
    console.log(`[container] tools/image/build.sh took ${built.seconds.toFixed(0)} s: ${built.output.split('\n').filter((l) => /^\[image\] (built|up to date|archive)/.test(l)).join('; ')}`);
    const image = await loadImage();
    const [controlPlane, temporal, simulator] = await Promise.all([
      useControlPlane({ withControllers: true }),
      useTemporal(),
      startSimulator({ profile: 'instant' }),
    ]);
    onTeardown(() => simulator.close());
    // Both containers share one payload key, as both Deployments read one Secret.
    product = await startProductContainers({ dir: tempDir('containers'), controlPlane, temporal, simulator, image, env: codecKeysEnv(generateCodecKeys()) });
    onTeardown(() => product.stop());
  }, { timeout: SETUP_TIMEOUT_MS });

  it("builds the image the Dockerfile describes: the same user, workdir, entrypoint, command, environment and labels", () => {
    const { config } = readImageArchive();
    const docker = dockerfileConfig(readFileSync(DOCKERFILE, 'utf8'));
    assert.equal(docker.User, config.User);
    assert.equal(docker.WorkingDir, config.WorkingDir);
    assert.deepEqual(docker.Entrypoint, config.Entrypoint);
    assert.deepEqual(docker.Cmd, config.Cmd);
    assert.deepEqual([...docker.Env].sort(), [...(config.Env ?? [])].sort());
    // build.sh names its base (Debian packages); the Dockerfile's base names itself.
    const { 'org.opencontainers.image.base.name': _base, ...labels } = config.Labels ?? {};
    assert.deepEqual(docker.Labels, labels);
  });

  it('runs each as its Pod would: user 65532, no capabilities, no privilege escalation, read-only root, the token mounted read-only, no kubeconfig', async () => {
    for (const c of product.components) {
      const record = await c.container.inspect();
      assert.equal(record.State.Running, true, c.component);
      assert.equal(record.HostConfig.ReadonlyRootfs, true, `${c.component}: read-only root filesystem`);
      const mount = record.Mounts.find((m) => m.Destination === SERVICE_ACCOUNT_MOUNT);
      assert.equal(mount?.RW, false, `${c.component}: the ServiceAccount folder mounted read-only`);
      const env = new Map(record.Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      assert.equal(env.has('KUBECONFIG'), false, `${c.component}: no KUBECONFIG, so the in-cluster config`);
      assert.equal(env.get('KUBERNETES_SERVICE_HOST'), '127.0.0.1');
      assert.match(env.get('KUBERNETES_SERVICE_PORT') ?? '', /^\d+$/);
      // What the kernel enforces on the container's process, read from the host.
      const status = readFileSync(`/proc/${record.State.Pid}/status`, 'utf8');
      const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
      assert.deepEqual(field('Uid').split(/\s+/), ['65532', '65532', '65532', '65532'], `${c.component}: Uid`);
      assert.deepEqual(field('Gid').split(/\s+/), ['65532', '65532', '65532', '65532'], `${c.component}: Gid`);
      for (const caps of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(field(caps), '0000000000000000', `${c.component}: ${caps}`);
      assert.equal(field('NoNewPrivs'), '1', `${c.component}: no_new_privs`);
      assert.equal(field('Seccomp'), '2', `${c.component}: a seccomp filter (podman's default profile, RuntimeDefault)`);
    }
  });

  it("gives the seed's GPU pod a node: the watcher's NodeClaim goes Ready through the worker's workflow", { timeout: 300_000 }, async () => {
    const kube = product.kube;
    await kube.post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
    await kube.post(clusterPath(NODEPOOL_GVR), example('nodepool-gpu.yaml'));
    await kube.post('/api/v1/namespaces/default/pods', example('pod-gpu-l4.yaml'));
    const pod = await eventually('gpu-test Running', async () => {
      const p = await kube.get<{ spec: { nodeName?: string }; status: { phase?: string } }>('/api/v1/namespaces/default/pods/gpu-test');
      return p.status.phase === 'Running' && p.spec.nodeName ? p : undefined;
    }, 240_000, 500);
    const claimsOfPool = async (): Promise<NodeClaim[]> =>
      (await kube.get<{ items: unknown[] }>(`${clusterPath(NODECLAIM_GVR)}?labelSelector=${encodeURIComponent('karpenter.sh/nodepool=scaleway-gpu')}`)).items.map(parseNodeClaim);
    // The pod may run before the workflow's last step (Initialized, then Ready) has reported.
    const claims = await eventually('the NodeClaim Ready', async () => {
      const all = await claimsOfPool();
      return all.some((c) => c.status.conditions.find((cond) => cond.type === 'Ready')?.status === 'True') ? all : undefined;
    }, 60_000, 500);
    assert.equal(claims.length, 1, 'one NodeClaim');
    const [claim] = claims;
    for (const type of ['Launched', 'Registered', 'Initialized', 'Ready']) assert.equal(claim?.status.conditions.find((c) => c.type === type)?.status, 'True', type);
    assert.equal(claim?.status.nodeName, pod.spec.nodeName);
    assert.equal(claim?.metadata.labels?.['node.kubernetes.io/instance-type'], 'L4-1-24G');
    const node = await getNode(kube, pod.spec.nodeName ?? '');
    assert.equal(node?.spec.providerID, claim?.status.providerID);
  });

  it("answers /metrics from inside the containers: the watcher counts the NodeClaim it created", async () => {
    const watcher = await (await fetch(component('watcher').metricsUrl)).text();
    const created = /^karpenter_nodeclaims_created_total\{[^}]*nodepool="scaleway-gpu"[^}]*\} (\S+)$/m.exec(watcher);
    assert.equal(Number(created?.[1]), 1, `karpenter_nodeclaims_created_total in:\n${watcher.split('\n').filter((l) => l.startsWith('karpenter_nodeclaims')).join('\n')}`);
    const worker = await (await fetch(component('worker').metricsUrl)).text();
    assert.match(worker, /^scw_karpenter_provisioning_step_duration_seconds_count\{[^}]*step="create_server"[^}]*\} [1-9]/m, 'the worker timed its create_server step');
  });

  it("is served by the apiserver on the chart's priority levels: the watcher's Lease on leader-election, the rest on workload-high", async () => {
    const metrics = await getText(product.kube, '/metrics');
    const dispatched = (flowSchema: string): Map<string, number> => {
      const byLevel = new Map<string, number>();
      for (const m of metrics.matchAll(/^apiserver_flowcontrol_dispatched_requests_total\{([^}]*)\} (\S+)$/gm)) {
        const labels = m[1] ?? '';
        if (!labels.includes(`flow_schema="${flowSchema}"`)) continue;
        const level = /priority_level="([^"]*)"/.exec(labels)?.[1] ?? '';
        byLevel.set(level, (byLevel.get(level) ?? 0) + Number(m[2]));
      }
      return byLevel;
    };
    // The watcher renewed its Lease every 2 s since it started, each renewal under the leader-election schema.
    assert.deepEqual([...dispatched('scw-karpenter-watcher-leader-election').keys()], ['leader-election']);
    assert.ok((dispatched('scw-karpenter-watcher-leader-election').get('leader-election') ?? 0) >= 2, 'Lease requests on leader-election');
    for (const c of ['watcher', 'worker']) {
      const levels = dispatched(`scw-karpenter-${c}`);
      assert.deepEqual([...levels.keys()], ['workload-high'], `${c}: its requests' priority levels`);
      assert.ok((levels.get('workload-high') ?? 0) > 0, `${c}: requests on workload-high`);
    }
  });

  it('logs JSON lines only, and no call was refused (no 403, no Forbidden)', () => {
    for (const c of product.components) {
      const log = c.container.logs();
      const lines = log.split('\n').filter((l) => l.trim() !== '');
      assert.ok(lines.length > 0, `${c.component} logged nothing`);
      const notJson = lines.filter((l) => {
        try {
          return typeof JSON.parse(l) !== 'object';
        } catch {
          return true;
        }
      });
      assert.deepEqual(notJson, [], `${c.component}: lines that are not JSON`);
      // A KubeError reads "403 Forbidden: ..."; a JSON field may carry the bare status.
      assert.doesNotMatch(log, /\bforbidden\b|"(status|statusCode|code)":\s*403\b/i, `${c.component}: a refused call`);
    }
  });
});
