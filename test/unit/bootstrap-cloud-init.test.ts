import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  BootstrapError,
  CUSTOM_TEMPLATE_VARIABLES,
  kubeletMaySetLabel,
  parseRenderedBootstrap,
  PATHS,
  renderBootstrap,
  renderCloudInit,
  splitNodeLabels,
  type BootstrapInput,
  type K3sBootstrapInput,
  type K3sJoin,
  type KosmosBootstrapInput,
  type KubeletConfig,
  type NodeRegistration,
} from '../../bootstrap/index.ts';

const SERVER_ID = '0b6c3f7e-8d4a-4c59-9a4e-2f1d6b7c8e90';
const PROVIDER_ID = `scaleway://instance/fr-par-2/${SERVER_ID}`;
const CA_HASH = `sha256:${'0123456789abcdef'.repeat(4)}`;
/** An 8-vCPU type's reservations with a NodeClass systemReserved and a memory eviction override. */
const KUBELET: KubeletConfig = {
  maxPods: 58,
  kubeReserved: { cpu: '90m', memory: '893Mi', 'ephemeral-storage': '1Gi' },
  systemReserved: { cpu: '100m', memory: '512Mi' },
  evictionHard: { 'memory.available': '5%', 'nodefs.available': '10%', 'nodefs.inodesFree': '5%', 'imagefs.available': '15%' },
};

function node(overrides: Partial<NodeRegistration> = {}): NodeRegistration {
  return {
    nodeName: 'gpu-l4-x7k2p',
    zone: 'fr-par-2',
    serverId: SERVER_ID,
    labels: {
      'karpenter.sh/nodepool': 'gpu',
      'karpenter.sh/capacity-type': 'on-demand',
      'karpenter.scaleway.com/instance-gpu-name': 'l4',
      'node.kubernetes.io/instance-type': 'L4-1-24G',
      'topology.kubernetes.io/zone': 'fr-par-2',
      'kubernetes.io/arch': 'amd64',
      'node-role.kubernetes.io/gpu': '',
      'example.kubernetes.io/team': 'ml',
    },
    taints: [{ key: 'nvidia.com/gpu', value: 'yes', effect: 'NoSchedule' }],
    startupTaints: [{ key: 'example.com/gpu-operator-pending', effect: 'NoSchedule' }],
    ...overrides,
  };
}

const kubeadmInput = (extra: Partial<Extract<BootstrapInput, { mode: 'kubeadm' }>> = {}): BootstrapInput => ({
  mode: 'kubeadm',
  node: node(),
  kubelet: KUBELET,
  kubeadm: { apiServerEndpoint: '10.42.0.1:6443', token: 'x7k2pq.0123456789abcdef', caCertHashes: [CA_HASH] },
  ...extra,
});

const k3sInput = (k3s: Partial<K3sJoin> = {}): K3sBootstrapInput => ({
  mode: 'k3s',
  node: node(),
  kubelet: KUBELET,
  k3s: { url: 'https://10.42.0.1:6443', token: "K10deadbeef::server:pa'ss word", ...k3s },
});

const kosmosInput = (): KosmosBootstrapInput => ({
  mode: 'kosmos',
  node: node(),
  kubelet: KUBELET,
  kosmos: {
    poolId: '5e2b1c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e',
    poolRegion: 'fr-par',
    metadataUrl: 'https://api.scaleway.com/k8s/v1/regions/fr-par/nodes/abc/metadata',
    nodeSecretKey: 'node-secret-0f9e8d',
  },
});

interface WriteFileEntry {
  path: string;
  content: string;
  permissions: string;
  owner?: string;
}

/** Checks the header and parses the body as cloud-init would (YAML 1.1). */
function cloudConfig(text: string): Record<string, unknown> {
  assert.equal(text.split('\n')[0], '#cloud-config');
  const doc: unknown = parse(text, { version: '1.1' });
  assert.ok(doc !== null && typeof doc === 'object' && !Array.isArray(doc), 'cloud-config body is a map');
  return doc as Record<string, unknown>;
}

function files(doc: Record<string, unknown>): WriteFileEntry[] {
  assert.ok(Array.isArray(doc.write_files));
  return doc.write_files as WriteFileEntry[];
}

function file(doc: Record<string, unknown>, path: string): WriteFileEntry {
  const found = files(doc).filter((f) => f.path === path);
  assert.equal(found.length, 1, `exactly one write_files entry for ${path}`);
  return found[0]!;
}

