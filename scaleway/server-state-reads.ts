// Reads of servers' states, shared. Every activity that waits on a server (to
// run, to be gone) asks for its state at the next tick; one tick reads every
// server asked for in a zone with one listServers call per hundred IDs. A burst
// of fifty booting servers costs one call per tick, not fifty.
import type { ScalewayCloud, ServerInfo } from './cloud.ts';
import { CloudError } from './errors.ts';

/** The longest a throttled tick waits before the next try: the waiters heartbeat-time out after a minute. */
export const THROTTLED_TICK_MAX_MS = 16_000;

interface Waiter {
  resolve: (server: ServerInfo | undefined) => void;
  reject: (err: unknown) => void;
}

export class ServerStateReads {
  private readonly waiting = new Map<string, Map<string, Waiter[]>>();
  private timer: NodeJS.Timeout | undefined;
  /** Consecutive ticks of a zone answered 429 (after the adapter's own retries): the next try waits longer. */
  private readonly throttledTicks = new Map<string, number>();

  /** `tickMs`: how often the states are read while anyone waits. */
  constructor(private readonly cloud: ScalewayCloud, private readonly tickMs: number) {}

  /**
   * The server's state read at the next tick (so never older than this call),
   * or undefined once the server is gone.
   */
  next(zone: string, serverId: string): Promise<ServerInfo | undefined> {
    return new Promise((resolve, reject) => {
      this.enqueue(zone, serverId, [{ resolve, reject }]);
      this.schedule(this.tickMs);
    });
  }

  private enqueue(zone: string, serverId: string, waiters: Waiter[]): void {
    const zoneWaiters = this.waiting.get(zone) ?? new Map<string, Waiter[]>();
    this.waiting.set(zone, zoneWaiters);
    zoneWaiters.set(serverId, [...(zoneWaiters.get(serverId) ?? []), ...waiters]);
  }

  private schedule(ms: number): void {
    this.timer ??= setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    const batch = [...this.waiting];
    this.waiting.clear();
    await Promise.all(batch.map(async ([zone, byId]) => {
      try {
        const found = new Map((await this.cloud.getServers(zone, [...byId.keys()])).map((s) => [s.id, s]));
        this.throttledTicks.delete(zone);
        for (const [id, waiters] of byId) for (const w of waiters) w.resolve(found.get(id));
      } catch (err) {
        if (err instanceof CloudError && err.kind === 'rate-limited') {
          // Throttled: the servers are no worse for it. Their waiters wait longer instead of failing
          // (a failed wait would roll back a healthy server); the next try backs off per zone.
          const streak = (this.throttledTicks.get(zone) ?? 0) + 1;
          this.throttledTicks.set(zone, streak);
          for (const [id, waiters] of byId) this.enqueue(zone, id, waiters);
          this.schedule(Math.min(THROTTLED_TICK_MAX_MS, this.tickMs * 2 ** streak));
          return;
        }
        for (const waiters of byId.values()) for (const w of waiters) w.reject(err);
      }
    }));
  }

  /** Rejects whoever still waits (worker shutdown). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const byId of this.waiting.values()) for (const waiters of byId.values()) for (const w of waiters) w.reject(new Error('server state reads closed'));
    this.waiting.clear();
  }
}
