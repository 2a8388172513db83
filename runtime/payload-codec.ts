// Encryption of every Temporal payload (workflow inputs and results, activity
// inputs and results, signals, queries, markers, memos, failure messages) with
// AES-256-GCM before it leaves the process, so that Temporal's database and its
// Web UI hold only ciphertext. Keys carry an ID in each payload's metadata:
// decode accepts every configured key, encode uses the current one, so keys
// rotate by adding a new current key and keeping the old one until the
// workflows it wrote are past retention.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
// A CommonJS module whose exports Node cannot list statically: import the namespace, then pick.
import proto from '@temporalio/proto';
import type { CodecKey, CodecKeys } from './codec-key.ts';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
const PayloadMessage = proto.temporal.api.common.v1.Payload;
const CIPHER = 'aes-256-gcm';
const CIPHER_NAME = 'AES256-GCM';
/** 96-bit IVs, random per payload: GCM's recommended size; 2^32 payloads per key keep the collision odds negligible. */
const IV_BYTES = 12;
const TAG_BYTES = 16;

const text = new TextEncoder();
const untext = new TextDecoder();

/** The metadata value of a payload as text ('' when missing). */
export function metadataText(payload: Payload, key: string): string {
  const value = payload.metadata?.[key];
  return value ? untext.decode(value) : '';
}

export const isEncrypted = (payload: Payload): boolean => metadataText(payload, METADATA_ENCODING_KEY) === ENCRYPTED_ENCODING;

/** A payload that cannot be decrypted is a rejected promise, as callers of a codec expect, not a synchronous throw. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly current: CodecKey;
  private readonly byId: ReadonlyMap<string, CodecKey>;

  constructor(keys: CodecKeys) {
    this.current = keys.current;
    this.byId = new Map([...keys.previous, keys.current].map((k) => [k.id, k]));
  }

  /** The ID of the key new payloads are encrypted with. */
  get currentKeyId(): string {
    return this.current.id;
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return settle(() => payloads.map((p) => this.encrypt(p)));
  }

  /** Payloads without our encoding pass through: histories written before encryption was on still read and replay. */
  decode(payloads: Payload[]): Promise<Payload[]> {
    return settle(() => payloads.map((p) => (isEncrypted(p) ? this.decrypt(p) : p)));
  }

  private encrypt(payload: Payload): Payload {
    const key = this.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, key.key, iv, { authTagLength: TAG_BYTES });
    // The key ID is authenticated: a payload relabelled with another key's ID fails like a tampered one.
    cipher.setAAD(text.encode(key.id));
    const plain = PayloadMessage.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: text.encode(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: text.encode(key.id),
        [CIPHER_METADATA]: text.encode(CIPHER_NAME),
      },
      data: new Uint8Array(sealed),
    };
  }

  private decrypt(payload: Payload): Payload {
    const keyId = metadataText(payload, KEY_ID_METADATA);
    const key = this.byId.get(keyId);
    if (!key) {
      throw new Error(`decrypting a payload: it was encrypted with key "${keyId}", which is not configured (configured: ${[...this.byId.keys()].join(', ')}); add it to PAYLOAD_CODEC_PREVIOUS_KEYS`);
    }
    const sealed = payload.data ?? new Uint8Array();
    if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error(`decrypting a payload with key "${keyId}": ${sealed.length} bytes is too short to be one`);
    const iv = sealed.subarray(0, IV_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    const decipher = createDecipheriv(CIPHER, key.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(text.encode(key.id));
    decipher.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch (err) {
      throw new Error(`decrypting a payload with key "${keyId}": authentication failed (the payload was altered, or the key with this ID is not the one that encrypted it)`, { cause: err });
    }
    const inner = PayloadMessage.decode(plain);
    return { metadata: inner.metadata ?? {}, data: inner.data ?? new Uint8Array() };
  }
}

/**
 * Writes failure messages and stack traces into an (encrypted) payload instead
 * of plain fields: an error can quote what it was handling. Its module is
 * loaded by path, inside the workflow sandbox too.
 */
export const ENCRYPTING_FAILURE_CONVERTER_PATH = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './failure-converter.ts' : './failure-converter.js', import.meta.url));

/**
 * The data converter every client and worker of the project uses: with a
 * codec, payloads and failure messages are encrypted; without one, the SDK's
 * defaults (plain text).
 */
export function temporalDataConverter(codec: PayloadCodec | undefined): DataConverter {
  return codec ? { payloadCodecs: [codec], failureConverterPath: ENCRYPTING_FAILURE_CONVERTER_PATH } : {};
}
