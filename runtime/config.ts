// Settings of the worker, the watcher and the CLI, read once from the
// environment at start and validated here, so a bad value stops the process
// with a message naming the variable. Every setting is in the README's table
// (one line each: name, default, meaning). Secrets (the Scaleway secret key,
// the Temporal API key, the codec keys) stay in this process: they are never
// put in workflow inputs, activity results or logs (describeConfig masks them).
import { z } from 'zod';
import { parseDuration } from '../kube/api/duration.ts';
import { TASK_QUEUE } from '../workflows/contract.ts';
import { loadScalewayProfile, whereToSet, type ScalewayProfile } from './scaleway-profile.ts';
import { describeTemporal, loadTemporalSettings, type TemporalSettings } from './temporal-connection.ts';

const ACCESS_KEY = /^SCW[A-Z0-9]{17}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** SCW_API_URL and TEMPORAL_UI_URL: a scheme-less `simulator:4510` parses as a URL of scheme `simulator:`, so the scheme is checked. */
const HTTP_PROTOCOL = /^https?$/;

const problemsOf = (error: z.ZodError): string => error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');

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

/** The codec settings alone, for tools that need no Scaleway credentials (replay). */
export function loadCodecSettings(env: NodeJS.ProcessEnv = process.env): CodecSettings {
  const parsed = codecSettings.safeParse(env);
  if (!parsed.success) throw new Error(`invalid configuration: ${problemsOf(parsed.error)}`);
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
  if (!parsed.success) throw new Error(`invalid configuration: ${problemsOf(parsed.error)}`);
  return toGcSettings(parsed.data);
}

/** The garbage collection settings of a loaded config. */
export const garbageCollectionSettings = (config: Settings): GarbageCollectionSettings => toGcSettings(config);

// ---- Tunables ------------------------------------------------------------------------------------

const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const GO_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const GO_UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** A Go duration as Karpenter's flags take them (`500ms`, `1s`, `1m30s`), in milliseconds. */
export function parseGoDuration(text: string): number {
  if (!GO_DURATION.test(text)) throw new Error(`invalid duration "${text}": expected e.g. 500ms, 10s or 1m30s`);
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(GO_PART)) ms += Number(amount) * GO_UNIT_MS[unit as keyof typeof GO_UNIT_MS];
  return Math.round(ms);
}

const tunableDuration = (name: string, fallback: string) =>
  z.string().refine((text) => {
    try {
      return parseGoDuration(text) > 0;
    } catch {
      return false;
    }
  }, { message: `${name} must be a positive duration such as 500ms, 10s or 1m30s` }).default(fallback);

const count = (name: string, fallback: string) => z.string().regex(/^[1-9]\d*$/, `${name} must be a whole number of at least 1`).default(fallback);
const port = (name: string, fallback: string) =>
  z.string().refine((t) => /^\d+$/.test(t) && Number(t) <= 65_535, { message: `${name} must be a port number (0 to 65535; 0 picks a free one)` }).default(fallback);
const flag = (name: string, fallback: 'true' | 'false') => z.enum(['true', 'false'], { message: `${name} must be 'true' or 'false'` }).default(fallback);

/**
 * Everything but the Scaleway credentials and the Temporal connection, which
 * have their own loaders. Defaults are written as text here; test/unit/config.test.ts
 * checks that each equals the constant of the code it sets (DEFAULT_BATCH_IDLE_MS...).
 */
