// Payload encryption on the real stack: what the Temporal server stores is
// ciphertext (every payload `binary/encrypted`, failure messages included, no
// NodeClaim name in plain bytes), while the product's clients read results and
// the `status` query, the secret scan reads the decoded histories, the replay
// decrypts them, and the temporal CLI decodes through the codec server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { clusterPath } from '../../kube/objects.ts';
import { NODECLAIM_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';
import { toolPath } from '../../sandbox/tools.ts';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, isEncrypted, metadataText, temporalDataConverter } from '../../runtime/payload-codec.ts';
import { generateCodecKeys } from '../../runtime/codec-key.ts';
import { startTemporalDevServer } from '../../sandbox/temporal-dev-server.ts';
import { freePort } from '../../sandbox/ports.ts';
import { isSearchAttribute, payloadsOf } from '../../runtime/history-payloads.ts';
import { payloadsFromJson, payloadsToJson, startCodecServer } from '../../runtime/codec-server.ts';
import { WORKFLOW_PATCH, statusQuery } from '../../workflows/contract.ts';
import { isEncryptedHistory, readHistoryFile, replayHistories } from '../../worker/replay.ts';
import { conditionOf, eventually, getNodeClaim, nodeClaimObject, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';
import { onTeardown, tempDir } from '../harness/stack.ts';
import { captureOutput, capturedOutput, collectHistories, kubeconfigSecrets, scanForSecrets, type CollectedHistory } from '../harness/leaks.ts';

captureOutput();
// Not execFileSync: the codec server answering the CLI runs on this process's event loop.
const execFileAsync = promisify(execFile);

const GPU_REQUEST = { 'nvidia.com/gpu': '1', cpu: '2', memory: '8Gi' };
const READY = 'codec-ready-node';
const REFUSED = 'codec-refused-node';

/** Every object in `value` that is a Temporal Failure carrying application info (ours, not the server's). */
function applicationFailures(value: unknown): { message?: string; encodedAttributes?: unknown }[] {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return [];
  const here = 'applicationFailureInfo' in value && 'message' in value ? [value as { message?: string }] : [];
  return [...here, ...Object.values(value).flatMap(applicationFailures)];
}

const isLocalActivityMarkerData = (path: string): boolean => /markerRecordedEventAttributes\.details\.data\./.test(path);
const isPatchMarkerData = (path: string): boolean => /markerRecordedEventAttributes\.details\.patch-data\./.test(path);
const DECLARED_PATCHES: readonly string[] = Object.values(WORKFLOW_PATCH);

/** The failure messages of a decoded history: each failure's encoded attributes, a JSON {message, stack_trace}. */
function failureMessages(decodedJson: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    const attrs = (v as { encodedAttributes?: { data?: string } }).encodedAttributes;
    if (attrs?.data) out.push((JSON.parse(attrs.data) as { message: string }).message);
    Object.values(v).forEach(walk);
  };
  walk(JSON.parse(decodedJson));
  return out;
}

