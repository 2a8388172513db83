// The one place that turns the Temporal client configuration of the
// environment into connection options, for the watcher, the worker and the
// CLI alike. It reads what every Temporal SDK and the temporal CLI read
// (@temporalio/envconfig): the TOML profile file (TEMPORAL_CONFIG_FILE, else
// ~/.config/temporalio/temporal.toml; TEMPORAL_PROFILE, else `default`), then
// TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS* and
// TEMPORAL_GRPC_META_* over it. An API key turns TLS on (Temporal Cloud).
import { existsSync } from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Connection, type TLSConfig } from '@temporalio/client';

/** Where a local dev server listens (`temporal server start-dev`); 127.0.0.1, not localhost, which may resolve to ::1 first. */
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/** What both Connection.connect (client) and NativeConnection.connect (worker) take. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

export interface TemporalSettings {
  namespace: string;
  connection: TemporalConnectionOptions;
  /** The TOML file read, when TEMPORAL_CONFIG_FILE named one (the default file is read when present too). */
  configFile: string | undefined;
  profile: string | undefined;
}

const HOST_PORT = /^(\[[0-9a-f:.]+\]|[^\s:/[\]]+):\d{1,5}$/i;

/** The Temporal settings of this environment; throws a message naming the variable at fault. */
export function loadTemporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const configFile = env.TEMPORAL_CONFIG_FILE || undefined;
  // envconfig treats a missing file as no file: one named on purpose must exist.
  if (configFile && !existsSync(configFile)) throw new Error(`TEMPORAL_CONFIG_FILE: ${configFile} does not exist`);
  let loaded;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  } catch (err) {
    throw new Error(`reading the Temporal client configuration${configFile ? ` (${configFile})` : ''}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const { address, tls, apiKey, metadata } = loaded.connectionOptions;
  const resolvedAddress = address ?? DEFAULT_TEMPORAL_ADDRESS;
  if (!HOST_PORT.test(resolvedAddress)) throw new Error(`TEMPORAL_ADDRESS must be host:port (e.g. my-ns.a1b2c.tmprl.cloud:7233), got ${resolvedAddress}`);
  if (typeof apiKey === 'function') throw new Error('TEMPORAL_API_KEY: expected a string');
  const connection: TemporalConnectionOptions = {
    address: resolvedAddress,
    ...(tls !== undefined && tls !== null ? { tls } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(metadata && Object.keys(metadata).length ? { metadata: metadata as Record<string, string> } : {}),
  };
  return {
    namespace: loaded.namespace || DEFAULT_TEMPORAL_NAMESPACE,
    connection,
    configFile,
    profile: env.TEMPORAL_PROFILE || undefined,
  };
}

/** For the logged configuration: whether TLS and an API key are used, never the key or the certificates. */
export function describeTemporal(settings: TemporalSettings): Record<string, string | undefined> {
  const { tls, apiKey, metadata } = settings.connection;
  const mtls = typeof tls === 'object' && tls.clientCertPair !== undefined;
  return {
    TEMPORAL_ADDRESS: settings.connection.address,
    TEMPORAL_NAMESPACE: settings.namespace,
    TEMPORAL_TLS: tls ? (mtls ? 'mTLS' : 'true') : 'false',
    TEMPORAL_API_KEY: apiKey ? '<redacted>' : undefined,
    ...(metadata ? { TEMPORAL_GRPC_META: Object.keys(metadata).join(',') } : {}),
    TEMPORAL_CONFIG_FILE: settings.configFile,
    TEMPORAL_PROFILE: settings.profile,
  };
}

/** A client connection (watcher, CLI; the worker's client too). */
export function connectClient(settings: TemporalSettings): Promise<Connection> {
  return Connection.connect(settings.connection);
}