const settingsSchema = z.object({
  ...codecSettings.shape,
  ...gcSettings.shape,
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),
  /** Where the Web UI shows a workflow, for the link put on each NodeClaim's Event and printed by `status`. */
  TEMPORAL_UI_URL: z.url({ protocol: HTTP_PROTOCOL, message: 'TEMPORAL_UI_URL must be an http(s) URL such as http://127.0.0.1:8233' }).default('http://127.0.0.1:8233'),
  /** Tags every cloud resource with the cluster it belongs to, so garbage collection never touches another cluster's. */
  CLUSTER_NAME: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'CLUSTER_NAME must be a DNS label').default('sandbox'),
  /** Unset in a Pod: the ServiceAccount's in-cluster config. */
  KUBECONFIG: z.string().optional(),
  /** The downward API's metadata.namespace and metadata.name: the Lease's namespace and this replica's identity. */
  POD_NAMESPACE: z.string().optional(),
  POD_NAME: z.string().optional(),
  /** One watcher replica acts at a time, elected on a Lease (watcher/leader-election.ts); 'false' only for a single replica. */
  LEADER_ELECTION: flag('LEADER_ELECTION', 'true'),
  /** Where the Lease lives: defaults to POD_NAMESPACE (the watcher's own namespace), else kube-system. */
  LEADER_ELECTION_NAMESPACE: z.string().optional(),
  LEADER_ELECTION_LEASE_NAME: z.string().min(1).default('scw-karpenter-watcher'),
  /** client-go's (and controller-runtime's) defaults: watcher/leader-election.ts LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS. */
  LEADER_ELECTION_LEASE_DURATION: tunableDuration('LEADER_ELECTION_LEASE_DURATION', '15s'),
  LEADER_ELECTION_RENEW_DEADLINE: tunableDuration('LEADER_ELECTION_RENEW_DEADLINE', '10s'),
  LEADER_ELECTION_RETRY_PERIOD: tunableDuration('LEADER_ELECTION_RETRY_PERIOD', '2s'),
  /** Karpenter's batch window: plan once no pod arrived for the idle duration, after the max duration at most. */
  BATCH_IDLE_DURATION: tunableDuration('BATCH_IDLE_DURATION', '1s'),
  BATCH_MAX_DURATION: tunableDuration('BATCH_MAX_DURATION', '10s'),
  /** How often the disruption loop looks for empty, underutilized, expired and drifted nodes. */
  DISRUPTION_INTERVAL: tunableDuration('DISRUPTION_INTERVAL', '5s'),
  /** How often the watcher looks at every object again, in case a watch event was lost. */
  RESYNC_PERIOD: tunableDuration('RESYNC_PERIOD', '1m'),
  /** How often the worker's waits poll Scaleway and the apiserver (a server starting, a node draining). */
  POLL_INTERVAL: tunableDuration('POLL_INTERVAL', '2s'),
  /** Worker task slots (worker/worker.ts WORKER_CAPACITY has the reasons for the defaults). */
  WORKER_MAX_CONCURRENT_ACTIVITIES: count('WORKER_MAX_CONCURRENT_ACTIVITIES', '2000'),
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: count('WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES', '200'),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: count('WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', '100'),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS: count('WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS', '20'),
  WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS: count('WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS', '20'),
  /** Threads that run workflow code, each with its own V8 context. */
  WORKER_WORKFLOW_THREADS: count('WORKER_WORKFLOW_THREADS', '1'),
  /** The prebuilt workflow bundle (the image's /app/dist/workflow-bundle.js); unset: bundled from workflows/ at start. */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  /** As Karpenter names them: /metrics on METRICS_PORT, /healthz and /readyz on HEALTH_PROBE_PORT. */
  METRICS_PORT: port('METRICS_PORT', '8080'),
  HEALTH_PROBE_PORT: port('HEALTH_PROBE_PORT', '8081'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error'], { message: 'LOG_LEVEL must be debug, info, warn or error' }).default('info'),
  LOG_FORMAT: z.enum(['json', 'text'], { message: 'LOG_FORMAT must be json or text' }).default('json'),
}).superRefine((s, ctx) => {
  const ms = (text: string): number => (GO_DURATION.test(text) ? parseGoDuration(text) : NaN);
  if (ms(s.BATCH_IDLE_DURATION) > ms(s.BATCH_MAX_DURATION)) {
    ctx.addIssue({ code: 'custom', path: ['BATCH_IDLE_DURATION'], message: `BATCH_IDLE_DURATION (${s.BATCH_IDLE_DURATION}) must not exceed BATCH_MAX_DURATION (${s.BATCH_MAX_DURATION})` });
  }
  // client-go refuses these too: a leader must give up before a standby may take over, and retry before it gives up.
  if (ms(s.LEADER_ELECTION_RENEW_DEADLINE) >= ms(s.LEADER_ELECTION_LEASE_DURATION)) {
    ctx.addIssue({ code: 'custom', path: ['LEADER_ELECTION_RENEW_DEADLINE'], message: `LEADER_ELECTION_RENEW_DEADLINE (${s.LEADER_ELECTION_RENEW_DEADLINE}) must be shorter than LEADER_ELECTION_LEASE_DURATION (${s.LEADER_ELECTION_LEASE_DURATION})` });
  }
  if (ms(s.LEADER_ELECTION_RETRY_PERIOD) >= ms(s.LEADER_ELECTION_RENEW_DEADLINE)) {
    ctx.addIssue({ code: 'custom', path: ['LEADER_ELECTION_RETRY_PERIOD'], message: `LEADER_ELECTION_RETRY_PERIOD (${s.LEADER_ELECTION_RETRY_PERIOD}) must be shorter than LEADER_ELECTION_RENEW_DEADLINE (${s.LEADER_ELECTION_RENEW_DEADLINE})` });
  }
  if (s.METRICS_PORT !== '0' && s.METRICS_PORT === s.HEALTH_PROBE_PORT) {
    ctx.addIssue({ code: 'custom', path: ['HEALTH_PROBE_PORT'], message: `METRICS_PORT and HEALTH_PROBE_PORT must differ (both ${s.METRICS_PORT})` });
  }
});

