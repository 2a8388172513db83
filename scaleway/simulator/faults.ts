// Injected trouble: failing calls, stock-outs, added latency, servers stuck in starting, locked servers.
// Rules match on call kind, zone, commercial type, server id and action; a missing field matches all.
// chaos() adds a seeded random mode on top (the chaos suite): the same seed and the same order of
// calls give the same faults, so a failing run can be rerun.
import type { Availability } from '../catalog/catalog.ts';
import { ApiError, faultError, serverError, tooManyRequests, type ApiErrorBody, type FaultContext, type FaultErrorName } from './errors.ts';
import type { CallKind } from './routes.ts';

export interface CallMatch {
  kind?: CallKind | CallKind[];
  zone?: string;
  commercialType?: string;
  serverId?: string;
  /** Only for serverAction: poweron, poweroff, terminate. */
  action?: string;
}

export interface CallInfo {
  kind: CallKind;
  zone?: string;
  commercialType?: string;
  serverId?: string;
  action?: string;
}

/** A canned error by name, or any status and body (a string body is sent as text/plain). */
export type FaultError = FaultErrorName | { status: number; body: ApiErrorBody | string; headers?: Record<string, string> };

export interface FailRule extends CallMatch {
  error: FaultError;
  /** How many matching calls fail; default 1. Infinity fails until cleared. */
  times?: number;
}

export interface LatencyRule extends CallMatch {
  ms: number;
  /** How many matching calls are slowed; default Infinity. */
  times?: number;
}

interface Counted<T> {
  id: string;
  rule: T;
  remaining: number;
}

function matches(match: CallMatch, call: CallInfo): boolean {
  if (match.kind !== undefined) {
    const kinds = Array.isArray(match.kind) ? match.kind : [match.kind];
    if (!kinds.includes(call.kind)) return false;
  }
  if (match.zone !== undefined && match.zone !== call.zone) return false;
  if (match.commercialType !== undefined && match.commercialType !== call.commercialType) return false;
  if (match.serverId !== undefined && match.serverId !== call.serverId) return false;
  if (match.action !== undefined && match.action !== call.action) return false;
  return true;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). Not for secrets; for reproducible chaos. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What the chaos mode injects, as counted by chaosCounts(). */
export const CHAOS_FAULT_KINDS = [
  'server_error', // 500/502/503/504 on any call
  'too_many_requests', // 429 without Retry-After, in bursts, on any call (the API's rate limit)
  'connection_reset', // the connection dropped before the call is handled
  'lost_create_error', // createServer commits the server, then answers 5xx
  'lost_create_drop', // createServer commits the server, then the connection drops (the lost response)
  'out_of_stock',
  'quotas_exceeded',
  'stuck_starting', // poweron stays in starting "provisioning node" for a while
  'locked', // a mutating call on a server finds it locked for a while
  'slow_detach', // after terminate, the SBS volumes stay attached (detaching) for a while
] as const;
export type ChaosFaultKind = (typeof CHAOS_FAULT_KINDS)[number];

/** Probability per eligible call (0 to 1). Missing kinds are off. */
export type ChaosRates = Partial<Record<ChaosFaultKind, number>>;

export interface ChaosOptions {
  seed: number;
  rates: ChaosRates;
  /** Ranges [min, max] in ms for the faults that last. */
  throttleBurstMs?: [number, number];
  stuckMs?: [number, number];
  lockMs?: [number, number];
  detachMs?: [number, number];
}

/** What the router does with the connection of a call (see takeConnectionFault). */
export type ConnectionFault = 'connection_reset' | 'lost_create_error' | 'lost_create_drop';

const SERVER_MUTATIONS: readonly CallKind[] = ['serverAction', 'updateServer', 'deleteServer', 'setServerUserData', 'deleteServerUserData'];
const ERROR_STATUSES = [500, 502, 503, 504] as const;

interface ChaosState {
  options: ChaosOptions;
  random: () => number;
  counts: Record<ChaosFaultKind, number>;
  throttledUntil: number;
  timers: Set<NodeJS.Timeout>;
  /** Servers held in starting by chaos, with their release. */
  stuck: Map<string, () => void>;
  /** Servers locked by chaos (unlocked when the lock runs out or chaos stops). */
  locks: Set<string>;
}

export class Faults {
  private nextId = 1;
  private chaosState: ChaosState | undefined;
  private releaseHook: ((serverId: string) => void) | undefined;
  /** Detach delays (ms) decided at terminate, read once by the store when the server goes. */
  private readonly detachDelays = new Map<string, number>();
  private failures: Counted<FailRule>[] = [];
  private latencies: Counted<LatencyRule>[] = [];
  private stuckRules: Counted<CallMatch>[] = [];
  private readonly availability = new Map<string, Availability>();
  readonly lockedServers = new Set<string>();

