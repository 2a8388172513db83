// A small REST client for the apiserver: JSON in, JSON out, any path (status
// subresources, evictions), with the credentials of a KubeConfig. Failures are
// KubeErrors that carry the HTTP status and the apiserver's reason.
import { Agent, request } from 'node:https';
import { request as plainRequest } from 'node:http';
import type { KubeCredentials, RequestOptions } from './credentials.ts';

export class KubeError extends Error {
  override readonly name = 'KubeError';
  constructor(readonly status: number, readonly reason: string, message: string) {
    super(message);
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeError && err.status === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeError && err.status === 409;
export const isAlreadyExists = (err: unknown): boolean => err instanceof KubeError && err.status === 409 && err.reason === 'AlreadyExists';

// 'apply': server-side apply (a JSON body is valid YAML); the path carries ?fieldManager=...
export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface KubeRest {
  readonly credentials: KubeCredentials;
  get<T>(path: string): Promise<T>;
  /** undefined on 404. */
  getOrUndefined<T>(path: string): Promise<T | undefined>;
  post<T>(path: string, body: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
  patch<T>(path: string, body: unknown, type?: PatchType): Promise<T>;
  /** Resolves on success and on 404 (already gone). */
  delete(path: string, body?: unknown): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** One request with the endpoint's credentials; the status and the body as text. Without an agent, a connection of its own. */
async function exchange(credentials: KubeCredentials, agent: Agent | undefined, method: string, path: string, accept: string, body?: { payload: string; contentType: string }): Promise<{ status: number; text: string }> {
  const endpoint = await credentials.endpoint();
  const base = endpoint.server;
  const opts: RequestOptions = {
    method,
    hostname: base.hostname,
    port: base.port,
    path: `${base.pathname.replace(/\/$/, '')}${path}`,
    // Content-Length always: Node does not frame a DELETE body by itself, and the apiserver would drop it.
    headers: { Accept: accept, ...(body ? { 'Content-Type': body.contentType, 'Content-Length': Buffer.byteLength(body.payload) } : {}) },
    timeout: REQUEST_TIMEOUT_MS,
  };
  await endpoint.apply(opts);
  if (base.protocol === 'https:' && agent) opts.agent = agent;
  return new Promise((resolve, reject) => {
    const req = (base.protocol === 'https:' ? request : plainRequest)(opts, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    if (body) req.write(body.payload);
    req.end();
  });
}

export function createKubeRest(credentials: KubeCredentials): KubeRest {
  // Connections are kept and reused: a TLS handshake per call would cost more than the call.
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });

  const send = async <T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> => {
    const { status, text } = await exchange(credentials, agent, method, path, 'application/json', body === undefined ? undefined : { payload: JSON.stringify(body), contentType });
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    let reason = 'Unknown';
    let message = text;
    try {
      const parsed = JSON.parse(text) as { reason?: string; message?: string };
      reason = parsed.reason ?? reason;
      message = parsed.message ?? message;
    } catch {
      // not a Status object; keep the raw text
    }
    throw new KubeError(status, reason, `${method} ${path}: ${status} ${reason}: ${message}`);
  };

  return {
    credentials,
    get: (path) => send('GET', path),
    getOrUndefined: async <T>(path: string) => {
      try {
        return await send<T>('GET', path);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    post: (path, body) => send('POST', path, body),
    put: (path, body) => send('PUT', path, body),
    patch: (path, body, type = 'merge') => send('PATCH', path, body, PATCH_CONTENT_TYPE[type]),
    delete: async (path, body) => {
      try {
        await send('DELETE', path, body);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  };
}

/** A text endpoint's body (the apiserver's /metrics), on its own connection: KubeRest speaks JSON only. */
export async function getText(kube: Pick<KubeRest, 'credentials'>, path: string): Promise<string> {
  const { status, text } = await exchange(kube.credentials, undefined, 'GET', path, 'text/plain');
  if (status !== 200) throw new KubeError(status, 'Unknown', `GET ${path}: ${status}`);
  return text;
}
