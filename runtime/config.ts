// Settings of the worker and the watcher, read once from the environment at
// start. Secrets (the Scaleway secret key) stay in this process: they are never
// put in workflow inputs, activity results or logs.
import { z } from 'zod';
import { parseDuration } from '../kube/api/duration.ts';
import { TASK_QUEUE } from '../workflows/contract.ts';

const ACCESS_KEY = /^SCW[A-Z0-9]{17}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Payload encryption (runtime/codec-key.ts): the key, inline or in a Secret; none means plain text, with a warning. */
const codecSettings = z.object({
  /** base64 of 32 random bytes (openssl rand -base64 32): encrypts new payloads. */
  PAYLOAD_CODEC_KEY: z.string().optional(),
  /** Its ID in each payload's metadata; defaults to a fingerprint of the key. */
  PAYLOAD_CODEC_KEY_ID: z.string().optional(),
  /** Keys rotated out, still decrypting: comma-separated `id=base64` (or bare base64, ID by fingerprint). */
  PAYLOAD_CODEC_PREVIOUS_KEYS: z.string().optional(),
  /** `<namespace>/<name>` of a Secret with `key` (and optional `keyId`, `previousKeys`), read once at start. */
  PAYLOAD_CODEC_KEY_SECRET: z.string().optional(),
  /** 'true': refuse to start without a key, rather than warn and store payloads in plain text. */
  PAYLOAD_CODEC_REQUIRED: z.enum(['true', 'false'], { message: "PAYLOAD_CODEC_REQUIRED must be 'true' or 'false'" }).default('false'),
});

export type CodecSettings = z.infer<typeof codecSettings>;

/** The codec settings alone, for tools that need no Scaleway credentials (npm run replay). */
export function loadCodecSettings(env: NodeJS.ProcessEnv = process.env): CodecSettings {
  const parsed = codecSettings.safeParse(env);
  if (!parsed.success) throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

const positiveDuration = (text: string): boolean => {
  try {
    const ms = parseDuration(text);
    return ms > 0 && Number.isFinite(ms);
  } catch {
    return false;
  }
};
/** A Karpenter-style duration (`30s`, `10m`, `1h30m`); kept as text, so the logged config reads as it was set. */
const gcDuration = (name: string) => z.string().refine(positiveDuration, { message: `${name} must be a duration such as 30s, 10m or 1h30m` });

/** Orphan garbage collection (workflows/garbage-collection.ts), run by a Temporal Schedule the worker keeps up to date. */
const gcSettings = z.object({
  /** How often the Schedule runs it. */
  GC_INTERVAL: gcDuration('GC_INTERVAL').default('1m'),
  /** How old an unowned server, volume or token (or a launched NodeClaim) must be before it is released. */
  GC_GRACE_PERIOD: gcDuration('GC_GRACE_PERIOD').default('10m'),
  /** 'true': log what would be released, release nothing. */
  GC_DRY_RUN: z.enum(['true', 'false'], { message: "GC_DRY_RUN must be 'true' or 'false'" }).default('false'),
});

export interface GarbageCollectionSettings {
  intervalMs: number;
  gracePeriodMs: number;
  dryRun: boolean;
}

const toGcSettings = (env: z.infer<typeof gcSettings>): GarbageCollectionSettings => ({
  intervalMs: parseDuration(env.GC_INTERVAL),
  gracePeriodMs: parseDuration(env.GC_GRACE_PERIOD),
  dryRun: env.GC_DRY_RUN === 'true',
});

/** The garbage collection settings alone, for `npm start`, which has no Scaleway credentials to load. */
export function loadGarbageCollectionSettings(env: NodeJS.ProcessEnv = process.env): GarbageCollectionSettings {
  const parsed = gcSettings.safeParse(env);
  if (!parsed.success) throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return toGcSettings(parsed.data);
}

/** The garbage collection settings of a loaded config. */
export const garbageCollectionSettings = (config: RuntimeConfig): GarbageCollectionSettings => toGcSettings(config);

const schema = z.object({
  ...codecSettings.shape,
  ...gcSettings.shape,
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default(TASK_QUEUE),
  /** Where the Web UI shows a workflow, for the link put on each NodeClaim's Event. */
  TEMPORAL_UI_URL: z.string().default('http://127.0.0.1:8233'),
  SCW_ACCESS_KEY: z.string().regex(ACCESS_KEY, 'SCW_ACCESS_KEY must look like SCWXXXXXXXXXXXXXXXXX (SCW and 17 letters or digits)'),
  SCW_SECRET_KEY: z.string().regex(UUID, 'SCW_SECRET_KEY must be a UUID'),
  SCW_DEFAULT_PROJECT_ID: z.string().regex(UUID, 'SCW_DEFAULT_PROJECT_ID must be a UUID'),
  SCW_API_URL: z.string().url().optional(),
  /** Tags every cloud resource with the cluster it belongs to, so garbage collection never touches another cluster's. */
  CLUSTER_NAME: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'CLUSTER_NAME must be a DNS label').default('sandbox'),
  KUBECONFIG: z.string().optional(),
  /** One watcher replica acts at a time, elected on a Lease (watcher/leader-election.ts); 'false' only for a single replica. */
  LEADER_ELECTION: z.enum(['true', 'false'], { message: "LEADER_ELECTION must be 'true' or 'false'" }).default('true'),
  /** Where the Lease lives: defaults to POD_NAMESPACE (the watcher's own namespace), else kube-system. */
  LEADER_ELECTION_NAMESPACE: z.string().optional(),
  LEADER_ELECTION_LEASE_NAME: z.string().default('scw-karpenter-watcher'),
});

export type RuntimeConfig = z.infer<typeof schema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** The config as it is safe to log: the secret key and the codec keys masked. */
export function describeConfig(config: RuntimeConfig): Record<string, string | undefined> {
  return {
    ...config,
    SCW_SECRET_KEY: '<redacted>',
    ...(config.PAYLOAD_CODEC_KEY ? { PAYLOAD_CODEC_KEY: '<redacted>' } : {}),
    ...(config.PAYLOAD_CODEC_PREVIOUS_KEYS ? { PAYLOAD_CODEC_PREVIOUS_KEYS: '<redacted>' } : {}),
  };
}
