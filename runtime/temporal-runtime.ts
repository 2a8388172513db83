// The Temporal SDK's process-wide Runtime, installed before any
// NativeConnection: its logs (the worker's, the activities' and the workflows'
// `log`, and the Rust core's, forwarded) go through runtime/log.ts, and its
// metrics are exported by the core's Prometheus exporter on a loopback port
// that /metrics reads and appends (runtime/observability-server.ts).
import { createServer } from 'node:net';
import { Runtime, type Logger as SdkLogger, type LogLevel as SdkLogLevel, type LogMetadata } from '@temporalio/worker';
import { isLevelEnabled, log, loggingSettings, type LogFields, type LogLevel } from './log.ts';
import { nodeClaimOfWorkflowId } from '../workflows/contract.ts';

export interface TemporalRuntimeOptions {
  /** The SDK's metric names' prefix: `temporal_` keeps them apart from karpenter_ and scw_karpenter_. */
  metricPrefix?: string;
  /** host:port for the core's Prometheus exporter; default a free loopback port (only /metrics reads it). */
  prometheusBindAddress?: string;
}

export interface InstalledTemporalRuntime {
  /** Where the core's Prometheus exporter answers, e.g. http://127.0.0.1:43211/metrics. */
  metricsUrl: string;
}

const SDK_LEVEL: Record<SdkLogLevel, LogLevel> = { TRACE: 'debug', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };
const CORE_LEVEL: Record<LogLevel, SdkLogLevel> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

/** The SDK's metadata keys, as our lines name them; the rest are kept as they are. */
function fieldsOf(meta: LogMetadata | undefined): { component: string; fields: LogFields } {
  const fields: LogFields = {};
  let component = 'sdk';
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (typeof key !== 'string' || value === undefined) continue;
    if (key === 'sdkComponent') component = String(value);
    else if (key === 'timestampNanos') continue;
    else fields[key] = value;
  }
  const workflowId = typeof fields['workflowId'] === 'string' ? fields['workflowId'] : undefined;
  const nodeClaim = workflowId ? nodeClaimOfWorkflowId(workflowId) : undefined;
  if (nodeClaim && fields['nodeClaim'] === undefined) fields['nodeClaim'] = nodeClaim;
  return { component, fields };
}

/** The SDK's Logger interface over ours: one line format for the SDK, the activities, the workflows and our code. */
export class TemporalLogAdapter implements SdkLogger {
  log(level: SdkLogLevel, message: string, meta?: LogMetadata): void {
    const ours = SDK_LEVEL[level];
    if (!isLevelEnabled(ours)) return;
    const { component, fields } = fieldsOf(meta);
    log.child({ logger: `temporal.${component}` }).log(ours, message, fields);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }

  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }

  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }

  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }

  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** A port nobody listens on now, on this host: the core binds its exporter to it. */
async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

let options: TemporalRuntimeOptions = {};
let installed: { runtime: Runtime; metricsUrl: string } | undefined;

/** The Runtime the SDK holds now, if any. The SDK drops it when its last Worker and NativeConnection close. */
function currentSdkRuntime(): Runtime | undefined {
  // Runtime.instance() would create a default one; `_instance` is the singleton slot it reads.
  return (Runtime as unknown as { _instance?: Runtime })._instance;
}

/**
 * Installs the Runtime once per process (a second call returns the first's),
 * and again if the SDK shut the previous one down (all its workers stopped), so
 * a restarted worker keeps our logger and exporter. Call before any
 * NativeConnection or Worker: the SDK would otherwise install its default.
 */
export async function installTemporalRuntime(opts: TemporalRuntimeOptions = {}): Promise<InstalledTemporalRuntime> {
  if (Object.keys(opts).length > 0) options = { ...options, ...opts };
  const current = currentSdkRuntime();
  if (installed && current === installed.runtime) return { metricsUrl: installed.metricsUrl };
  if (current !== undefined) {
    log.warn('a Temporal Runtime was created before ours: SDK logs and metrics keep its settings');
    return { metricsUrl: installed?.metricsUrl ?? '' };
  }
  const bindAddress = options.prometheusBindAddress ?? `127.0.0.1:${await freePort('127.0.0.1')}`;
  const runtime = Runtime.install({
    logger: new TemporalLogAdapter(),
    telemetryOptions: {
      // The core's own lines, at our level (its third-party crates only from WARN).
      logging: { filter: { core: CORE_LEVEL[loggingSettings().level], other: 'WARN' }, forward: {} },
      metrics: {
        metricPrefix: options.metricPrefix ?? 'temporal_',
        prometheus: { bindAddress, countersTotalSuffix: true, useSecondsForDurations: true, unitSuffix: true },
      },
    },
  });
  installed = { runtime, metricsUrl: `http://${bindAddress}/metrics` };
  return { metricsUrl: installed.metricsUrl };
}

/** Where the SDK's metrics are read, while a Runtime of ours is up. */
export function temporalMetricsUrl(): string | undefined {
  return installed && currentSdkRuntime() === installed.runtime ? installed.metricsUrl : undefined;
}