const OUR_LABELS = {
  'karpenter.sh/nodepool': 'gpu',
  'karpenter.sh/capacity-type': 'on-demand',
  'karpenter.scaleway.com/instance-gpu-name': 'l4',
  'node.kubernetes.io/instance-type': 'L4-1-24G',
  'topology.kubernetes.io/zone': 'fr-par-2',
  'kubernetes.io/arch': 'amd64',
};
const REGISTER_TAINTS = [
  { key: 'nvidia.com/gpu', value: 'yes', effect: 'NoSchedule' },
  { key: 'example.com/gpu-operator-pending', effect: 'NoSchedule' },
  { key: 'karpenter.sh/unregistered', effect: 'NoExecute' },
];

describe('NodeRestriction label filtering', () => {
  it('lets the kubelet set only allowed kubernetes.io / k8s.io keys', () => {
    for (const key of ['kubernetes.io/hostname', 'kubernetes.io/arch', 'kubernetes.io/os', 'node.kubernetes.io/instance-type', 'topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone', 'beta.kubernetes.io/arch', 'kubelet.kubernetes.io/anything', 'node.kubernetes.io/custom', 'foo.node.kubernetes.io/bar', 'karpenter.sh/nodepool', 'nvidia.com/gpu.present', 'plain-key']) {
      assert.equal(kubeletMaySetLabel(key), true, key);
    }
    for (const key of ['node-role.kubernetes.io/worker', 'node-role.kubernetes.io/gpu', 'kubernetes.io/role', 'example.kubernetes.io/team', 'k8s.io/x', 'foo.k8s.io/bar', 'topology.kubernetes.io/rack']) {
      assert.equal(kubeletMaySetLabel(key), false, key);
    }
  });

  it('splits labels and keeps the restricted ones for the controller', () => {
    const { kubelet, deferred } = splitNodeLabels(node().labels);
    assert.deepEqual(kubelet, OUR_LABELS);
    assert.deepEqual(deferred, { 'example.kubernetes.io/team': 'ml', 'node-role.kubernetes.io/gpu': '' });
  });

  it('returns restricted labels as deferredLabels and keeps them off the kubelet flags in every kubelet mode', () => {
    for (const input of [kubeadmInput(), k3sInput()]) {
      const r = renderBootstrap(input);
      assert.deepEqual(r.deferredLabels, { 'example.kubernetes.io/team': 'ml', 'node-role.kubernetes.io/gpu': '' });
      assert.deepEqual(r.kubeletLabels, OUR_LABELS);
      assert.ok(!r.cloudInit.includes('node-role.kubernetes.io'), `${input.mode}: no restricted label in the cloud-init`);
      assert.ok(!r.cloudInit.includes('example.kubernetes.io'), `${input.mode}: no restricted label in the cloud-init`);
    }
  });
});

