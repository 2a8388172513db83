// Durable provisioning end to end, on a real Temporal server, a real control
// plane with kube-controller-manager, the Scaleway simulator through the SDK,
// and the simulated kubelet joining through kubeadm's TLS bootstrap.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { clusterPath, getNode } from '../../kube/objects.ts';
import { KubeError, type KubeRest } from '../../kube/rest.ts';
import { NODECLAIM_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { parseProviderId } from '../../kube/api/provider-id.ts';
import { conditionOf, eventually, getNodeClaim, nodeClaimObject, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';
import { captureOutput, capturedOutput, collectHistories, findSecrets, historyTexts } from '../harness/leaks.ts';
import { startCodecServer } from '../../runtime/codec-server.ts';
import { replayHistories } from '../../worker/replay.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { toolPath } from '../../sandbox/tools.ts';
import { fileURLToPath } from 'node:url';
import { request as httpsRequest } from 'node:https';

captureOutput();
const execFileAsync = promisify(execFile);

/** The apiserver's answer to a request authenticated by a bearer token. */
function apiserverStatusWithToken(stack: ProvisioningStack, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${stack.controlPlane.server}/api`, { ca: readFileSync(stack.controlPlane.pki.caCert), headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

const GPU_REQUEST = { 'nvidia.com/gpu': '1', cpu: '2', memory: '8Gi' };

describe('durable provisioning of a NodeClaim', () => {
  let stack: ProvisioningStack;
  before(async () => {
    stack = await useProvisioningStack();
    await stack.product.adminKube.post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
  });

  async function provisionToReady(name: string, requirements: unknown[]): Promise<void> {
    await stack.product.adminKube.post(clusterPath(NODECLAIM_GVR), nodeClaimObject(name, { nodeClass: 'gpu', requirements, requests: GPU_REQUEST }));
    await eventually(`${name} Ready`, async () => {
      const nc = await getNodeClaim(stack, name);
      const ready = conditionOf(nc, 'Ready');
      if (conditionOf(nc, 'Launched')?.status === 'False') throw new Error(`launch failed: ${JSON.stringify(nc?.status.conditions)}`);
      return ready?.status === 'True' ? true : undefined;
    });
  }

  it('runs the worker and the watcher as their ServiceAccounts, held to the chart\'s roles, the watcher\'s Lease in the release namespace', async () => {
    const whoAmI = async (kube: KubeRest): Promise<string> =>
      (await kube.post<{ status: { userInfo: { username: string } } }>('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' })).status.userInfo.username;
    assert.equal(await whoAmI(stack.product.workerKube), 'system:serviceaccount:scw-karpenter:scw-karpenter-worker');
    assert.equal(await whoAmI(stack.product.watcherKube), 'system:serviceaccount:scw-karpenter:scw-karpenter-watcher');
    const refused = (call: Promise<unknown>): Promise<number> => call.then(() => 200, (err: unknown) => (err instanceof KubeError ? err.status : 0));
    assert.equal(await refused(stack.product.workerKube.post(clusterPath(NODECLAIM_GVR), nodeClaimObject('not-the-workers-job', { nodeClass: 'gpu' }))), 403, 'the worker creates no NodeClaims');
    assert.equal(await refused(stack.product.watcherKube.get('/api/v1/namespaces/kube-system/secrets')), 403, 'the watcher reads no bootstrap tokens');
    const lease = await stack.product.adminKube.get<{ spec: { holderIdentity?: string } }>(`/apis/coordination.k8s.io/v1/namespaces/${stack.product.leaseNamespace}/leases/scw-karpenter-watcher`);
    assert.equal(stack.product.leaseNamespace, 'scw-karpenter');
    assert.ok(lease.spec.holderIdentity, 'the watcher holds the Lease');
  });

  it('brings an L4 NodeClaim to Ready: one tagged server, providerID, labels, capacity, finalizer, joined node', async () => {
    await provisionToReady('gpu-l4-a', [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4'] }]);
    const nc = await getNodeClaim(stack, 'gpu-l4-a');
    assert.ok(nc);
    const ref = parseProviderId(nc.status.providerID ?? '');
    assert.ok(ref, `providerID ${nc.status.providerID}`);
    assert.equal(ref.zone, 'fr-par-2');
    // The cheapest L4 type that fits one GPU.
    assert.equal(nc.metadata.labels?.['node.kubernetes.io/instance-type'], 'L4-1-24G');
    assert.equal(nc.metadata.labels?.['karpenter.scaleway.com/instance-gpu-name'], 'l4');
    assert.equal(nc.metadata.labels?.['karpenter.sh/capacity-type'], 'on-demand');
    assert.equal(nc.status.capacity?.['nvidia.com/gpu'], '1');
    assert.ok(nc.metadata.finalizers?.includes('karpenter.sh/termination'));
    assert.equal(nc.metadata.annotations?.['karpenter.scaleway.com/workflow-id'], `provision/gpu-l4-a/${nc.metadata.uid}`);
    for (const type of ['Launched', 'Registered', 'Initialized']) assert.equal(conditionOf(nc, type)?.status, 'True', type);

    const servers = stack.simulator.servers('fr-par-2').filter((s) => (s.tags as string[]).includes(`karpenter.scaleway.com/nodeclaim-uid=${nc.metadata.uid}`));
    assert.equal(servers.length, 1);
    assert.equal(servers[0]?.id, ref.serverId);
    assert.equal(servers[0]?.name, 'gpu-l4-a');
    assert.deepEqual(
      (servers[0]?.tags as string[]).filter((t) => t.startsWith('karpenter.scaleway.com/')).sort(),
      ['karpenter.scaleway.com/cluster=sandbox', 'karpenter.scaleway.com/managed', 'karpenter.scaleway.com/nodeclaim-uid=' + nc.metadata.uid, 'karpenter.scaleway.com/nodeclaim=gpu-l4-a', 'karpenter.scaleway.com/nodepool=gpu'].sort(),
    );

    const node = await getNode(stack.product.adminKube, nc.status.nodeName ?? '');
    assert.ok(node, 'the Node exists');
    assert.equal(node.spec.providerID, nc.status.providerID);
    assert.equal(node.metadata.labels?.['karpenter.sh/registered'], 'true');
    assert.equal(node.metadata.labels?.['karpenter.sh/initialized'], 'true');
    assert.equal(node.metadata.labels?.['karpenter.sh/instance-type'], 'l4', 'the seed alias label');
    assert.ok(!node.spec.taints.some((t) => t.key === 'karpenter.sh/unregistered'), 'unregistered taint removed');
    assert.equal(node.status.allocatable['nvidia.com/gpu'], '1');

    // The join token is dead once the node joined: its Secret is gone, so the token the kubeadm
    // user data still holds (left there to save a call) no longer authenticates.
    const tokens = await stack.product.adminKube.get<{ items: unknown[] }>(`/api/v1/namespaces/kube-system/secrets?labelSelector=${encodeURIComponent(`karpenter.scaleway.com/nodeclaim-uid=${nc.metadata.uid}`)}`);
    assert.equal(tokens.items.length, 0);
    const cloudInit = await (await fetch(`${stack.simulator.url}/instance/v1/zones/fr-par-2/servers/${ref.serverId}/user_data/cloud-init`, { headers: { 'X-Auth-Token': TEST_CREDENTIALS.secretKey } })).text();
    const token = /\b([a-z0-9]{6}\.[a-z0-9]{16})\b/.exec(cloudInit)?.[1];
    assert.ok(token, 'the kubeadm cloud-init carries its bootstrap token');
    // The apiserver caches a successful token check for 10 s: the revocation shows within that.
    await eventually('the token in the user data to be refused', async () => ((await apiserverStatusWithToken(stack, token)) === 401 ? true : undefined), 30_000);
  });

  it('brings an H100-SXM NodeClaim to Ready on an H100-SXM type', async () => {
    await provisionToReady('gpu-h100-sxm', [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['h100-sxm'] }]);
    const nc = await getNodeClaim(stack, 'gpu-h100-sxm');
    assert.match(nc?.metadata.labels?.['node.kubernetes.io/instance-type'] ?? '', /^H100-SXM-/);
    assert.equal(nc?.metadata.labels?.['karpenter.scaleway.com/instance-gpu-name'], 'h100-sxm');
  });

  it('joins a k3s cluster with the token from the referenced Secret', async () => {
    await stack.product.adminKube.post('/api/v1/namespaces/kube-system/secrets', {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'k3s-join', namespace: 'kube-system' }, stringData: { token: 'K10example::server:3f9c1d2e7a' },
    });
    await stack.product.adminKube.post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('k3s', {
      bootstrap: { mode: 'k3s', k3s: { serverURL: 'https://k3s.cluster.internal:6443', tokenSecretRef: { name: 'k3s-join', namespace: 'kube-system' } } },
    }));
    await stack.product.adminKube.post(clusterPath(NODECLAIM_GVR), nodeClaimObject('gpu-k3s', { nodeClass: 'k3s', requirements: [], requests: GPU_REQUEST }));
    await eventually('gpu-k3s Ready', async () => (conditionOf(await getNodeClaim(stack, 'gpu-k3s'), 'Ready')?.status === 'True' ? true : undefined));
    assert.ok(stack.product.kubelet.joinSecrets.has('K10example::server:3f9c1d2e7a'), 'the node joined with the token of the Secret');
    // The k3s token outlives the join: once joined, the server's user data is deleted.
    const ref = parseProviderId((await getNodeClaim(stack, 'gpu-k3s'))?.status.providerID ?? '');
    assert.ok(ref);
    const userData = await fetch(`${stack.simulator.url}/instance/v1/zones/${ref.zone}/servers/${ref.serverId}/user_data`, { headers: { 'X-Auth-Token': TEST_CREDENTIALS.secretKey } });
    assert.deepEqual(((await userData.json()) as { user_data: string[] }).user_data, []);
  });

  it('keeps join tokens and the Scaleway secret out of every history and log, and every history replays', async () => {
    const histories = await collectHistories(stack.product.worker.client);
    assert.ok(histories.length >= 2, `${histories.length} histories`);
    const secrets = [...stack.product.kubelet.joinSecrets, TEST_CREDENTIALS.secretKey];
    assert.ok(stack.product.kubelet.joinSecrets.size >= 3, 'the join tokens the nodes used are known to the scan');
    const logs = [...stack.controlPlane.processes, stack.temporal.process].map((p) => ({ label: p.logFile, text: readFileSync(p.logFile, 'utf8') }));
    const hits = findSecrets(secrets, [
      // Stored (encrypted) and decoded: encryption must not hide a secret from the scan.
      ...historyTexts(histories),
      ...logs,
      { label: 'test output', text: capturedOutput() },
    ]);
    assert.deepEqual(hits, []);

    assert.deepEqual(histories.flatMap((h) => h.decodeFailures), []);
    const outcomes = await replayHistories(histories, stack.product.payloadCodec);
    assert.deepEqual(outcomes.filter((o) => o.error).map((o) => `${o.workflowId}: ${o.error?.message ?? ''}`), []);
    assert.equal(outcomes.length, histories.length);

    // SCWK_RECORD_HISTORIES=1 refreshes the committed histories that the replay guard test replays.
    // Exported with the temporal CLI, in the format users hand to `npm run replay`.
    if (process.env.SCWK_RECORD_HISTORIES) {
      const dir = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
      mkdirSync(dir, { recursive: true });
      // Decrypted through a codec server: the committed histories are plain, and replay without a key.
      const codecServer = await startCodecServer({ codec: stack.product.payloadCodec, allowedOrigins: [] });
      for (const h of histories) {
        // Not execFileSync: the codec server answering the CLI runs on this process's event loop.
        const { stdout: json } = await execFileAsync(toolPath('temporal'), ['workflow', 'show', '-w', h.workflowId, '--output', 'json', '--address', stack.temporal.address, '--codec-endpoint', codecServer.url], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        writeFileSync(`${dir}${h.workflowId.split('/').slice(0, 2).join('-')}.json`, json);
      }
      await codecServer.close();
    }
  });
});
