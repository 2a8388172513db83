// Batching of provisioning work, as Karpenter does: after the first pending pod,
// wait until no new one has arrived for `idleMs`, but never longer than `maxMs`,
// then plan once for all of them. A burst of 500 pods becomes one plan.
// As Karpenter's batcher, a pod extends the window once: the scheduler rewrites
// an unschedulable pod's condition as nodes come and go, and those updates of
// pods the window already holds must not keep it open to its maximum.
import { errorMessage, log } from '../../runtime/log.ts';

const logger = log.child({ logger: 'watcher.provisioner' });

export const DEFAULT_BATCH_IDLE_MS = 1_000;
export const DEFAULT_BATCH_MAX_MS = 10_000;
/** After a failed round (the catalog unreachable, the apiserver down), plan again after 1 s, doubling to 30 s. */
export const RETRY_AFTER_FAILURE_MS = { initial: 1_000, max: 30_000 } as const;

export class Batcher {
  private firstAt: number | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private failures = 0;
  /** What triggered the window being gathered (or the round running): a repeat does not extend it. */
  private readonly triggeredBy = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly idleMs = DEFAULT_BATCH_IDLE_MS,
    private readonly maxMs = DEFAULT_BATCH_MAX_MS,
  ) {}

  /**
   * Something changed (a pod went pending): plan soon. With a key (a pod's
   * UID), a second trigger for the same key in the same window is ignored.
   */
  trigger(key?: string): void {
    if (this.closed) return;
    if (key !== undefined) {
      if (this.triggeredBy.has(key)) return;
      this.triggeredBy.add(key);
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.firstAt ??= Date.now();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.fire(), this.idleMs);
    this.maxTimer ??= setTimeout(() => this.fire(), this.maxMs);
  }

  private fire(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.maxTimer) clearTimeout(this.maxTimer);
    this.idleTimer = undefined;
    this.maxTimer = undefined;
    this.firstAt = undefined;
    // The round reads every pending pod: what triggers from here on is the next window's.
    this.triggeredBy.clear();
    this.running = this.run()
      .then(() => {
        this.failures = 0;
      }, (err: unknown) => {
        // Pending pods must not wait for the next pod event: plan again soon.
        const delay = Math.min(RETRY_AFTER_FAILURE_MS.initial * 2 ** this.failures, RETRY_AFTER_FAILURE_MS.max);
        this.failures++;
        logger.warn(`planning failed, again in ${delay / 1000} s`, { error: errorMessage(err) });
        if (!this.closed) this.retryTimer = setTimeout(() => this.trigger(), delay);
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.trigger();
        }
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.maxTimer) clearTimeout(this.maxTimer);
    await this.running;
  }
}
