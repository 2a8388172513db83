// The fetch the Scaleway SDK sends every request through: the process-wide rate
// limit, a client-side timeout shorter than any activity's, reads retried when
// throttled, and counters of what was sent. Errors it raises itself are
// ClientSideErrors, translated with the rest in errors.ts.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ClientSideError } from './errors.ts';
import { parseRetryAfter, type TokenBucket } from './rate-limiter.ts';
import { scalewayCalls, scalewayThrottled } from '../runtime/metrics.ts';

/** Activities run 30 s at most; a write must give up before that so its activity can still report why. */
export const WRITE_TIMEOUT_MS = 20_000;
/** One GET normally answers in well under a second: after 10 s the API or the connection is stuck. */
export const READ_ATTEMPT_TIMEOUT_MS = 10_000;
/** A read with its throttling retries and rate-limit waits: still under the 30 s of its activity. */
export const READ_BUDGET_MS = 20_000;
/** First wait after a 429 without Retry-After, doubled per retry up to the cap (with jitter). */
export const THROTTLE_BACKOFF_MS = 250;
export const THROTTLE_BACKOFF_MAX_MS = 4_000;
/** A retry needs this much of the budget left to get an answer; less, and the 429 is the answer. */
const MIN_RETRY_ATTEMPT_MS = 250;

export interface CallCounts {
  /** HTTP requests sent (retries included). */
  calls: number;
  /** 429 answers received. */
  throttled: number;
  /** Requests given up by our client-side timeout. */
  timedOut: number;
}

export interface CallStats extends CallCounts {
  /** By request kind, e.g. `GET /instance/v1/zones/{zone}/servers`. */
  byKind: Record<string, CallCounts>;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** A request's kind: its method and path with the zone and IDs taken out (one metric label per API call). */
export function requestKind(method: string, url: string): string {
  const path = new URL(url).pathname
    .replace(/\/zones\/[^/]+/, '/zones/{zone}')
    .replace(/\/regions\/[^/]+/, '/regions/{region}')
    .replace(UUID, '{id}')
    .replace(/\/user_data\/[^/]+$/, '/user_data/{key}');
  return `${method} ${path}`;
}

// The adapter call (create_server, list_server_types...) a request is sent for: the `kind` of its metric.
const callKind = new AsyncLocalStorage<string>();

/** Runs one adapter call: the requests it sends are counted under `kind`. */
export function withCallKind<T>(kind: string, work: () => Promise<T>): Promise<T> {
  return callKind.run(kind, work);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ScalewayHttpClient {
  fetch: typeof fetch;
  stats(): CallStats;
}

/** The time limits above; tests shorten them. */
export interface HttpTimeouts {
  writeMs: number;
  readAttemptMs: number;
  readBudgetMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { writeMs: WRITE_TIMEOUT_MS, readAttemptMs: READ_ATTEMPT_TIMEOUT_MS, readBudgetMs: READ_BUDGET_MS };

export function createScalewayHttpClient(limiter: TokenBucket, timeouts: Partial<HttpTimeouts> = {}, send: typeof fetch = fetch): ScalewayHttpClient {
  const limits: HttpTimeouts = { ...DEFAULT_TIMEOUTS, ...timeouts };
  const totals: CallCounts = { calls: 0, throttled: 0, timedOut: 0 };
  const byKind = new Map<string, CallCounts>();
  const count = (kind: string, field: keyof CallCounts): void => {
    totals[field]++;
    const entry = byKind.get(kind) ?? { calls: 0, throttled: 0, timedOut: 0 };
    entry[field]++;
    byKind.set(kind, entry);
  };

  /** Waits for the rate limit, then sends one request with its own timeout. */
  const attempt = async (kind: string, request: Request, deadline: number, timeoutMs: number): Promise<Response> => {
    const waitMs = deadline - Date.now();
    try {
      await limiter.acquire(AbortSignal.timeout(Math.max(1, waitMs)));
    } catch {
      throw new ClientSideError('rate-limited', `no request slot within ${Math.round(waitMs / 1000)} s under the client-side rate limit`);
    }
    const ms = Math.max(1, Math.min(timeoutMs, deadline - Date.now()));
    const signal = AbortSignal.timeout(ms);
    count(kind, 'calls');
    const metricKind = callKind.getStore() ?? kind;
    try {
      const response = await send(request, { signal });
      scalewayCalls.inc({ kind: metricKind, status: String(response.status) });
      if (response.status === 429) scalewayThrottled.inc();
      return response;
    } catch (err) {
      scalewayCalls.inc({ kind: metricKind, status: signal.aborted ? 'timeout' : 'network_error' });
      if (!signal.aborted) throw err;
      count(kind, 'timedOut');
      throw new ClientSideError('timeout', `no answer within ${(ms / 1000).toFixed(ms < 1000 ? 1 : 0)} s (client-side timeout)`, { cause: err });
    }
  };

  const wrapped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const kind = requestKind(request.method, request.url);
    const start = Date.now();
    // Writes are sent once: a write that timed out may still land, and its activity looks before trying again.
    if (request.method !== 'GET') {
      const response = await attempt(kind, request, start + limits.writeMs, limits.writeMs);
      if (response.status === 429) {
        count(kind, 'throttled');
        noteThrottle(response);
      }
      return response;
    }
    const deadline = start + limits.readBudgetMs;
    for (let retry = 0; ; retry++) {
      const response = await attempt(kind, request.clone(), deadline, limits.readAttemptMs);
      if (response.status !== 429) return response;
      count(kind, 'throttled');
      const retryAfter = noteThrottle(response);
      // A throttled read delays its caller rather than failing it, as long as its budget allows.
      const backoff = Math.min(THROTTLE_BACKOFF_MAX_MS, THROTTLE_BACKOFF_MS * 2 ** retry);
      const wait = retryAfter ?? backoff / 2 + Math.random() * (backoff / 2);
      if (Date.now() + wait + MIN_RETRY_ATTEMPT_MS >= deadline) return response;
      await response.body?.cancel();
      await sleep(wait);
    }
  };

  /** Tells the shared bucket: a Retry-After pauses every caller, a bare 429 spends the burst allowance. */
  const noteThrottle = (response: Response): number | undefined => {
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    if (retryAfter !== undefined) limiter.pauseUntil(Date.now() + retryAfter);
    else limiter.throttled();
    return retryAfter;
  };

  return {
    fetch: wrapped,
    stats: () => ({ ...totals, byKind: Object.fromEntries([...byKind].map(([k, v]) => [k, { ...v }])) }),
  };
}
