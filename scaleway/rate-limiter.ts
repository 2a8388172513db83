// The client-side rate limit every Scaleway call of a process goes through: a
// token bucket shared by all ScalewayCloud clients, so a burst of workflows
// slows down here instead of drawing 429s (which Scaleway answers without
// Retry-After) that would fail activities.

/** Scaleway's reported API limit is about 100 requests per second per organisation. */
export const DEFAULT_RATE_PER_SECOND = 100;

export interface TokenBucketOptions {
  /** Sustained requests per second. */
  ratePerSecond?: number;
  /** Requests that may go at once after a quiet spell; one second's worth by default. */
  burst?: number;
  now?: () => number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const abortedWait = (signal: AbortSignal): Error => new Error('gave up waiting for the client-side rate limit', { cause: signal.reason });

export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = 0;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(options: TokenBucketOptions = {}) {
    this.ratePerSecond = options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;
    if (!(this.ratePerSecond > 0)) throw new Error(`ratePerSecond must be > 0, got ${this.ratePerSecond}`);
    this.burst = Math.max(1, options.burst ?? this.ratePerSecond);
    this.now = options.now ?? Date.now;
    this.tokens = this.burst;
    this.refilledAt = this.now();
  }

  /** Resolves when a request may be sent; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortedWait(signal));
    if (this.queue.length === 0 && this.take()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(abortedWait(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.schedule();
    });
  }

  /** Takes a token if one is there now, without waiting: for what is dropped rather than delayed (Events). */
  tryAcquire(): boolean {
    return this.queue.length === 0 && this.take();
  }

  /** Nothing is sent before `at` (a Retry-After from Scaleway applies to every caller). */
  pauseUntil(at: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, at);
    this.schedule();
  }

  /** A 429 without Retry-After: the burst allowance is spent, so what follows goes at the sustained rate. */
  throttled(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }

  /** Requests waiting for a token (for stats and tests). */
  get waiting(): number {
    return this.queue.length;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.ratePerSecond) / 1000);
    this.refilledAt = now;
  }

  private take(): boolean {
    if (this.now() < this.pausedUntil) return false;
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const now = this.now();
    this.refill();
    const untilToken = this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.ratePerSecond;
    const delay = Math.max(untilToken, this.pausedUntil - now, 0);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.release();
    }, Math.ceil(delay));
  }

  private release(): void {
    while (this.queue.length > 0 && this.take()) {
      const waiter = this.queue.shift();
      if (!waiter) break;
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
    this.schedule();
  }
}

/**
 * Milliseconds to wait from a Retry-After header (delta-seconds or an HTTP
 * date), or undefined when there is none or it cannot be read.
 */
export function parseRetryAfter(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

let shared: TokenBucket | undefined;

/** The process's one bucket, made on first use with Scaleway's reported limit. */
export function processRateLimiter(): TokenBucket {
  shared ??= new TokenBucket();
  return shared;
}
