// Helpers for tests that talk to the simulator over HTTP: realistic-looking credentials and a fetch wrapper.
import type { Simulator } from './simulator.ts';

/** Shaped like real Scaleway keys (access key SCW + 17 characters, secret key a UUID); valid nowhere. */
export const TEST_CREDENTIALS = {
  accessKey: 'SCWQ7X2M4K9TB3N8VRPD',
  secretKey: '4e0c8a1d-7b2f-4c6e-9d3a-5f1b2c8e7a90',
  projectId: '0f4c6b8e-2d1a-4e7b-9c3f-8a5d6e1b2c7d',
} as const;

export interface SimResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is application/json, else the text. */
  body: unknown;
  text: string;
}

/** One authenticated call to the simulator; JSON bodies are serialised, strings sent as text/plain. */
export async function simFetch(sim: Pick<Simulator, 'url'>, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<SimResponse> {
  const init: RequestInit = { method, headers: { 'X-Auth-Token': TEST_CREDENTIALS.secretKey, ...headers } };
  if (typeof body === 'string') {
    init.body = body;
    init.headers = { 'Content-Type': 'text/plain', ...init.headers };
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json', ...init.headers };
  }
  const response = await fetch(`${sim.url}${path}`, init);
  const text = await response.text();
  const parsed: unknown = response.headers.get('content-type') === 'application/json' && text !== '' ? JSON.parse(text) : text;
  return { status: response.status, headers: response.headers, body: parsed, text };
}
