// What a route handler gets and gives back.
import type { Catalog } from '../catalog/catalog.ts';
import type { Faults } from './faults.ts';
import type { LatencyProfile, LifecycleTimings } from './latency.ts';
import type { Store } from './store.ts';

/**
 * `shortage` (default): a type whose availability is `shortage` (recorded or injected) cannot be
 * created: POST /servers answers out_of_stock. `injected-only`: only stockOut() does that.
 */
export type StockPolicy = 'shortage' | 'injected-only';

export interface SimEnv {
  catalog: Catalog;
  store: Store;
  faults: Faults;
  profile: LatencyProfile;
  timeScale: number;
  stockPolicy: StockPolicy;
  defaultProjectId: string;
  /** Lifecycle durations for a type, already scaled. */
  timings(commercialType: string): LifecycleTimings;
}

export interface RequestContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  rawBody: string;
  contentType: string;
  zone: string;
  now: number;
  env: SimEnv;
}

export interface Reply {
  status: number;
  json?: unknown;
  text?: string;
  /** Defaults to application/json (the SDK parses JSON only under exactly that type). */
  contentType?: string;
  headers?: Record<string, string>;
}

export function jsonReply(status: number, json: unknown, headers: Record<string, string> = {}): Reply {
  return { status, json, headers };
}

export function noContent(contentType = 'application/json'): Reply {
  return { status: 204, contentType };
}