  /** Fails the next matching calls with an error; returns the rule id for clear(). */
  failNext(rule: FailRule): string {
    const id = `fail-${this.nextId++}`;
    this.failures.push({ id, rule, remaining: rule.times ?? 1 });
    return id;
  }

  /** The type shows `shortage` in the zone and creating it answers out_of_stock, until restock(). */
  stockOut(zone: string, commercialType: string): void {
    this.availability.set(`${zone}|${commercialType}`, 'shortage');
  }

  /** Overrides the recorded availability of a type in a zone (restock() drops the override). */
  setAvailability(zone: string, commercialType: string, availability: Availability): void {
    this.availability.set(`${zone}|${commercialType}`, availability);
  }

  restock(zone: string, commercialType: string): void {
    this.availability.delete(`${zone}|${commercialType}`);
  }

  availabilityOverride(zone: string, commercialType: string): Availability | undefined {
    return this.availability.get(`${zone}|${commercialType}`);
  }

  /** Slows matching calls by `ms` (not scaled by timeScale). */
  addLatency(rule: LatencyRule): string {
    const id = `latency-${this.nextId++}`;
    this.latencies.push({ id, rule, remaining: rule.times ?? Infinity });
    return id;
  }

  /** Servers matched at poweron stay in starting "provisioning node" until released. */
  stickInStarting(match: Omit<CallMatch, 'kind' | 'action'> & { times?: number } = {}): string {
    const id = `stuck-${this.nextId++}`;
    this.stuckRules.push({ id, rule: match, remaining: match.times ?? Infinity });
    return id;
  }

  /** Mutating calls on a locked server answer `locked`. */
  lock(serverId: string): void {
    this.lockedServers.add(serverId);
  }

  unlock(serverId: string): void {
    this.lockedServers.delete(serverId);
  }

  /** Drops one rule by id, or everything (rules, stock-outs, locks) without an id. */
  clear(id?: string): void {
    if (id === undefined) {
      this.failures = [];
      this.latencies = [];
      this.stuckRules = [];
      this.availability.clear();
      this.chaosOff();
      this.chaosState = undefined;
      this.detachDelays.clear();
      this.lockedServers.clear();
      return;
    }
    this.failures = this.failures.filter((entry) => entry.id !== id);
    this.latencies = this.latencies.filter((entry) => entry.id !== id);
    this.stuckRules = this.stuckRules.filter((entry) => entry.id !== id);
  }

  /** Consumes the first matching failure rule and returns its error. */
  takeFailure(call: CallInfo, context: FaultContext): ApiError | undefined {
    const entry = this.failures.find((candidate) => candidate.remaining > 0 && matches(candidate.rule, call));
    if (!entry) return this.chaosFailure(call, context);
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.failures = this.failures.filter((candidate) => candidate !== entry);
    const { error } = entry.rule;
    if (typeof error === 'string') return faultError(error, context);
    return new ApiError(error.status, error.body, error.headers ?? {});
  }

  /** Total injected delay for a call (consumes counted rules). */
  takeLatency(call: CallInfo): number {
    let total = 0;
    for (const entry of this.latencies) {
      if (entry.remaining <= 0 || !matches(entry.rule, call)) continue;
      entry.remaining -= 1;
      total += entry.rule.ms;
    }
    this.latencies = this.latencies.filter((entry) => entry.remaining > 0);
    return total;
  }

  /** Whether a poweron of this server should never finish (consumes counted rules). */
  takeStuck(call: CallInfo): boolean {
    const entry = this.stuckRules.find((candidate) => candidate.remaining > 0 && matches(candidate.rule, call));
    if (!entry) return this.chaosStuck(call);
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.stuckRules = this.stuckRules.filter((candidate) => candidate !== entry);
    return true;
  }

  // --- seeded random mode ------------------------------------------------------------------------

  /** Starts injecting random faults at the given rates, seeded; replaces a running chaos mode. */
  chaos(options: ChaosOptions): void {
    this.chaosOff();
    const counts = Object.fromEntries(CHAOS_FAULT_KINDS.map((kind) => [kind, 0])) as Record<ChaosFaultKind, number>;
    this.chaosState = { options, random: mulberry32(options.seed), counts, throttledUntil: 0, timers: new Set(), stuck: new Map(), locks: new Set() };
  }

  /** Stops injecting: held servers go on to running, chaos locks are lifted. Counts stay readable. */
  chaosOff(): void {
    const state = this.chaosState;
    if (!state) return;
    state.options = { ...state.options, rates: {} };
    for (const timer of state.timers) clearTimeout(timer);
    state.timers.clear();
    for (const release of [...state.stuck.values()]) release();
    for (const serverId of state.locks) this.lockedServers.delete(serverId);
    state.locks.clear();
  }

  /** Faults injected by the chaos mode so far, by kind (all zero when it never ran). */
  chaosCounts(): Record<ChaosFaultKind, number> {
    return { ...(this.chaosState?.counts ?? Object.fromEntries(CHAOS_FAULT_KINDS.map((kind) => [kind, 0])) as Record<ChaosFaultKind, number>) };
  }

