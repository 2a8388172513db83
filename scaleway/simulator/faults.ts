// Injected trouble: failing calls, stock-outs, added latency, servers stuck in starting, locked servers.
// Rules match on call kind, zone, commercial type, server id and action; a missing field matches all.
import type { Availability } from '../catalog/catalog.ts';
import { ApiError, faultError, type ApiErrorBody, type FaultContext, type FaultErrorName } from './errors.ts';
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

export class Faults {
  private nextId = 1;
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
    if (!entry) return undefined;
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
    if (!entry) return false;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.stuckRules = this.stuckRules.filter((candidate) => candidate !== entry);
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
    };
  }
}
