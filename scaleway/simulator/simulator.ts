// startSimulator(): an HTTP server on 127.0.0.1 that answers like the Scaleway Instance, Block and
// Marketplace APIs, with a fault injection API on the returned object and under /_sim.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadCatalog, type Catalog } from '../catalog/catalog.ts';
import { ADMIN_PREFIX, handleAdminRequest } from './admin.ts';
import { systemClock, type Clock } from './clock.ts';
import type { SimEnv, StockPolicy } from './context.ts';
import { Faults } from './faults.ts';
import { profileByName, scaleTimings, type LatencyProfile, type ProfileName } from './latency.ts';
import { handleApiRequest, type RecordedRequest } from './router.ts';
import type { CallKind } from './routes.ts';
import { renderBlockVolume, renderServer } from './shapes.ts';
import { Store } from './store.ts';

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Loopback only by default; the simulator has no real auth. */
  host?: string;
  /** `instant` (default) or `recorded`, or a custom profile. */
  profile?: ProfileName | LatencyProfile;
  /** Multiplies every duration of the profile: 0.05 runs the recorded timings 20 times faster. */
  timeScale?: number;
  /** Lifecycle time source; a manual clock (createManualClock) makes transitions step by step. */
  clock?: Clock;
  /** Delay answers by the profile's response times (default true). Wall-clock sleeps, whatever the clock. */
  requestLatency?: boolean;
  stockPolicy?: StockPolicy;
  /** Project of servers created without one. */
  defaultProjectId?: string;
  /** When set, X-Auth-Token must equal it (otherwise any UUID is accepted). */
  secretKey?: string;
}

export interface RequestFilter {
  kind?: CallKind;
  method?: string;
  pathPrefix?: string;
  status?: number;
  zone?: string;
}

export interface Simulator {
  /** Base URL without a trailing slash, for createClient({ apiURL }) or SCW_API_URL. */
  readonly url: string;
  readonly port: number;
  readonly faults: Faults;
  readonly catalog: Catalog;
  readonly clock: Clock;
  /** Every API request answered so far (admin calls excluded), oldest first. */
  readonly requests: readonly RecordedRequest[];
  countRequests(filter?: RequestFilter): number;
  clearRequests(): void;
  /** Current servers as GET /servers/{id} would render them. */
  servers(zone?: string): Record<string, unknown>[];
  /** Current SBS volumes as the block API renders them. */
  volumes(zone?: string): Record<string, unknown>[];
  /** Lets servers held by stickInStarting() reach running now (one server, or all). */
  releaseStuck(serverId?: string): void;
  /** Forgets servers, volumes, faults and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_PROJECT_ID = '6f9d3d1e-8d51-4c1b-9a38-0d52e1c7a3b4';

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const catalog = loadCatalog();
  const clock = options.clock ?? systemClock;
  const profile = typeof options.profile === 'object' ? options.profile : profileByName(options.profile ?? 'instant');
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale >= 0)) throw new Error(`timeScale must be a number >= 0, got ${timeScale}`);
  const store = new Store();
  const faults = new Faults();
  store.detachDelayMs = (serverId) => faults.takeDetachDelay(serverId);
  const env: SimEnv = {
    catalog,
    store,
    faults,
    profile,
    timeScale,
    stockPolicy: options.stockPolicy ?? 'shortage',
    defaultProjectId: options.defaultProjectId ?? DEFAULT_PROJECT_ID,
    timings: (commercialType) => scaleTimings((catalog.facts(commercialType)?.gpu ?? 0) > 0 ? profile.gpu : profile.other, timeScale),
  };
  const requests: RecordedRequest[] = [];
  const sleeping = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const entry = { timer: setTimeout(() => {
      sleeping.delete(entry);
      resolve();
    }, ms), resolve };
    sleeping.add(entry);
  });

  let url = '';
  const server: Server = createServer((req, res) => {
    const requestUrl = new URL(req.url ?? '/', url || 'http://127.0.0.1');
    const work = requestUrl.pathname.startsWith(`${ADMIN_PREFIX}/`)
      ? handleAdminRequest(req, res, requestUrl, simulator)
      : handleApiRequest(req, res, requestUrl, {
          env,
          clock,
          requestLatency: options.requestLatency ?? true,
          secretKey: options.secretKey,
          baseUrl: () => url,
          sleep,
          record: (entry) => requests.push(entry),
        });
    work.catch((error: unknown) => {
      console.error('scaleway simulator: request failed', error);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end();
    });
  });

  // Idle connections stay open a minute, as behind Scaleway's load balancers: Node's 5 s default
  // races clients that reuse a connection just as the server drops it ("socket hang up").
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  // Servers that the chaos mode held in starting go on to running when their time is up.
  faults.onRelease((serverId) => simulator.releaseStuck(serverId));
  const simulator: Simulator = {
    url,
    port,
    faults,
    catalog,
    clock,
    requests,
    countRequests: (filter = {}) => requests.filter((entry) =>
      (filter.kind === undefined || entry.kind === filter.kind)
      && (filter.method === undefined || entry.method === filter.method)
      && (filter.pathPrefix === undefined || entry.path.startsWith(filter.pathPrefix))
      && (filter.status === undefined || entry.status === filter.status)
      && (filter.zone === undefined || entry.zone === filter.zone)).length,
    clearRequests: () => {
      requests.length = 0;
    },
    servers: (zone) => {
      store.settle(clock.now());
      return [...store.servers.values()].filter((record) => !zone || record.zone === zone).map((record) => renderServer(record, store));
    },
    volumes: (zone) => {
      store.settle(clock.now());
      return [...store.blockVolumes.values()].filter((volume) => !zone || volume.zone === zone).map(renderBlockVolume);
    },
    releaseStuck: (serverId) => {
      const now = clock.now();
      store.settle(now);
      for (const record of store.servers.values()) {
        if (!record.stuck || (serverId !== undefined && record.id !== serverId)) continue;
        record.stuck = false;
        if (record.lifecycle.state === 'starting') {
          record.lifecycle.pending = [{ at: now, state: 'running', detail: 'booting kernel', placed: true }];
        }
      }
      store.settle(now);
    },
    reset: () => {
      store.clear();
      faults.clear();
      requests.length = 0;
    },
    close: async () => {
      for (const entry of sleeping) {
        clearTimeout(entry.timer);
        entry.resolve();
      }
      sleeping.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
  return simulator;
}