  /** The simulator lets a held server reach running through this (releaseStuck). */
  onRelease(release: (serverId: string) => void): void {
    this.releaseHook = release;
  }

  /**
   * What happens to the connection of this call: dropped before it is handled, or, for a
   * createServer, its answer lost after the server is created. The router reports a lost
   * answer with countLostResponse() once the create did commit.
   */
  takeConnectionFault(call: CallInfo): ConnectionFault | undefined {
    const state = this.chaosState;
    if (!state) return undefined;
    if (this.draw(state, 'connection_reset')) return 'connection_reset';
    if (call.kind === 'createServer') {
      // Counted only once the create has committed (countLostResponse).
      if (this.draw(state, 'lost_create_error', false)) return 'lost_create_error';
      if (this.draw(state, 'lost_create_drop', false)) return 'lost_create_drop';
    }
    return undefined;
  }

  countLostResponse(fault: 'lost_create_error' | 'lost_create_drop'): void {
    if (this.chaosState) this.chaosState.counts[fault] += 1;
  }

  /** The store asks once, when a terminated server goes, how long its SBS volumes stay attached. */
  takeDetachDelay(serverId: string): number {
    const ms = this.detachDelays.get(serverId) ?? 0;
    this.detachDelays.delete(serverId);
    return ms;
  }

  private draw(state: ChaosState, kind: ChaosFaultKind, count = true): boolean {
    const rate = state.options.rates[kind] ?? 0;
    if (rate <= 0) return false;
    const hit = state.random() < rate;
    if (hit && count) state.counts[kind] += 1;
    return hit;
  }

  private between(state: ChaosState, range: [number, number] | undefined, fallback: [number, number]): number {
    const [min, max] = range ?? fallback;
    return Math.round(min + state.random() * (max - min));
  }

  private later(state: ChaosState, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      state.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    state.timers.add(timer);
  }

  private chaosFailure(call: CallInfo, context: FaultContext): ApiError | undefined {
    const state = this.chaosState;
    if (!state) return undefined;
    const now = Date.now();
    // Scaleway's rate limit answers every call of a burst, without Retry-After.
    if (now < state.throttledUntil) {
      state.counts.too_many_requests += 1;
      return tooManyRequests();
    }
    if (this.draw(state, 'too_many_requests')) {
      state.throttledUntil = now + this.between(state, state.options.throttleBurstMs, [200, 2_000]);
      return tooManyRequests();
    }
    if (this.draw(state, 'server_error')) {
      return serverError(ERROR_STATUSES[Math.floor(state.random() * ERROR_STATUSES.length)]);
    }
    if (call.kind === 'createServer') {
      if (this.draw(state, 'out_of_stock')) return faultError('out_of_stock', context);
      if (this.draw(state, 'quotas_exceeded')) return faultError('quotas_exceeded', context);
    }
    const serverId = call.serverId;
    if (serverId && SERVER_MUTATIONS.includes(call.kind) && !this.lockedServers.has(serverId) && this.draw(state, 'locked')) {
      this.lockedServers.add(serverId);
      state.locks.add(serverId);
      this.later(state, this.between(state, state.options.lockMs, [5_000, 30_000]), () => {
        state.locks.delete(serverId);
        this.lockedServers.delete(serverId);
      });
      return faultError('locked', context);
    }
    if (serverId && call.kind === 'serverAction' && call.action === 'terminate' && this.draw(state, 'slow_detach')) {
      this.detachDelays.set(serverId, this.between(state, state.options.detachMs, [5_000, 30_000]));
    }
    return undefined;
  }

  private chaosStuck(call: CallInfo): boolean {
    const state = this.chaosState;
    const serverId = call.serverId;
    if (!state || !serverId || !this.draw(state, 'stuck_starting')) return false;
    const release = (): void => {
      state.stuck.delete(serverId);
      this.releaseHook?.(serverId);
    };
    state.stuck.set(serverId, release);
    this.later(state, this.between(state, state.options.stuckMs, [10_000, 60_000]), release);
    return true;
  }

  /** A JSON view for the admin endpoint and for test failure messages. */
  describe(): Record<string, unknown> {
    return {
      failures: this.failures.map(({ id, rule, remaining }) => ({ id, ...rule, remaining })),
      latencies: this.latencies.map(({ id, rule, remaining }) => ({ id, ...rule, remaining })),
      stuck: this.stuckRules.map(({ id, rule, remaining }) => ({ id, ...rule, remaining })),
      availability: Object.fromEntries(this.availability),
      locked: [...this.lockedServers],
      ...(this.chaosState ? { chaos: { seed: this.chaosState.options.seed, rates: this.chaosState.options.rates, counts: this.chaosState.counts } } : {}),
    };
  }
}
