// The payloads inside a workflow history, wherever the event puts them (inputs,
// results, marker details, headers, memos, failures' encoded attributes), for
// the replay CLI (is this history encrypted?) and the secret scans (read every
// payload raw and decoded).
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface FoundPayload {
  /** Where in the history, e.g. events.3.workflowExecutionStartedEventAttributes.input.payloads.0 */
  path: string;
  payload: Payload;
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

/** A Payload message: metadata of bytes, data bytes. No other message in the history API has that shape. */
function isPayload(v: unknown): v is Payload {
  if (typeof v !== 'object' || v === null || isBytes(v) || Array.isArray(v)) return false;
  const { metadata, data } = v as { metadata?: unknown; data?: unknown };
  if (typeof metadata !== 'object' || metadata === null || !(data === undefined || data === null || isBytes(data))) return false;
  const values = Object.values(metadata);
  return values.length > 0 && values.every(isBytes);
}

const children = (v: object): [string, unknown][] => (Array.isArray(v) ? v.map((x, i): [string, unknown] => [String(i), x]) : Object.entries(v));

/** Every payload in `value` (a history, an event, any part of one). */
export function payloadsOf(value: unknown, path = ''): FoundPayload[] {
  if (isPayload(value)) return [{ path, payload: value }];
  if (typeof value !== 'object' || value === null || isBytes(value)) return [];
  return children(value).flatMap(([key, child]) => payloadsOf(child, path ? `${path}.${key}` : key));
}

/** Search attributes are indexed by the server, so the SDK never runs them through a codec. */
export const isSearchAttribute = (found: FoundPayload): boolean => /(^|\.)(searchAttributes|indexedFields)(\.|$)/.test(found.path);

/**
 * A plain copy of `value` with every payload run through `codec.decode`
 * (payloads it does not know pass through); failed decodes stay encoded and are
 * listed, so a scan can report them instead of skipping them.
 */
export async function decodeHistoryPayloads(value: unknown, codec: PayloadCodec): Promise<{ decoded: unknown; failures: string[] }> {
  const failures: string[] = [];
  const walk = async (v: unknown, path: string): Promise<unknown> => {
    if (isPayload(v)) {
      try {
        const [out] = await codec.decode([v]);
        // A decoded payload can hold payloads itself (a failure's encoded attributes do not, but be thorough).
        return out;
      } catch (err) {
        failures.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
        return v;
      }
    }
    if (typeof v !== 'object' || v === null || isBytes(v)) return v;
    if (Array.isArray(v)) return Promise.all(v.map((x, i) => walk(x, `${path}.${i}`)));
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(v)) out[key] = await walk(child, path ? `${path}.${key}` : key);
    return out;
  };
  return { decoded: await walk(value, ''), failures };
}

/**
 * The history as searchable text: JSON in which every byte field is written as
 * its UTF-8 text. JSON.stringify alone would not do: protobuf messages' toJSON
 * writes bytes as base64, which a plain search for a secret never matches.
 */
export function historyText(value: unknown): string {
  const plain = (v: unknown): unknown => {
    if (isBytes(v)) return Buffer.from(v).toString('utf8');
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) return v.map(plain);
    return Object.fromEntries(Object.entries(v).map(([k, child]) => [k, plain(child)]));
  };
  return JSON.stringify(plain(value));
}
