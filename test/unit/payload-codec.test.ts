// The payload codec and its keys: round trip, tampering, wrong keys, rotation,
// plain payloads passing through, and where keys are read from.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, isEncrypted, metadataText } from '../../runtime/payload-codec.ts';
import { codecKeysEnv, generateCodecKeys, loadCodecKeys, parseCodecKey, parsePreviousKeys, payloadCodecFromSettings, type CodecKeys } from '../../runtime/codec-key.ts';
import { loadCodecSettings, describeConfig, loadConfig } from '../../runtime/config.ts';
import type { KubeRest } from '../../kube/rest.ts';
import { decodeHistoryPayloads, historyText, payloadsOf } from '../../runtime/history-payloads.ts';

const toPayload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);
const key = (id: string): CodecKeys['current'] => ({ id, key: randomBytes(32) });
const noKube = (): KubeRest => assert.fail('no Kubernetes call expected');

describe('AES-GCM payload codec', () => {
  const keys: CodecKeys = { current: key('k1'), previous: [] };
  const codec = new AesGcmPayloadCodec(keys);
  const value = { nodeClaim: 'gpu-l4-a', token: 'abcdef.0123456789abcdef' };

  it('round-trips payloads, with metadata naming the encoding and the key, and no plain bytes', async () => {
    const [encoded] = await codec.encode([toPayload(value)]);
    assert.ok(encoded);
    assert.equal(metadataText(encoded, 'encoding'), ENCRYPTED_ENCODING);
    assert.equal(metadataText(encoded, KEY_ID_METADATA), 'k1');
    assert.ok(!Buffer.from(encoded.data ?? []).toString('latin1').includes('gpu-l4-a'));
    const [decoded] = await codec.decode([encoded]);
    assert.ok(decoded);
    assert.deepEqual(fromPayload(decoded), value);
    assert.equal(metadataText(decoded, 'encoding'), 'json/plain');
  });

  it('uses a fresh IV for each payload: the same value encrypts differently', async () => {
    const [a, b] = await codec.encode([toPayload(value), toPayload(value)]);
    assert.notDeepEqual(a?.data, b?.data);
  });

  it('keeps undefined and binary payloads intact', async () => {
    const inputs = [toPayload(undefined), toPayload(new Uint8Array([0, 1, 2, 255])), toPayload('')];
    const decoded = await codec.decode(await codec.encode(inputs));
    assert.deepEqual(decoded.map(fromPayload), [undefined, new Uint8Array([0, 1, 2, 255]), '']);
  });

  it('refuses a tampered payload', async () => {
    const [encoded] = await codec.encode([toPayload(value)]);
    assert.ok(encoded?.data);
    const data = new Uint8Array(encoded.data);
    data[20] = (data[20] ?? 0) ^ 1;
    await assert.rejects(codec.decode([{ ...encoded, data }]), /authentication failed/);
    await assert.rejects(codec.decode([{ ...encoded, data: data.subarray(0, 10) }]), /too short/);
  });

  it('refuses a payload relabelled with another configured key ID, and one encrypted with a wrong key', async () => {
    const other = new AesGcmPayloadCodec({ current: { id: 'k1', key: randomBytes(32) }, previous: [] });
    const [foreign] = await other.encode([toPayload(value)]);
    assert.ok(foreign);
    await assert.rejects(codec.decode([foreign]), /authentication failed/);
    const both = new AesGcmPayloadCodec({ current: keys.current, previous: [key('k0')] });
    const [mine] = await both.encode([toPayload(value)]);
    assert.ok(mine);
    const relabelled = { ...mine, metadata: { ...mine.metadata, [KEY_ID_METADATA]: new TextEncoder().encode('k0') } };
    await assert.rejects(both.decode([relabelled]), /authentication failed/);
  });

  it('refuses a payload whose key is not configured, naming the key', async () => {
    const stranger = new AesGcmPayloadCodec({ current: key('k9'), previous: [] });
    const [encoded] = await stranger.encode([toPayload(value)]);
    assert.ok(encoded);
    await assert.rejects(codec.decode([encoded]), /key "k9", which is not configured \(configured: k1\)/);
  });

  it('rotates: encodes with the current key, decodes with every configured key', async () => {
    const [old] = await codec.encode([toPayload(value)]);
    assert.ok(old);
    const rotated = new AesGcmPayloadCodec({ current: key('k2'), previous: [keys.current] });
    const [fresh] = await rotated.encode([toPayload(value)]);
    assert.ok(fresh);
    assert.equal(metadataText(fresh, KEY_ID_METADATA), 'k2');
    assert.deepEqual((await rotated.decode([old, fresh])).map(fromPayload), [value, value]);
    await assert.rejects(codec.decode([fresh]), /not configured/);
  });

  it('passes plain payloads through decode: histories recorded before encryption still read', async () => {
    const plain = toPayload(value);
    const [decoded] = await codec.decode([plain]);
    assert.equal(decoded, plain);
    assert.ok(!isEncrypted(plain));
  });
});

