// Reads of servers' states, shared. Every activity that waits on a server (to
// run, to be gone) asks for its state at the next tick; one tick reads every
// server asked for in a zone with one listServers call per hundred IDs. A burst
// of fifty booting servers costs one call per tick, not fifty.
import type { ScalewayCloud, ServerInfo } from './cloud.ts';

interface Waiter {
  resolve: (server: ServerInfo | undefined) => void;
  reject: (err: unknown) => void;
}

export class ServerStateReads {
  private readonly waiting = new Map<string, Map<string, Waiter[]>>();
  private timer: NodeJS.Timeout | undefined;

  /** `tickMs`: how often the states are read while anyone waits. */
  constructor(private readonly cloud: ScalewayCloud, private readonly tickMs: number) {}

  /**
   * The server's state read at the next tick (so never older than this call),
   * or undefined once the server is gone.
   */
  next(zone: string, serverId: string): Promise<ServerInfo | undefined> {
    return new Promise((resolve, reject) => {
      const zoneWaiters = this.waiting.get(zone) ?? new Map<string, Waiter[]>();
      this.waiting.set(zone, zoneWaiters);
      zoneWaiters.set(serverId, [...(zoneWaiters.get(serverId) ?? []), { resolve, reject }]);
      this.timer ??= setTimeout(() => void this.tick(), this.tickMs);
    });
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    const batch = [...this.waiting];
    this.waiting.clear();
    await Promise.all(batch.map(async ([zone, byId]) => {
      try {
        const found = new Map((await this.cloud.getServers(zone, [...byId.keys()])).map((s) => [s.id, s]));
        for (const [id, waiters] of byId) for (const w of waiters) w.resolve(found.get(id));
      } catch (err) {
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