describe('kubeadm mode', () => {
  it('writes a v1beta4 JoinConfiguration with token discovery, our labels, taints and provider ID, then joins with it', () => {
    const r = renderBootstrap(kubeadmInput());
    const doc = cloudConfig(r.cloudInit);
    const joinFile = file(doc, PATHS.kubeadmJoinConfig);
    assert.equal(joinFile.permissions, '0600');
    assert.equal(joinFile.owner, 'root:root');
    const cfg = parse(joinFile.content, { version: '1.1' }) as {
      apiVersion: string;
      kind: string;
      discovery: { bootstrapToken: { apiServerEndpoint: string; token: string; caCertHashes: string[] } };
      nodeRegistration: { name: string; taints: unknown[]; kubeletExtraArgs: { name: string; value: string }[] };
    };
    assert.equal(cfg.apiVersion, 'kubeadm.k8s.io/v1beta4');
    assert.equal(cfg.kind, 'JoinConfiguration');
    assert.deepEqual(cfg.discovery.bootstrapToken, { apiServerEndpoint: '10.42.0.1:6443', token: 'x7k2pq.0123456789abcdef', caCertHashes: [CA_HASH] });
    assert.equal(cfg.nodeRegistration.name, 'gpu-l4-x7k2p');
    // "yes" must stay a string for kubeadm's YAML 1.1 reader.
    assert.deepEqual(cfg.nodeRegistration.taints, REGISTER_TAINTS);
    assert.match(joinFile.content, /value: "yes"/);
    const args = Object.fromEntries(cfg.nodeRegistration.kubeletExtraArgs.map((a) => [a.name, a.value]));
    assert.equal(args['provider-id'], PROVIDER_ID);
    assert.deepEqual(Object.fromEntries(args['node-labels']!.split(',').map((kv) => kv.split('='))), OUR_LABELS);
    assert.deepEqual(doc.runcmd, [['kubeadm', 'join', '--config', PATHS.kubeadmJoinConfig]]);
    assert.equal(doc.hostname, 'gpu-l4-x7k2p');
    assert.equal(r.providerID, PROVIDER_ID);
    assert.equal(r.providerIDAtRegistration, true);
    assert.deepEqual(r.registerTaints, REGISTER_TAINTS);
    assert.deepEqual(r.deferredTaints, []);
  });

  it('passes extra kubelet flags but refuses the ones it owns', () => {
    const ok = renderBootstrap(kubeadmInput({ kubeadm: { apiServerEndpoint: 'api.example.com:6443', token: 'x7k2pq.0123456789abcdef', caCertHashes: [CA_HASH], kubeletExtraArgs: [{ name: 'v', value: '2' }], criSocket: 'unix:///run/containerd/containerd.sock' } }));
    const cfg = parse(file(cloudConfig(ok.cloudInit), PATHS.kubeadmJoinConfig).content) as { nodeRegistration: { criSocket: string; kubeletExtraArgs: { name: string; value: string }[] } };
    assert.deepEqual(cfg.nodeRegistration.kubeletExtraArgs.at(-1), { name: 'v', value: '2' });
    assert.equal(cfg.nodeRegistration.criSocket, 'unix:///run/containerd/containerd.sock');
    assert.throws(
      () => renderBootstrap(kubeadmInput({ kubeadm: { apiServerEndpoint: '10.42.0.1:6443', token: 'x7k2pq.0123456789abcdef', caCertHashes: [CA_HASH], kubeletExtraArgs: [{ name: 'provider-id', value: 'x' }] } })),
      /gpu-l4-x7k2p \(kubeadm mode\).*--provider-id is set by scw-karpenter/,
    );
  });

  it('rejects a malformed token, CA hash or endpoint', () => {
    const bad = (k: Partial<{ apiServerEndpoint: string; token: string; caCertHashes: string[] }>): BootstrapInput =>
      kubeadmInput({ kubeadm: { apiServerEndpoint: '10.42.0.1:6443', token: 'x7k2pq.0123456789abcdef', caCertHashes: [CA_HASH], ...k } });
    assert.throws(() => renderBootstrap(bad({ token: 'X7K2PQ.0123456789abcdef' })), BootstrapError);
    assert.throws(() => renderBootstrap(bad({ caCertHashes: ['sha1:abc'] })), /CA hash/);
    assert.throws(() => renderBootstrap(bad({ caCertHashes: [] })), /pin the cluster CA/);
    assert.throws(() => renderBootstrap(bad({ apiServerEndpoint: 'https://10.42.0.1:6443' })), /host:port/);
  });
});