describe('codec keys', () => {
  const base64 = randomBytes(32).toString('base64');

  it('parses a base64 key, with a fingerprint ID by default, and refuses keys that are not 32 bytes', () => {
    const parsed = parseCodecKey(base64, 'PAYLOAD_CODEC_KEY');
    assert.match(parsed.id, /^sha256-[0-9a-f]{12}$/);
    assert.equal(parseCodecKey(base64, 'X').id, parsed.id, 'the same key gets the same ID in every process');
    assert.equal(parseCodecKey(base64, 'X', 'prod-2026').id, 'prod-2026');
    assert.throws(() => parseCodecKey(randomBytes(16).toString('base64'), 'PAYLOAD_CODEC_KEY'), /PAYLOAD_CODEC_KEY must be the base64 of 32 random bytes/);
    assert.throws(() => parseCodecKey(`${base64.slice(0, 10)}!!${base64.slice(12)}`, 'PAYLOAD_CODEC_KEY'), /base64 of 32/);
    assert.throws(() => parseCodecKey(base64, 'X', 'bad id'), /key ID/);
  });

  it('never puts the key in an error message', () => {
    const wrong = randomBytes(31).toString('base64');
    assert.throws(() => parseCodecKey(wrong, 'PAYLOAD_CODEC_KEY'), (err: Error) => !err.message.includes(wrong));
  });

  it('parses previous keys with and without IDs', () => {
    const other = randomBytes(32).toString('base64');
    const keys = parsePreviousKeys(` old=${base64}, ${other} `, 'PAYLOAD_CODEC_PREVIOUS_KEYS');
    assert.deepEqual(keys.map((k) => k.id), ['old', parseCodecKey(other, 'x').id]);
    assert.deepEqual(parsePreviousKeys(undefined, 'x'), []);
  });

  it('loads from the environment, and round-trips through the environment given to a child process', async () => {
    const generated = generateCodecKeys();
    const env = codecKeysEnv({ ...generated, previous: [key('old')] });
    const loaded = await loadCodecKeys(loadCodecSettings(env), noKube);
    assert.ok(loaded);
    assert.equal(loaded.current.id, generated.current.id);
    assert.deepEqual(loaded.current.key, generated.current.key);
    assert.deepEqual(loaded.previous.map((k) => k.id), ['old']);
    assert.equal(await loadCodecKeys(loadCodecSettings({}), noKube), undefined);
    await assert.rejects(loadCodecKeys(loadCodecSettings({ PAYLOAD_CODEC_KEY: base64, PAYLOAD_CODEC_KEY_SECRET: 'a/b' }), noKube), /not both/);
  });

  it('loads from a Kubernetes Secret holding the key as raw bytes or as base64 text', async () => {
    const raw = randomBytes(32);
    const asBase64Text = Buffer.from(raw.toString('base64')).toString('base64');
    for (const stored of [raw.toString('base64'), asBase64Text]) {
      const paths: string[] = [];
      const kube = {
        get: (path: string) => {
          paths.push(path);
          return Promise.resolve({ data: { key: stored, keyId: Buffer.from('from-secret').toString('base64') } });
        },
      } as unknown as KubeRest;
      const keys = await loadCodecKeys(loadCodecSettings({ PAYLOAD_CODEC_KEY_SECRET: 'scw-karpenter/codec' }), () => kube);
      assert.deepEqual(paths, ['/api/v1/namespaces/scw-karpenter/secrets/codec']);
      assert.equal(keys?.current.id, 'from-secret');
      assert.deepEqual(keys.current.key, raw);
    }
  });

  it('refuses to start when a configured Secret cannot be read, or when a key is required and missing', async () => {
    const failing = { get: () => Promise.reject(new Error('403 Forbidden')) } as unknown as KubeRest;
    await assert.rejects(payloadCodecFromSettings(loadCodecSettings({ PAYLOAD_CODEC_KEY_SECRET: 'ns/codec' }), () => failing, 'test'), /reading the payload codec key from Secret ns\/codec: 403/);
    await assert.rejects(loadCodecKeys(loadCodecSettings({ PAYLOAD_CODEC_KEY_SECRET: 'just-a-name' }), noKube), /<namespace>\/<name>/);
    await assert.rejects(payloadCodecFromSettings(loadCodecSettings({ PAYLOAD_CODEC_REQUIRED: 'true' }), noKube, 'test'), /PAYLOAD_CODEC_REQUIRED/);
  });

  it('keeps the codec keys out of the logged configuration', () => {
    const config = loadConfig({
      SCW_ACCESS_KEY: 'SCWXXXXXXXXXXXXXXXXX',
      SCW_SECRET_KEY: '11111111-1111-1111-1111-111111111111',
      SCW_DEFAULT_PROJECT_ID: '22222222-2222-2222-2222-222222222222',
      PAYLOAD_CODEC_KEY: base64,
      PAYLOAD_CODEC_PREVIOUS_KEYS: `old=${base64}`,
    });
    assert.ok(!JSON.stringify(describeConfig(config)).includes(base64.slice(0, 20)));
  });
});

describe('history payloads', () => {
  it('finds, decodes and prints the payloads of a history, bytes as text', async () => {
    const codec = new AesGcmPayloadCodec(generateCodecKeys());
    const [input] = await codec.encode([toPayload({ nodeClaim: 'gpu-secret-name' })]);
    const history = { events: [{ eventId: 1, workflowExecutionStartedEventAttributes: { input: { payloads: [input] }, searchAttributes: { indexedFields: { NodeClaim: toPayload('gpu-secret-name') } } } }] };
    const found = payloadsOf(history);
    assert.deepEqual(found.map((f) => f.path), ['events.0.workflowExecutionStartedEventAttributes.input.payloads.0', 'events.0.workflowExecutionStartedEventAttributes.searchAttributes.indexedFields.NodeClaim']);
    const { decoded, failures } = await decodeHistoryPayloads(history, codec);
    assert.deepEqual(failures, []);
    assert.match(historyText(decoded), /"data":"\{\\"nodeClaim\\":\\"gpu-secret-name\\"\}"/);
    assert.ok(!historyText(history.events[0]?.workflowExecutionStartedEventAttributes.input).includes('gpu-secret-name'));
    const stranger = new AesGcmPayloadCodec(generateCodecKeys());
    assert.equal((await decodeHistoryPayloads(history, stranger)).failures.length, 1);
  });
});
