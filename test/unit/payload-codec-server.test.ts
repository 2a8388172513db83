// The codec server over real HTTP, as the Web UI and the temporal CLI call it:
// proto3 JSON (every bytes field base64), CORS for the Web UI's origin only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING } from '../../runtime/payload-codec.ts';
import { generateCodecKeys } from '../../runtime/codec-key.ts';
import { payloadsFromJson, payloadsToJson, startCodecServer, type CodecServer } from '../../runtime/codec-server.ts';

const UI = 'http://127.0.0.1:8233';
const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('codec server', () => {
  const codec = new AesGcmPayloadCodec(generateCodecKeys());
  let server: CodecServer;
  before(async () => {
    server = await startCodecServer({ codec, allowedOrigins: [UI], namespaces: ['default'] });
  });
  after(() => server.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers }, body: JSON.stringify(body) });

  it('decodes what the workers encrypted, for the Web UI', async () => {
    const encrypted = await codec.encode([defaultPayloadConverter.toPayload({ nodeClaim: 'gpu-l4-a' })]);
    const res = await post('/decode', payloadsToJson(encrypted), { Origin: UI });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), UI);
    const body = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(body.payloads[0]?.metadata.encoding, b64('json/plain'));
    assert.equal(Buffer.from(body.payloads[0]?.data ?? '', 'base64').toString(), '{"nodeClaim":"gpu-l4-a"}');
  });

  it('encodes, under the CLI\'s /<namespace>/ path too, and the result decodes', async () => {
    const res = await fetch(`${server.url}/default/encode`, { method: 'POST', body: JSON.stringify({ payloads: [{ metadata: { encoding: b64('json/plain') }, data: b64('"hello"') }] }) });
    assert.equal(res.status, 200);
    const encoded = payloadsFromJson(await res.json());
    assert.equal(Buffer.from(encoded[0]?.metadata?.encoding ?? []).toString(), ENCRYPTED_ENCODING);
    assert.equal(defaultPayloadConverter.fromPayload((await codec.decode(encoded))[0] ?? {}), 'hello');
  });

  it('passes plain payloads through decode', async () => {
    const plain = { payloads: [{ metadata: { encoding: b64('json/plain') }, data: b64('1') }] };
    const res = await post('/decode', plain);
    assert.deepEqual(await res.json(), plain);
  });

  it('answers the Web UI\'s preflight, and not another origin\'s', async () => {
    const ok = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' } });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), UI);
    assert.match(ok.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
    const evil = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    assert.equal((await post('/decode', { payloads: [] }, { Origin: 'https://evil.example' })).status, 403);
  });

  it('refuses other namespaces, methods, paths, bad bodies and payloads it cannot decrypt', async () => {
    assert.equal((await post('/decode', { payloads: [] }, { 'X-Namespace': 'other' })).status, 403);
    assert.equal((await post('/other/decode', { payloads: [] }, { 'X-Namespace': '' })).status, 403);
    // The temporal CLI, its endpoint without {namespace}, sends the header empty.
    assert.equal((await post('/decode', { payloads: [] }, { 'X-Namespace': '' })).status, 200);
    assert.equal((await fetch(`${server.url}/decode`)).status, 405);
    assert.equal((await post('/download', { payloads: [] })).status, 404);
    assert.equal((await post('/decode', { nope: 1 })).status, 400);
    const foreign = await new AesGcmPayloadCodec(generateCodecKeys()).encode([defaultPayloadConverter.toPayload(1)]);
    const res = await post('/decode', payloadsToJson(foreign));
    assert.equal(res.status, 400);
    assert.match(await res.text(), /not configured/);
  });
});
