// Batching of provisioning work, as Karpenter does: after the first pending pod,
// wait until no new one has arrived for `idleMs`, but never longer than `maxMs`,
// then plan once for all of them. A burst of 500 pods becomes one plan.

export const DEFAULT_BATCH_IDLE_MS = 1_000;
export const DEFAULT_BATCH_MAX_MS = 10_000;

export class Batcher {
  private firstAt: number | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly idleMs = DEFAULT_BATCH_IDLE_MS,
    private readonly maxMs = DEFAULT_BATCH_MAX_MS,
  ) {}

  /** Something changed (a pod went pending): plan soon. */
  trigger(): void {
    if (this.closed) return;
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
    this.running = this.run()
      .catch((err: unknown) => console.warn(`[provisioner] planning failed: ${err instanceof Error ? err.message : String(err)}`))
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
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.maxTimer) clearTimeout(this.maxTimer);
    await this.running;
  }
}
