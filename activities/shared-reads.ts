// Apiserver reads shared by the activities of one worker process. A new
// NodeClaim's first workflow task runs resolveNodeClass and chooseOfferings side
// by side, then createServer: each read the NodeClaim and its NodeClass, six
// GETs before the create call. Callers asking for the same object while a read
// of it is in flight get that read's answer; an answer also serves for a short
// window after it lands, as an informer's cache would (Karpenter reads its
// NodeClasses and NodeClaims from one). Writers never go through here: the
// create writes on a NodeClaim read from here only under its resourceVersion.

/**
 * How long a NodeClass read answers later callers: long enough to reach from a first task's two reads to
 * its create in a burst (seconds apart on a busy worker), no staler than a watch cache under load. A change
 * to the NodeClass seen late makes a server of the old spec, which drift then replaces, as with Karpenter.
 */
export const NODECLASS_FRESH_MS = 5_000;

type Clock = () => number;

interface Entry {
  /** Undefined while the read is in flight. */
  settledAt: number | undefined;
  value: Promise<unknown>;
}

export class SharedReads {
  private readonly entries = new Map<string, Entry>();
  constructor(private readonly now: Clock = Date.now) {}

  /**
   * `read()`'s answer for `key`: the one in flight if any, or one that landed
   * within `freshMs`, else a new read. A failed read is never shared after it fails.
   */
  get<T>(key: string, freshMs: number, read: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && (hit.settledAt === undefined || this.now() - hit.settledAt < freshMs)) return hit.value as Promise<T>;
    const value = read();
    const entry: Entry = { settledAt: undefined, value };
    this.entries.set(key, entry);
    const forget = (): void => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    value.then(() => {
      entry.settledAt = this.now();
      // Entries go once they can no longer answer: the map holds only reads in flight or just landed.
      if (freshMs <= 0) forget();
      else setTimeout(forget, freshMs).unref();
    }, forget);
    return value;
  }

  /** Reads in flight or still fresh. */
  get size(): number {
    return this.entries.size;
  }
}