describe('payload encryption on the real stack', () => {
  let stack: ProvisioningStack;
  let histories: CollectedHistory[];
  before(async () => {
    stack = await useProvisioningStack();
    await stack.product.adminKube.post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
    await stack.product.adminKube.post(clusterPath(NODECLAIM_GVR), nodeClaimObject(READY, { nodeClass: 'gpu', requests: GPU_REQUEST }));
    await eventually(`${READY} Ready`, async () => (conditionOf(await getNodeClaim(stack, READY), 'Ready')?.status === 'True' ? true : undefined));
    // A refusal no retry fixes: the bootstrap activity fails, so the history records an application failure.
    stack.simulator.faults.failNext({ kind: 'setServerUserData', error: 'invalid_arguments', times: 1 });
    await stack.product.adminKube.post(clusterPath(NODECLAIM_GVR), nodeClaimObject(REFUSED, { nodeClass: 'gpu', requests: GPU_REQUEST }));
    await eventually(`${REFUSED} rolled back and gone`, async () => ((await getNodeClaim(stack, REFUSED)) === undefined ? true : undefined), 90_000);
    histories = await collectHistories(stack.product.worker.client);
  });

  const provisioning = (name: string): CollectedHistory => {
    const found = histories.find((h) => h.workflowId.startsWith(`provision/${name}/`));
    assert.ok(found, `a provisioning history for ${name} (have ${histories.map((h) => h.workflowId).join(', ')})`);
    return found;
  };

  it('stores every payload encrypted, with no NodeClaim name in plain bytes', () => {
    for (const h of [provisioning(READY), provisioning(REFUSED)]) {
      const all = payloadsOf(h.history);
      // A local activity's marker keeps the SDK's own bookkeeping (sequence, attempt, activity type) in
      // a `data` detail that the SDK core writes without a codec; its result is in `result`, encrypted.
      // A patch marker (`patched()`) holds the patch ID in plain JSON, also written by the core; it must
      // be one of the IDs the workflows declare, which name a code change and nothing of a NodeClaim.
      const patchData = all.filter((p) => isPatchMarkerData(p.path)).map((p) => (JSON.parse(Buffer.from(p.payload.data ?? []).toString('utf8')) as { id?: unknown }).id);
      for (const id of patchData) assert.ok(typeof id === 'string' && DECLARED_PATCHES.includes(id), `${h.workflowId}: patch marker ${String(id)} is a declared patch`);
      const payloads = all.filter((p) => !isSearchAttribute(p) && !isLocalActivityMarkerData(p.path) && !isPatchMarkerData(p.path));
      assert.ok(payloads.length > 5, `${h.workflowId}: ${payloads.length} payloads`);
      const plain = payloads.filter((p) => !isEncrypted(p.payload)).map((p) => `${p.path} (${metadataText(p.payload, 'encoding')})`);
      assert.deepEqual(plain, [], `${h.workflowId}: payloads stored in plain text`);
      for (const p of payloads) assert.equal(metadataText(p.payload, 'encoding'), ENCRYPTED_ENCODING);
      // No payload at all, the SDK's bookkeeping included, holds a NodeClaim name in plain bytes.
      for (const p of all) {
        const bytes = Buffer.from(p.payload.data ?? []).toString('latin1');
        for (const name of [READY, REFUSED]) assert.ok(!bytes.includes(name), `${h.workflowId} ${p.path} holds ${name} in plain bytes`);
      }
      assert.deepEqual(h.decodeFailures, []);
    }
    // The exemption is not vacuous: the Ready provisioning went through the Launched-on-create patch.
    assert.ok(payloadsOf(provisioning(READY).history).some((p) => isPatchMarkerData(p.path)), 'the Ready history records its patch marker');
    // Decoded, the same histories do hold the names: the scan of decoded histories reads real content.
    assert.ok(provisioning(READY).decodedJson.includes(READY));
  });

  it('encrypts failure messages too: the stored failure says only "Encoded failure"', () => {
    const h = provisioning(REFUSED);
    const stored = applicationFailures(h.history);
    assert.ok(stored.length >= 1, 'the refused bootstrap left an application failure in the history');
    for (const failure of stored) {
      assert.equal(failure.message, 'Encoded failure');
      assert.ok(failure.encodedAttributes, 'the message and stack trace are in an encrypted payload');
    }
    // The real messages, from the decoded history, appear nowhere in the stored one.
    const messages = failureMessages(h.decodedJson);
    assert.ok(messages.length >= 1 && messages.every((m) => m.length > 10), `decoded failure messages: ${JSON.stringify(messages)}`);
    for (const message of messages) assert.ok(!h.json.includes(message), `the stored history holds the failure message "${message}"`);
  });

  it('lets the product\'s clients read results and the status query, and refuses a client without the key', async () => {
    const id = provisioning(READY).workflowId;
    const client = stack.product.worker.client;
    const result = await client.workflow.getHandle(id).result() as { outcome: string; nodeName?: string };
    assert.equal(result.outcome, 'Ready');
    const status = await client.workflow.getHandle(id).query(statusQuery);
    assert.ok(status && typeof status === 'object', 'the status query answers');

    const connection = await Connection.connect({ address: stack.temporal.address });
    onTeardown(() => connection.close());
    const keyless = new Client({ connection, namespace: stack.temporal.namespace });
    await assert.rejects(keyless.workflow.getHandle(id).result(), /binary\/encrypted|encoding/i);
    const withKey = new Client({ connection, namespace: stack.temporal.namespace, dataConverter: temporalDataConverter(stack.product.payloadCodec) });
    assert.equal(((await withKey.workflow.getHandle(id).result()) as { outcome: string }).outcome, 'Ready');
  });

  it('finds no secret in the stored or decoded histories, the logs or the Events', async () => {
    const events = (await stack.product.adminKube.get<{ items: unknown[] }>('/api/v1/events')).items;
    assert.ok(events.length > 0);
    const secrets = [...stack.product.kubelet.joinSecrets, TEST_CREDENTIALS.secretKey, ...kubeconfigSecrets(readFileSync(stack.controlPlane.kubeconfig, 'utf8'))];
    assert.ok(stack.product.kubelet.joinSecrets.size >= 1);
    const logs = [...stack.controlPlane.processes, stack.temporal.process].map((p) => ({ label: p.logFile, text: readFileSync(p.logFile, 'utf8') }));
    const hits = await scanForSecrets({ client: stack.product.worker.client, logs: [...logs, { label: 'test output', text: capturedOutput() }], events, secrets });
    assert.deepEqual(hits, []);
    // The scan is not blind: a secret planted in an Event is found.
    const planted = await scanForSecrets({ client: stack.product.worker.client, logs: [], events: [{ metadata: { name: 'x' }, message: TEST_CREDENTIALS.secretKey }], secrets });
    assert.equal(planted.length, 1);
  });

  it('replays the encrypted histories with the key, and says the key is missing without it', async () => {
    assert.ok(isEncryptedHistory(provisioning(READY).history));
    const outcomes = await replayHistories(histories, stack.product.payloadCodec);
    assert.deepEqual(outcomes.filter((o) => o.error).map((o) => `${o.workflowId}: ${o.error?.message ?? ''}`), []);
    assert.equal(outcomes.length, histories.length);
    await assert.rejects(replayHistories(histories), /encrypted; replay needs their key/);
  });

  it('decodes through the codec server: `temporal workflow show --codec-endpoint` prints a plain history that replays', async () => {
    const server = await startCodecServer({ codec: stack.product.payloadCodec, allowedOrigins: [], namespaces: [stack.temporal.namespace] });
    onTeardown(() => server.close());
    const id = provisioning(READY).workflowId;
    const show = async (extra: string[]): Promise<string> =>
      (await execFileAsync(toolPath('temporal'), ['workflow', 'show', '-w', id, '--output', 'json', '--address', stack.temporal.address, ...extra], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout;
    const file = join(tempDir('codec-show'), 'history.json');
    writeFileSync(file, await show(['--codec-endpoint', server.url]));
    const history = readHistoryFile(file);
    assert.equal(isEncryptedHistory(history), false, 'the CLI decoded every payload through the codec server');
    assert.ok(payloadsOf(history).some((p) => Buffer.from(p.payload.data ?? []).toString('utf8').includes(READY)), 'the decoded payloads hold the NodeClaim');
    const [outcome] = await replayHistories([{ workflowId: id, history }]);
    assert.equal(outcome?.error, undefined);
    // Without the codec server the CLI prints ciphertext.
    const raw = join(tempDir('codec-raw'), 'history.json');
    writeFileSync(raw, await show([]));
    assert.equal(isEncryptedHistory(readHistoryFile(raw)), true);
  });
});

describe('the Web UI and the codec server, as npm start wires them', () => {
  it('gives the Web UI the codec endpoint, which answers the Web UI origin\'s preflight and decodes', async () => {
    const codec = new AesGcmPayloadCodec(generateCodecKeys());
    const uiPort = await freePort();
    const uiOrigin = `http://127.0.0.1:${uiPort}`;
    const server = await startCodecServer({ codec, allowedOrigins: [uiOrigin] });
    onTeardown(() => server.close());
    const temporal = await startTemporalDevServer({ dir: tempDir('codec-ui'), persist: false, uiPort, codecEndpoint: server.url });
    onTeardown(() => temporal.stop());
    const settings = await eventually('the Web UI to answer', async () => (await fetch(`${temporal.uiUrl}/api/v1/settings`)).json() as Promise<{ Codec?: { Endpoint?: string } }>, 30_000, 500);
    assert.equal(settings.Codec?.Endpoint, server.url);
    const preflight = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { Origin: uiOrigin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' } });
    assert.equal(preflight.headers.get('access-control-allow-origin'), uiOrigin);
    const encrypted = await codec.encode([defaultPayloadConverter.toPayload('gpu-l4-a')]);
    const res = await fetch(`${server.url}/decode`, { method: 'POST', headers: { Origin: uiOrigin, 'X-Namespace': temporal.namespace, 'Content-Type': 'application/json' }, body: JSON.stringify(payloadsToJson(encrypted)) });
    assert.equal(defaultPayloadConverter.fromPayload(payloadsFromJson(await res.json())[0] ?? {}), 'gpu-l4-a');
  });
});