export type Settings = z.infer<typeof settingsSchema>;

/** Everything but the Scaleway credentials and the Temporal connection (the CLI's status and replay need no Scaleway keys). */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid configuration: ${problemsOf(parsed.error)}`);
  return parsed.data;
}

export interface WatcherTunables {
  batchIdleMs: number;
  batchMaxMs: number;
  disruptionIntervalMs: number;
  resyncMs: number;
}

export const watcherTunables = (s: Settings): WatcherTunables => ({
  batchIdleMs: parseGoDuration(s.BATCH_IDLE_DURATION),
  batchMaxMs: parseGoDuration(s.BATCH_MAX_DURATION),
  disruptionIntervalMs: parseGoDuration(s.DISRUPTION_INTERVAL),
  resyncMs: parseGoDuration(s.RESYNC_PERIOD),
});

export interface WorkerTunables {
  pollIntervalMs: number;
  /** Worker.create's slot options, by the SDK's names. */
  capacity: {
    maxConcurrentActivityTaskExecutions: number;
    maxConcurrentLocalActivityExecutions: number;
    maxConcurrentWorkflowTaskExecutions: number;
    maxConcurrentWorkflowTaskPolls: number;
    maxConcurrentActivityTaskPolls: number;
    workflowThreadPoolSize: number;
  };
}

export const workerTunables = (s: Settings): WorkerTunables => ({
  pollIntervalMs: parseGoDuration(s.POLL_INTERVAL),
  capacity: {
    maxConcurrentActivityTaskExecutions: Number(s.WORKER_MAX_CONCURRENT_ACTIVITIES),
    maxConcurrentLocalActivityExecutions: Number(s.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES),
    maxConcurrentWorkflowTaskExecutions: Number(s.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS),
    maxConcurrentWorkflowTaskPolls: Number(s.WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS),
    maxConcurrentActivityTaskPolls: Number(s.WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS),
    workflowThreadPoolSize: Number(s.WORKER_WORKFLOW_THREADS),
  },
});

export const leaderElectionDurations = (s: Settings): { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number } => ({
  leaseDurationMs: parseGoDuration(s.LEADER_ELECTION_LEASE_DURATION),
  renewDeadlineMs: parseGoDuration(s.LEADER_ELECTION_RENEW_DEADLINE),
  retryPeriodMs: parseGoDuration(s.LEADER_ELECTION_RETRY_PERIOD),
});

export const observabilityPorts = (s: Settings): { metricsPort: number; healthPort: number } => ({
  metricsPort: Number(s.METRICS_PORT),
  healthPort: Number(s.HEALTH_PROBE_PORT),
});

// ---- Scaleway --------------------------------------------------------------------------------------

/** The credentials the Scaleway adapter takes (scaleway/cloud.ts ScalewayCredentials), with where they came from. */
export interface ScalewaySettings {
  accessKey: string;
  secretKey: string;
  projectId: string;
  apiUrl?: string;
  /** SCW_DEFAULT_ZONE / default_zone, when set (read for completeness; zones come from the NodeClasses and the CLI's --zone). */
  defaultZone: string | undefined;
  configFile: string | undefined;
  profile: string | undefined;
}

/** The Scaleway credentials from SCW_* over the Scaleway CLI's profile file; a message per missing or malformed one. */
export function loadScalewaySettings(env: NodeJS.ProcessEnv = process.env): ScalewaySettings {
  let profile: ScalewayProfile;
  try {
    profile = loadScalewayProfile(env);
  } catch (err) {
    throw new Error(`invalid configuration: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const problems: string[] = [];
  const check = (value: string | undefined, envName: string, fileKey: string, pattern: RegExp, shape: string): string => {
    if (value === undefined) problems.push(`${envName}: missing; set ${whereToSet(profile, envName, fileKey, env)}`);
    else if (!pattern.test(value)) problems.push(`${envName}: must be ${shape}${profile.configFile && !env[envName] ? ` (read as ${fileKey} from profile ${profile.profile} of ${profile.configFile})` : ''}`);
    return value ?? '';
  };
  const accessKey = check(profile.accessKey, 'SCW_ACCESS_KEY', 'access_key', ACCESS_KEY, 'an access key such as SCWXXXXXXXXXXXXXXXXX (SCW and 17 letters or digits)');
  const secretKey = check(profile.secretKey, 'SCW_SECRET_KEY', 'secret_key', UUID, 'a UUID');
  const projectId = check(profile.projectId, 'SCW_DEFAULT_PROJECT_ID', 'default_project_id', UUID, 'a UUID');
  if (profile.apiUrl !== undefined && !z.url({ protocol: HTTP_PROTOCOL }).safeParse(profile.apiUrl).success) problems.push(`SCW_API_URL: must be an http(s) URL such as https://api.scaleway.com, got ${profile.apiUrl}`);
  if (problems.length) throw new Error(`invalid configuration: ${problems.join('; ')}`);
  return {
    accessKey,
    secretKey,
    projectId,
    ...(profile.apiUrl ? { apiUrl: profile.apiUrl } : {}),
    defaultZone: profile.zone,
    configFile: profile.configFile,
    profile: profile.profile,
  };
}

