// Where the payload codec's keys come from, read once at start: the
// environment (PAYLOAD_CODEC_KEY), or a Kubernetes Secret
// (PAYLOAD_CODEC_KEY_SECRET=<namespace>/<name>), or, in the sandbox and the
// tests, a key generated for that one sandbox. Keys are never logged; only
// their IDs are.
import { createHash, randomBytes } from 'node:crypto';
import type { PayloadCodec } from '@temporalio/common';
import type { KubeRest } from '../kube/rest.ts';
import type { CodecSettings } from './config.ts';
import { AesGcmPayloadCodec } from './payload-codec.ts';
import { log } from './log.ts';

export interface CodecKey {
  /** Written in each payload's metadata; not secret. */
  id: string;
  /** 32 bytes: AES-256. */
  key: Buffer;
}

export interface CodecKeys {
  /** Encrypts new payloads. */
  current: CodecKey;
  /** Still decrypt what they once encrypted (rotation). */
  previous: CodecKey[];
}

const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * A key's default ID: a fingerprint, so that every process given the same key
 * agrees on its ID without a second setting. A truncated hash of a random
 * 256-bit key tells nothing about the key.
 */
export const fingerprint = (key: Buffer): string => `sha256-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;

/** A key from its base64 text; `what` names the setting in errors (never the value). */
export function parseCodecKey(base64: string, what: string, id?: string): CodecKey {
  const trimmed = base64.trim();
  const key = Buffer.from(trimmed, 'base64');
  // Buffer.from skips characters that are not base64; a re-encode tells a mistyped key from a real one.
  if (key.length !== KEY_BYTES || key.toString('base64').replace(/=+$/, '') !== trimmed.replace(/=+$/, '')) {
    throw new Error(`${what} must be the base64 of ${KEY_BYTES} random bytes (openssl rand -base64 ${KEY_BYTES}); got ${key.length} bytes`);
  }
  if (id !== undefined && !KEY_ID.test(id)) throw new Error(`${what}'s key ID must be 1 to 64 letters, digits, '.', '_' or '-'`);
  return { id: id ?? fingerprint(key), key };
}

/** `id=base64` or bare base64 entries, comma-separated: the keys rotated out. */
export function parsePreviousKeys(list: string | undefined, what: string): CodecKey[] {
  return (list ?? '').split(',').map((e) => e.trim()).filter(Boolean).map((entry, i) => {
    const eq = entry.indexOf('=');
    // base64 ends in '=' padding at most; an '=' before the end separates an ID.
    const hasId = eq > 0 && entry.slice(eq + 1).replace(/=+$/, '') !== '';
    return hasId ? parseCodecKey(entry.slice(eq + 1), `${what}[${i}]`, entry.slice(0, eq)) : parseCodecKey(entry, `${what}[${i}]`);
  });
}

/** A fresh key for one sandbox or one test stack. */
export function generateCodecKeys(): CodecKeys {
  const key = randomBytes(KEY_BYTES);
  return { current: { id: `sandbox-${fingerprint(key).slice(7, 15)}`, key }, previous: [] };
}

/** The environment that gives a child process (a worker, a watcher) the same keys. */
export function codecKeysEnv(keys: CodecKeys): Record<string, string> {
  return {
    PAYLOAD_CODEC_KEY: keys.current.key.toString('base64'),
    PAYLOAD_CODEC_KEY_ID: keys.current.id,
    ...(keys.previous.length ? { PAYLOAD_CODEC_PREVIOUS_KEYS: keys.previous.map((k) => `${k.id}=${k.key.toString('base64')}`).join(',') } : {}),
  };
}

interface SecretObject {
  data?: Record<string, string>;
}

/**
 * Reads the keys of a Secret: `key` (the current key: 32 raw bytes, or their
 * base64 text, as `kubectl create secret generic --from-literal=key=$(openssl
 * rand -base64 32)` stores it), optional `keyId` and `previousKeys` (same format
 * as PAYLOAD_CODEC_PREVIOUS_KEYS).
 */
export async function readCodecKeysSecret(kube: () => KubeRest, ref: string): Promise<CodecKeys> {
  const [namespace, name, extra] = ref.split('/');
  if (!namespace || !name || extra !== undefined) throw new Error(`PAYLOAD_CODEC_KEY_SECRET must be <namespace>/<name>, got "${ref}"`);
  let secret: SecretObject;
  try {
    secret = await kube().get<SecretObject>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`);
  } catch (err) {
    throw new Error(`reading the payload codec key from Secret ${ref}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const entry = (field: string): string | undefined => {
    const value = secret.data?.[field];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('latin1');
  };
  const raw = secret.data?.key;
  if (raw === undefined) throw new Error(`Secret ${ref} has no "key" entry (the payload codec key)`);
  const bytes = Buffer.from(raw, 'base64');
  const keyText = bytes.length === KEY_BYTES ? raw : bytes.toString('latin1');
  const id = entry('keyId')?.trim();
  return {
    current: parseCodecKey(keyText, `Secret ${ref} "key"`, id || undefined),
    previous: parsePreviousKeys(entry('previousKeys'), `Secret ${ref} "previousKeys"`),
  };
}

/** The configured keys, or undefined when none is configured. */
export async function loadCodecKeys(settings: CodecSettings, kube: () => KubeRest): Promise<CodecKeys | undefined> {
  if (settings.PAYLOAD_CODEC_KEY && settings.PAYLOAD_CODEC_KEY_SECRET) {
    throw new Error('set PAYLOAD_CODEC_KEY or PAYLOAD_CODEC_KEY_SECRET, not both');
  }
  if (settings.PAYLOAD_CODEC_KEY_SECRET) return readCodecKeysSecret(kube, settings.PAYLOAD_CODEC_KEY_SECRET);
  if (!settings.PAYLOAD_CODEC_KEY) return undefined;
  return {
    current: parseCodecKey(settings.PAYLOAD_CODEC_KEY, 'PAYLOAD_CODEC_KEY', settings.PAYLOAD_CODEC_KEY_ID),
    previous: parsePreviousKeys(settings.PAYLOAD_CODEC_PREVIOUS_KEYS, 'PAYLOAD_CODEC_PREVIOUS_KEYS'),
  };
}

/**
 * The codec of a worker, watcher or CLI process. With no key configured it
 * warns and returns undefined (payloads in plain text) unless
 * PAYLOAD_CODEC_REQUIRED is set, in which case it refuses to start. A key
 * configured but unreadable (a missing Secret) always refuses: that is a
 * mistake, not a choice.
 */
export async function payloadCodecFromSettings(settings: CodecSettings, kube: () => KubeRest, who: string): Promise<PayloadCodec | undefined> {
  const keys = await loadCodecKeys(settings, kube);
  const logger = log.child({ logger: who });
  if (!keys) {
    if (settings.PAYLOAD_CODEC_REQUIRED === 'true') {
      throw new Error(`PAYLOAD_CODEC_REQUIRED is set but no key is configured: set PAYLOAD_CODEC_KEY (openssl rand -base64 32) or PAYLOAD_CODEC_KEY_SECRET=<namespace>/<name>`);
    }
    logger.warn('no payload codec key (PAYLOAD_CODEC_KEY or PAYLOAD_CODEC_KEY_SECRET): workflow inputs, results and failures are stored in Temporal in plain text');
    return undefined;
  }
  const previous = keys.previous.map((k) => k.id);
  logger.info('payloads encrypted with AES-256-GCM', { keyId: keys.current.id, ...(previous.length ? { previousKeyIds: previous } : {}) });
  return new AesGcmPayloadCodec(keys);
}