describe('k3s mode', () => {
  it('runs the k3s agent with K3S_URL/K3S_TOKEN from a root-only env file and one flag per label and taint', () => {
    const r = renderBootstrap(k3sInput());
    const doc = cloudConfig(r.cloudInit);
    const env = file(doc, PATHS.k3sEnv);
    assert.equal(env.permissions, '0600');
    const script = file(doc, PATHS.k3sJoinScript);
    assert.equal(script.permissions, '0700');
    assert.deepEqual(doc.runcmd, [[PATHS.k3sJoinScript]]);
    assert.match(script.content, /curl -sfL --retry 5 -o \S+ https:\/\/get\.k3s\.io\n/);
    assert.ok(script.content.includes(`--kubelet-arg=provider-id=${PROVIDER_ID}`));
    assert.ok(script.content.includes('--node-name=gpu-l4-x7k2p'));
    assert.equal(script.content.match(/--node-label=/g)?.length, Object.keys(OUR_LABELS).length);
    assert.equal(script.content.match(/--node-taint=/g)?.length, 3);
    assert.ok(!r.cloudInit.includes('pa\'ss word\n'), 'the token is quoted, never raw');
  });

  it('gives the install script exactly the intended argv and environment when run by sh', () => {
    const dir = mkdtempSync(join(tmpdir(), 'k3s-join-'));
    try {
      const doc = cloudConfig(renderBootstrap(k3sInput({ version: 'v1.33.4+k3s1', installScriptUrl: 'http://mirror.internal/k3s-install.sh' })).cloudInit);
      // Run the real script, with its absolute paths moved into a temp dir and curl faked:
      // the "installer" it fetches prints its arguments and the join environment.
      const relocate = (s: string): string => s.replaceAll('/etc/scw-karpenter/', `${dir}/`);
      writeFileSync(join(dir, 'k3s-agent.env'), file(doc, PATHS.k3sEnv).content);
      writeFileSync(join(dir, 'join.sh'), relocate(file(doc, PATHS.k3sJoinScript).content));
      writeFileSync(join(dir, 'curl'), `#!/bin/sh\nwhile [ "$1" != "-o" ]; do shift; done\necho "$3" > ${dir}/fetched-from\nprintf '%s\\n' 'for a in "$@"; do echo "ARG $a"; done' 'echo "URL $K3S_URL"' 'echo "TOKEN $K3S_TOKEN"' 'echo "VERSION $INSTALL_K3S_VERSION"' > "$2"\n`);
      chmodSync(join(dir, 'curl'), 0o755);
      const out = execFileSync('sh', [join(dir, 'join.sh')], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
      const lines = out.trim().split('\n');
      assert.deepEqual(lines.filter((l) => l.startsWith('ARG ')).map((l) => l.slice(4)), [
        'agent',
        '--node-name=gpu-l4-x7k2p',
        ...Object.entries(OUR_LABELS).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `--node-label=${k}=${v}`),
        '--node-taint=nvidia.com/gpu=yes:NoSchedule',
        '--node-taint=example.com/gpu-operator-pending:NoSchedule',
        '--node-taint=karpenter.sh/unregistered:NoExecute',
        `--kubelet-arg=provider-id=${PROVIDER_ID}`,
        // Each kubelet flag reaches k3s as one argument, commas and '<' intact.
        '--kubelet-arg=max-pods=58',
        '--kubelet-arg=kube-reserved=cpu=90m,memory=893Mi,ephemeral-storage=1Gi',
        '--kubelet-arg=system-reserved=cpu=100m,memory=512Mi',
        '--kubelet-arg=eviction-hard=memory.available<5%,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%',
      ]);
      assert.ok(lines.includes('URL https://10.42.0.1:6443'));
      assert.ok(lines.includes("TOKEN K10deadbeef::server:pa'ss word"));
      assert.ok(lines.includes('VERSION v1.33.4+k3s1'));
      assert.equal(readFileSync(join(dir, 'fetched-from'), 'utf8').trim(), 'http://mirror.internal/k3s-install.sh');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a non-https server URL', () => {
    assert.throws(() => renderBootstrap(k3sInput({ url: 'http://10.42.0.1:6443' })), /https/);
  });
});

describe('kosmos mode', () => {
  it('writes the agent registration cache 0600 and runs k8s-agent -kosmos with POOL_ID and POOL_REGION only', () => {
    const r = renderBootstrap(kosmosInput());
    const doc = cloudConfig(r.cloudInit);
    const cache = file(doc, '/etc/scw-k8s-userdata');
    assert.equal(cache.permissions, '0600');
    assert.deepEqual(JSON.parse(cache.content), { metadata_url: 'https://api.scaleway.com/k8s/v1/regions/fr-par/nodes/abc/metadata', node_secret_key: 'node-secret-0f9e8d' });
    const env = file(doc, PATHS.kosmosEnv);
    assert.equal(env.permissions, '0600');
    assert.match(env.content, /^POOL_ID=5e2b1c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e$/m);
    assert.match(env.content, /^POOL_REGION=fr-par$/m);
    // The agent demands the variable; it gets a placeholder, never a real key.
    assert.match(env.content, /^SCW_SECRET_KEY=unused-/m);
    const unit = file(doc, PATHS.kosmosUnit);
    assert.match(unit.content, /^ExecStart=\/usr\/local\/bin\/scw-k8s-agent -kosmos$/m);
    assert.match(unit.content, new RegExp(`^EnvironmentFile=${PATHS.kosmosEnv}$`, 'm'));
    const runcmd = doc.runcmd as string[][];
    assert.deepEqual(runcmd[0], ['curl', '-fsSL', '--retry', '5', '-o', PATHS.kosmosAgentBinary, 'https://github.com/scaleway/k8s-agent/releases/latest/download/k8s-agent_linux_amd64']);
    assert.deepEqual(runcmd.at(-1), ['systemctl', 'enable', '--now', 'scw-k8s-agent.service']);
  });

  it('uses a configured agent URL and reports that labels, taints and provider ID come from the pool', () => {
    const input = kosmosInput();
    input.kosmos.agentUrl = 'https://s3.fr-par.scw.cloud/mirror/k8s-agent';
    const r = renderBootstrap(input);
    assert.deepEqual((cloudConfig(r.cloudInit).runcmd as string[][])[0]?.at(-1), 'https://s3.fr-par.scw.cloud/mirror/k8s-agent');
    assert.equal(r.providerIDAtRegistration, false);
    assert.deepEqual(r.kubeletLabels, {});
    assert.deepEqual(r.deferredLabels, node().labels);
    assert.deepEqual(r.registerTaints, []);
    assert.deepEqual(r.deferredTaints, REGISTER_TAINTS.slice(0, 2));
  });
});

describe('custom mode', () => {
  const template = [
    '#cloud-config',
    'runcmd:',
    '  - /opt/join.sh --name {{ .NodeName }} --token {{.Token}} --endpoint {{ .APIServerEndpoint }} --ca {{ .CACertHash }}',
    '  - echo "{{ .KubeletArgs }}" > /etc/default/kubelet',
    'write_files:',
    '  - path: /etc/node-meta',
    '    content: "{{ .ProviderID }} {{ .Zone }} {{ .Region }} {{ .ServerID }} {{ .Labels }} {{ .Taints }}"',
    '',
  ].join('\n');
  const customInput = (t = template): BootstrapInput => ({
    mode: 'custom',
    node: node(),
    kubelet: KUBELET,
    custom: { template: t, token: 'x7k2pq.0123456789abcdef', apiServerEndpoint: '10.42.0.1:6443', caCertHashes: [CA_HASH] },
  });

  it('substitutes every documented variable and merges our node hint into the template', () => {
    const r = renderBootstrap(customInput());
    const doc = cloudConfig(r.cloudInit);
    const runcmd = doc.runcmd as string[];
    assert.equal(runcmd[0], `/opt/join.sh --name gpu-l4-x7k2p --token x7k2pq.0123456789abcdef --endpoint 10.42.0.1:6443 --ca ${CA_HASH}`);
    const labels = Object.entries(OUR_LABELS).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',');
    const taints = 'nvidia.com/gpu=yes:NoSchedule,example.com/gpu-operator-pending:NoSchedule,karpenter.sh/unregistered:NoExecute';
    const reservations = "--max-pods=58 --kube-reserved=cpu=90m,memory=893Mi,ephemeral-storage=1Gi --system-reserved=cpu=100m,memory=512Mi '--eviction-hard=memory.available<5%,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%'";
    assert.equal(runcmd[1], `echo "--node-labels=${labels} --register-with-taints=${taints} --provider-id=${PROVIDER_ID} ${reservations}" > /etc/default/kubelet`);
    assert.equal(file(doc, '/etc/node-meta').content, `${PROVIDER_ID} fr-par-2 fr-par ${SERVER_ID} ${labels} ${taints}`);
    assert.ok(file(doc, PATHS.nodeHint));
    assert.deepEqual(r.warnings, []);
    assert.equal(Object.keys(CUSTOM_TEMPLATE_VARIABLES).length, 16);
  });

  it('rejects an unknown variable, naming it and the known ones', () => {
    assert.throws(() => renderBootstrap(customInput('#cloud-config\nruncmd:\n  - echo {{ .NodeName }}\n  - echo {{ .Secret }}\n')), (err: unknown) => {
      assert.ok(err instanceof BootstrapError);
      assert.match(err.message, /line 4: unknown variable \.Secret; known: \.NodeName, \.ProviderID/);
      return true;
    });
  });

  it('rejects other template syntax, unclosed braces and variables without a value', () => {
    assert.throws(() => renderBootstrap(customInput('#cloud-config\nruncmd: ["{{ if .Token }}x{{ end }}"]\n')), /unsupported expression \{\{ if \.Token \}\}/);
    assert.throws(() => renderBootstrap(customInput('#cloud-config\nruncmd: ["{{ .NodeName"]\n')), /line 2: "\{\{" without a closing/);
    const noToken: BootstrapInput = { mode: 'custom', node: node(), kubelet: KUBELET, custom: { template: '#!/bin/sh\necho {{ .Token }} {{ .ProviderID }}\n' } };
    assert.throws(() => renderBootstrap(noToken), /\.Token has no value: set custom\.token/);
  });

  it('wraps a script template in a root-only file that cloud-init runs, and warns when the provider ID is unused', () => {
    const r = renderBootstrap({ mode: 'custom', node: node(), kubelet: KUBELET, custom: { template: '#!/bin/sh\nset -e\necho {{ .NodeName }}\n' } });
    const doc = cloudConfig(r.cloudInit);
    const script = file(doc, PATHS.customScript);
    assert.equal(script.permissions, '0700');
    assert.equal(script.content, '#!/bin/sh\nset -e\necho gpu-l4-x7k2p\n');
    assert.deepEqual(doc.runcmd, [[PATHS.customScript]]);
    assert.equal(r.warnings.length, 2);
    assert.match(r.warnings[0]!, /provider ID/);
    assert.match(r.warnings[1]!, /\{\{ \.MaxPods \}\}, \{\{ \.KubeReserved \}\}, \{\{ \.SystemReserved \}\} and \{\{ \.EvictionHard \}\}: the kubelet will not reserve/);
  });
});