/** The adapter's credentials (createScalewayCloud's first argument). */
export const scalewayCredentials = (s: ScalewaySettings): { accessKey: string; secretKey: string; projectId: string; apiUrl?: string } => ({
  accessKey: s.accessKey,
  secretKey: s.secretKey,
  projectId: s.projectId,
  ...(s.apiUrl ? { apiUrl: s.apiUrl } : {}),
});

// ---- All of it -------------------------------------------------------------------------------------

export type RuntimeConfig = Settings & { scaleway: ScalewaySettings; temporal: TemporalSettings };

/** The entry points' start: the config, or the reason it is refused as an error line and exit 1 (a pod's CrashLoopBackOff says it). */
export function loadConfigOrExit(component: 'watcher' | 'worker', report: (message: string, fields: { error: string }) => void): RuntimeConfig {
  try {
    return loadConfig();
  } catch (err) {
    report(`scw-karpenter ${component} cannot start`, { error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
}

/** Everything the watcher and the worker need; every problem of every part in one message. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const problems: string[] = [];
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (err) {
      problems.push((err instanceof Error ? err.message : String(err)).replace(/^invalid configuration: /, ''));
      return undefined;
    }
  };
  const settings = attempt(() => loadSettings(env));
  const scaleway = attempt(() => loadScalewaySettings(env));
  const temporal = attempt(() => loadTemporalSettings(env));
  if (!settings || !scaleway || !temporal) throw new Error(`invalid configuration: ${problems.join('; ')}`);
  return { ...settings, scaleway, temporal };
}

/** The config as it is safe to log: the Scaleway secret key, the Temporal API key and the codec keys masked. */
export function describeConfig(config: RuntimeConfig): Record<string, string | undefined> {
  const { scaleway, temporal, ...settings } = config;
  return {
    ...settings,
    ...(settings.PAYLOAD_CODEC_KEY ? { PAYLOAD_CODEC_KEY: '<redacted>' } : {}),
    ...(settings.PAYLOAD_CODEC_PREVIOUS_KEYS ? { PAYLOAD_CODEC_PREVIOUS_KEYS: '<redacted>' } : {}),
    SCW_ACCESS_KEY: scaleway.accessKey,
    SCW_SECRET_KEY: '<redacted>',
    SCW_DEFAULT_PROJECT_ID: scaleway.projectId,
    SCW_API_URL: scaleway.apiUrl,
    SCW_CONFIG_PATH: scaleway.configFile,
    SCW_PROFILE: scaleway.profile,
    ...describeTemporal(temporal),
  };
}
