// A work queue keyed by object name: a key is handled by one reconcile at a
// time, events arriving meanwhile fold into one more pass, and failures come
// back with exponential backoff (as controller-runtime's rate-limited queue).
import { errorMessage, log } from '../runtime/log.ts';

const logger = log.child({ logger: 'watcher.queue' });

/** The field a queue's key names: a NodeClaim queue's key is a NodeClaim, a NodePool queue's a NodePool. */
function keyFields(queue: string, key: string): Record<string, string> {
  if (queue === 'NodeClaim') return { nodeClaim: key };
  if (queue === 'NodePool') return { nodePool: key };
  if (queue === 'Node') return { node: key };
  if (queue === 'ScalewayNodeClass') return { nodeClass: key };
  return {};
}


const BASE_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

export class KeyedQueue {
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly name: string, private readonly reconcile: (key: string) => Promise<void>) {}

  add(key: string): void {
    if (this.closed) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.running.add(key);
    this.inFlight++;
    void this.run(key);
  }

  private async run(key: string): Promise<void> {
    try {
      await this.reconcile(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min(MAX_RETRY_MS, BASE_RETRY_MS * 2 ** (n - 1));
      logger.warn(`reconciling ${this.name} failed, retrying`, { queue: this.name, key, ...keyFields(this.name, key), retry: n, delayMs: delay, error: errorMessage(err) });
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.add(key);
      }, delay);
      timer.unref();
      this.timers.add(timer);
    } finally {
      this.running.delete(key);
      this.inFlight--;
      if (this.dirty.delete(key)) this.add(key);
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Resolves when nothing is being reconciled. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    await this.idle();
  }
}
