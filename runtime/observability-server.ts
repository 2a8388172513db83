// What a kubelet and Prometheus ask each process, on the ports Karpenter uses:
// /metrics on METRICS_PORT (our registry, and on the worker the Temporal SDK's
// own metrics read from its core's exporter), /healthz and /readyz on
// HEALTH_PROBE_PORT. Port 0 picks a free port; the returned URLs say which.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registry } from './metrics.ts';
import { errorMessage, log } from './log.ts';

export interface ObservabilityServerOptions {
  component: 'watcher' | 'worker';
  metricsPort: number;
  healthPort: number;
  /** Default 0.0.0.0: a pod's probes and Prometheus come from outside it. */
  host?: string;
  /** /readyz answers 200 while this is true (the watcher: informers synced; the worker: polling). */
  ready: () => boolean | Promise<boolean>;
  /**
   * Where the Temporal SDK's core exports its metrics, appended to /metrics
   * (the worker: runtime/temporal-runtime.ts). Passed in rather than imported:
   * the watcher has no Runtime, and importing the worker SDK for it costs 20 MiB.
   */
  temporalMetricsUrl?: () => string | undefined;
}

export interface ObservabilityServer {
  /** e.g. http://127.0.0.1:8080/metrics */
  metricsUrl: string;
  /** The health server's base URL, e.g. http://127.0.0.1:8081 (/healthz and /readyz under it). */
  healthUrl: string;
  close(): Promise<void>;
}

/** An event loop stuck this long is not alive: the kubelet restarts the container. */
export const EVENT_LOOP_STALL_MS = 10_000;
/** The SDK's exporter answers on loopback in milliseconds; a slow one must not hold a scrape. */
const TEMPORAL_SCRAPE_TIMEOUT_MS = 2_000;

const logger = log.child({ logger: 'observability' });

/** The Temporal SDK's metrics text, or nothing when this process has no Runtime of ours (the watcher). */
async function temporalMetrics(temporalMetricsUrl: (() => string | undefined) | undefined): Promise<string> {
  const url = temporalMetricsUrl?.();
  if (!url) return '';
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TEMPORAL_SCRAPE_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return await res.text();
  } catch (err) {
    logger.warn('reading the Temporal SDK metrics', { url, error: errorMessage(err) });
    return '';
  }
}

function send(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const urlHost = (host: string): string => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host);

export async function startObservabilityServer(options: ObservabilityServerOptions): Promise<ObservabilityServer> {
  const host = options.host ?? '0.0.0.0';
  // Liveness: the event loop still turns (a 1 s timer that last fired over the stall limit ago means it did not).
  let lastTick = Date.now();
  const ticker = setInterval(() => {
    lastTick = Date.now();
  }, 1_000);
  ticker.unref();

  const metrics = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.url?.split('?')[0] !== '/metrics') return send(res, 404, 'not found\n');
    try {
      const [ours, temporal] = await Promise.all([registry.metrics(), temporalMetrics(options.temporalMetricsUrl)]);
      send(res, 200, temporal ? `${ours}\n${temporal}` : ours, registry.contentType);
    } catch (err) {
      send(res, 500, `${errorMessage(err)}\n`);
    }
  };
  const health = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = req.url?.split('?')[0];
    if (path === '/healthz') {
      const stalledMs = Date.now() - lastTick;
      return stalledMs > EVENT_LOOP_STALL_MS ? send(res, 500, `event loop stalled for ${stalledMs} ms\n`) : send(res, 200, 'ok\n');
    }
    if (path === '/readyz') {
      try {
        return (await options.ready()) ? send(res, 200, 'ok\n') : send(res, 503, `${options.component} not ready\n`);
      } catch (err) {
        return send(res, 503, `${options.component} not ready: ${errorMessage(err)}\n`);
      }
    }
    send(res, 404, 'not found\n');
  };

  const metricsServer = createServer((req, res) => void metrics(req, res));
  const healthServer = createServer((req, res) => void health(req, res));
  const metricsPort = await listen(metricsServer, options.metricsPort, host);
  let healthPort: number;
  try {
    healthPort = await listen(healthServer, options.healthPort, host);
  } catch (err) {
    await close(metricsServer);
    throw new Error(`listening for health probes on ${host}:${options.healthPort}: ${errorMessage(err)}`, { cause: err });
  }
  const metricsUrl = `http://${urlHost(host)}:${metricsPort}/metrics`;
  const healthUrl = `http://${urlHost(host)}:${healthPort}`;
  logger.info('serving metrics and health probes', { component: options.component, metricsUrl, healthUrl });
  return {
    metricsUrl,
    healthUrl,
    close: async () => {
      clearInterval(ticker);
      await Promise.all([close(metricsServer), close(healthServer)]);
    },
  };
}