describe('NodeClass userData merge', () => {
  const userData = [
    '#cloud-config',
    'package_update: true',
    'packages: [nvidia-container-toolkit, jq]',
    'runcmd:',
    '  - nvidia-ctk runtime configure --runtime=containerd',
    '  - [systemctl, restart, containerd]',
    'write_files:',
    '  - path: /etc/motd',
    '    content: GPU node',
    `  - path: ${PATHS.kubeadmJoinConfig}`,
    '    content: "hijack"',
    'hostname: not-the-node',
    'ntp:',
    '  servers: [ntp.example.com]',
    '',
  ].join('\n');

  it('appends lists with the user\'s items first, keeps their other keys, and lets our bootstrap keys win', () => {
    const r = renderBootstrap(kubeadmInput({ userData }));
    const doc = cloudConfig(r.cloudInit);
    assert.deepEqual(doc.runcmd, [
      'nvidia-ctk runtime configure --runtime=containerd',
      ['systemctl', 'restart', 'containerd'],
      ['kubeadm', 'join', '--config', PATHS.kubeadmJoinConfig],
    ]);
    assert.deepEqual(doc.packages, ['nvidia-container-toolkit', 'jq']);
    assert.equal(doc.package_update, true);
    assert.deepEqual(doc.ntp, { servers: ['ntp.example.com'] });
    assert.equal(doc.hostname, 'gpu-l4-x7k2p');
    assert.deepEqual(files(doc).map((f) => f.path), ['/etc/motd', PATHS.nodeHint, PATHS.kubeadmJoinConfig, PATHS.kubeadmKubeletPatch]);
    assert.ok(!file(doc, PATHS.kubeadmJoinConfig).content.includes('hijack'));
    assert.equal(r.warnings.length, 2);
    assert.ok(r.warnings.some((w) => w.includes(`${PATHS.kubeadmJoinConfig} dropped`)));
    assert.ok(r.warnings.some((w) => w.includes('"hostname" overridden')));
    assert.equal(parseRenderedBootstrap(r.cloudInit).kubeadm?.token, 'x7k2pq.0123456789abcdef');
  });

  it('accepts a map without the header and ignores empty user data', () => {
    const doc = cloudConfig(renderCloudInit(kubeadmInput({ userData: 'bootcmd:\n  - echo early\n' })));
    assert.deepEqual(doc.bootcmd, ['echo early']);
    assert.equal(renderCloudInit(kubeadmInput({ userData: '  \n' })), renderCloudInit(kubeadmInput()));
  });

  it('rejects user data that is not a cloud-config map, saying what it is', () => {
    assert.throws(() => renderBootstrap(kubeadmInput({ userData: '#!/bin/bash\necho hi\n' })), /NodeClass userData must be a #cloud-config document \(a YAML map\), not a shell script/);
    assert.throws(() => renderBootstrap(kubeadmInput({ userData: '#cloud-config\n- a\n- b\n' })), /but it is a list/);
    assert.throws(() => renderBootstrap(kubeadmInput({ userData: '#cloud-config\nruncmd: [unclosed\n' })), /NodeClass userData is not valid YAML/);
    assert.throws(() => renderBootstrap(kubeadmInput({ userData: '#cloud-config\nruncmd: echo hi\n' })), /"runcmd" is a string.*needs a list/);
  });
});

describe('parseRenderedBootstrap', () => {
  it('round-trips every mode from the rendered document alone', () => {
    const kubeadm = parseRenderedBootstrap(renderCloudInit(kubeadmInput()));
    assert.deepEqual(kubeadm, {
      mode: 'kubeadm',
      nodeName: 'gpu-l4-x7k2p',
      providerID: PROVIDER_ID,
      labels: OUR_LABELS,
      taints: REGISTER_TAINTS,
      kubeadm: { apiServerEndpoint: '10.42.0.1:6443', token: 'x7k2pq.0123456789abcdef', caCertHashes: [CA_HASH] },
      kubelet: KUBELET,
    });

    const k3s = parseRenderedBootstrap(renderCloudInit(k3sInput()));
    assert.equal(k3s.mode, 'k3s');
    assert.deepEqual(k3s.k3s, { url: 'https://10.42.0.1:6443', token: "K10deadbeef::server:pa'ss word" });
    assert.deepEqual(k3s.labels, OUR_LABELS);
    assert.deepEqual(k3s.taints, REGISTER_TAINTS);
    assert.equal(k3s.providerID, PROVIDER_ID);

    const kosmos = parseRenderedBootstrap(renderCloudInit(kosmosInput()));
    assert.deepEqual(kosmos.kosmos, { poolId: '5e2b1c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e', poolRegion: 'fr-par', metadataUrl: 'https://api.scaleway.com/k8s/v1/regions/fr-par/nodes/abc/metadata', nodeSecretKey: 'node-secret-0f9e8d' });
    assert.deepEqual(kosmos.labels, {});

    const custom = parseRenderedBootstrap(renderCloudInit({ mode: 'custom', node: node(), kubelet: KUBELET, custom: { template: '#!/bin/sh\necho {{ .KubeletArgs }}\n' } }));
    assert.equal(custom.mode, 'custom');
    assert.equal(custom.nodeName, 'gpu-l4-x7k2p');
    assert.equal(custom.kubeadm, undefined);
  });

  it('keeps secrets out of the node hint', () => {
    for (const input of [kubeadmInput(), k3sInput(), kosmosInput()]) {
      const hint = file(cloudConfig(renderCloudInit(input)), PATHS.nodeHint);
      assert.equal(hint.permissions, '0644');
      for (const secret of ['0123456789abcdef', 'K10deadbeef', 'node-secret-0f9e8d']) assert.ok(!hint.content.includes(secret), `${input.mode}: ${secret}`);
    }
  });

  it('refuses documents that are not ours', () => {
    assert.throws(() => parseRenderedBootstrap('#!/bin/sh\n'), /first line must be #cloud-config/);
    assert.throws(() => parseRenderedBootstrap('#cloud-config\nruncmd: []\n'), /no write_files entry for \/etc\/scw-karpenter\/node\.json/);
  });
});

describe('input validation', () => {
  it('names the node and mode when a label, zone or server ID is bad', () => {
    assert.throws(() => renderBootstrap(kubeadmInput({ node: node({ labels: { 'bad key!': 'x' } }) })), /rendering cloud-init for node gpu-l4-x7k2p \(kubeadm mode\): label key "bad key!"/);
    assert.throws(() => renderBootstrap(kubeadmInput({ node: node({ labels: { team: 'a b' } }) })), /label team: value "a b"/);
    assert.throws(() => renderBootstrap(kubeadmInput({ node: node({ zone: 'par1' }) })), /zone "par1"/);
    assert.throws(() => renderBootstrap(kubeadmInput({ node: node({ serverId: '42' }) })), /server ID "42"/);
  });

  it('registers one taint per key and effect', () => {
    const r = renderBootstrap(kubeadmInput({ node: node({ startupTaints: [{ key: 'karpenter.sh/unregistered', effect: 'NoExecute' }, { key: 'nvidia.com/gpu', value: 'yes', effect: 'NoSchedule' }] }) }));
    assert.deepEqual(r.registerTaints, [REGISTER_TAINTS[0], REGISTER_TAINTS[2]]);
  });
});

describe('kubelet configuration (maxPods, reservations, eviction thresholds) in every mode', () => {
  const fragment = { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', ...KUBELET };

  it('kubeadm: a KubeletConfiguration merge patch in the JoinConfiguration\'s patches directory', () => {
    const doc = cloudConfig(renderCloudInit(kubeadmInput()));
    const join = parse(file(doc, PATHS.kubeadmJoinConfig).content) as { patches?: { directory?: string } };
    assert.equal(join.patches?.directory, PATHS.kubeadmPatchesDir);
    // kubeadm picks patches by file name: target "kubeletconfiguration", patch type "merge".
    assert.equal(PATHS.kubeadmKubeletPatch, `${PATHS.kubeadmPatchesDir}/kubeletconfiguration+merge.yaml`);
    const patch = file(doc, PATHS.kubeadmKubeletPatch);
    assert.deepEqual(parse(patch.content), fragment);
    assert.equal(patch.permissions, '0644');
  });

  it('kubeadm: clears a cluster-wide systemReserved when the NodeClass sets none, so the node reserves only what the planner counted', () => {
    const doc = cloudConfig(renderCloudInit(kubeadmInput({ kubelet: { ...KUBELET, systemReserved: {} } })));
    const patch = parse(file(doc, PATHS.kubeadmKubeletPatch).content) as Record<string, unknown>;
    assert.equal(patch.systemReserved, null);
    assert.deepEqual(parseRenderedBootstrap(renderCloudInit(kubeadmInput({ kubelet: { ...KUBELET, systemReserved: {} } }))).kubelet.systemReserved, {});
  });

  it('kubeadm: refuses the kubelet flags the reservations own in kubeletExtraArgs', () => {
    for (const name of ['max-pods', 'kube-reserved', 'system-reserved', 'eviction-hard']) {
      assert.throws(
        () => renderBootstrap(kubeadmInput({ kubeadm: { apiServerEndpoint: '10.42.0.1:6443', token: 'x7k2pq.0123456789abcdef', caCertHashes: [CA_HASH], kubeletExtraArgs: [{ name, value: '1' }] } })),
        new RegExp(`--${name} is rendered from the NodeClass's spec.kubelet`),
      );
    }
  });

  it('kosmos: a --config-dir drop-in with the same fields', () => {
    const doc = cloudConfig(renderCloudInit(kosmosInput()));
    assert.deepEqual(parse(file(doc, PATHS.kubeletDropIn).content), fragment);
  });

  it('custom: MaxPods, KubeReserved, SystemReserved and EvictionHard as the kubelet flags take them', () => {
    const r = renderBootstrap({ mode: 'custom', node: node(), kubelet: KUBELET, custom: { template: '#cloud-config\nruncmd:\n  - [kubelet, "--provider-id={{ .ProviderID }}", "--max-pods={{ .MaxPods }}", "--kube-reserved={{ .KubeReserved }}", "--system-reserved={{ .SystemReserved }}", "--eviction-hard={{ .EvictionHard }}"]\n' } });
    assert.deepEqual(r.warnings, []);
    const runcmd = cloudConfig(r.cloudInit).runcmd as string[][];
    assert.deepEqual(runcmd[0]!.slice(2), [
      '--max-pods=58',
      '--kube-reserved=cpu=90m,memory=893Mi,ephemeral-storage=1Gi',
      '--system-reserved=cpu=100m,memory=512Mi',
      '--eviction-hard=memory.available<5%,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%',
    ]);
  });

  it('reads the same settings back from every mode\'s rendered document', () => {
    const inputs: BootstrapInput[] = [kubeadmInput(), k3sInput(), kosmosInput(), { mode: 'custom', node: node(), kubelet: KUBELET, custom: { template: '#!/bin/sh\nexec kubelet {{ .KubeletArgs }}\n' } }];
    for (const input of inputs) assert.deepEqual(parseRenderedBootstrap(renderCloudInit(input)).kubelet, KUBELET, input.mode);
  });

  it('refuses values that are not quantities or percentages, and a maxPods below one', () => {
    assert.throws(() => renderBootstrap({ ...k3sInput(), kubelet: { ...KUBELET, kubeReserved: { cpu: '1,memory=0' } } }), /kubeReserved\.cpu "1,memory=0" is not a quantity/);
    assert.throws(() => renderBootstrap({ ...kosmosInput(), kubelet: { ...KUBELET, evictionHard: { 'memory.available': '1Gi\nx' } } }), /evictionHard\.memory\.available/);
    assert.throws(() => renderBootstrap(kubeadmInput({ kubelet: { ...KUBELET, maxPods: 0 } })), /maxPods 0 is not a positive integer/);
  });
});
