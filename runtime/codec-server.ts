// Temporal's remote codec protocol over HTTP, so that the Web UI (and
// `temporal workflow show --codec-endpoint`) can show decrypted payloads
// without the key ever reaching the Temporal server: POST /encode and /decode
// (also under /<namespace>/, the CLI's endpoint template), each taking and
// returning `{"payloads":[{"metadata":{k: base64}, "data": base64}]}` (proto3
// JSON). The Web UI calls it from the browser, hence CORS for its origin.
//
// Anyone who reaches it can decrypt: it listens on loopback by default, and a
// deployment must put it behind the same authentication as the Web UI.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Browser origins allowed to call it: the Web UI's, e.g. http://127.0.0.1:8233. */
  allowedOrigins: readonly string[];
  /** Namespaces it answers for (the X-Namespace header or the path's first segment); any when empty, or when a request names none. */
  namespaces?: readonly string[];
  host?: string;
  /** 0 (default): a free port. */
  port?: number;
}

export interface CodecServer {
  /** The endpoint to give the Web UI (--ui-codec-endpoint) and the CLI (--codec-endpoint). */
  readonly url: string;
  close(): Promise<void>;
}

/** A history page the Web UI decodes can hold many payloads; Temporal caps one at 2 MiB. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const fromBase64 = (value: unknown, what: string): Uint8Array => {
  if (typeof value !== 'string') throw new HttpError(400, `${what} must be a base64 string`);
  return new Uint8Array(Buffer.from(value, 'base64'));
};

export function payloadsFromJson(body: unknown): Payload[] {
  const list = (body as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(list)) throw new HttpError(400, 'the body must be {"payloads": [...]}');
  return list.map((raw: unknown, i) => {
    const p = (raw ?? {}) as JsonPayload;
    const metadata: Record<string, Uint8Array> = {};
    for (const [key, value] of Object.entries(p.metadata ?? {})) metadata[key] = fromBase64(value, `payloads[${i}].metadata.${key}`);
    return { metadata, data: p.data === undefined ? new Uint8Array() : fromBase64(p.data, `payloads[${i}].data`) };
  });
}

export function payloadsToJson(payloads: Payload[]): { payloads: JsonPayload[] } {
  const b64 = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? new Uint8Array()).toString('base64');
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
      data: b64(p.data),
    })),
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
}

/** `/decode` → [undefined, 'decode']; `/default/decode` → ['default', 'decode']. */
function route(path: string): { namespace: string | undefined; op: string } | undefined {
  const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  if (parts.length === 1) return { namespace: undefined, op: parts[0] ?? '' };
  if (parts.length === 2) return { namespace: parts[0], op: parts[1] ?? '' };
  return undefined;
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const allowed = new Set(options.allowedOrigins.map((o) => o.replace(/\/$/, '')));
  const namespaces = new Set(options.namespaces ?? []);

  const cors = (req: IncomingMessage, res: ServerResponse): void => {
    const origin = req.headers.origin;
    if (origin && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      // The Web UI may send credentials (its includeCredentials setting) and the namespace header.
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    cors(req, res);
    const url = new URL(req.url ?? '/', 'http://codec.invalid');
    const target = route(url.pathname);
    if (!target || (target.op !== 'encode' && target.op !== 'decode')) throw new HttpError(404, `no such endpoint ${url.pathname}: POST /encode or /decode`);
    if (req.method === 'OPTIONS') {
      // A preflight from an origin we do not know gets no CORS headers, so the browser refuses the call.
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'POST') throw new HttpError(405, `${req.method ?? ''} ${url.pathname}: only POST`);
    const origin = req.headers.origin;
    if (origin && !allowed.has(origin)) throw new HttpError(403, `origin ${origin} is not allowed`);
    const header = req.headers['x-namespace'];
    // The temporal CLI sends the header empty when its endpoint has no {namespace}.
    const namespace = (Array.isArray(header) ? header[0] : header) || target.namespace;
    // The Web UI names its namespace; the temporal CLI (its endpoint without {namespace}) names none, and is let through.
    if (namespaces.size && namespace !== undefined && !namespaces.has(namespace)) throw new HttpError(403, `namespace ${namespace} is not served here`);
    const payloads = payloadsFromJson(await readBody(req));
    let out: Payload[];
    try {
      out = target.op === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
    } catch (err) {
      throw new HttpError(400, `${target.op} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(payloadsToJson(out)));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(err instanceof Error ? err.message : String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
