// Every cache of cloud facts, each with its TTL and the reason for it. One
// instance of each lives in the worker process (activities share them); the
// watcher keeps its own catalog and unavailable offerings for the planner.
import type { ScalewayCloud, ServerTypeOffer } from './cloud.ts';

/**
 * Server types and prices change a few times a year, availability within
 * minutes: one minute keeps a burst of provisionings to one catalog read per
 * zone without offering a type for long after Scaleway runs out of it.
 */
export const CATALOG_TTL_MS = 60_000;

/**
 * For five minutes past its TTL, a zone's last catalog still answers at once
 * while a fresh one is read behind it: a burst after a quiet minute does not
 * wait on six catalog pages before its first server is created. The cost is an
 * availability up to six minutes old, which only orders the fallbacks; a type
 * that ran out since fails its create and is skipped (UNAVAILABLE_OFFERING_TTL_MS).
 */
export const CATALOG_STALE_SERVE_MS = 5 * 60_000;

/**
 * After an out_of_stock or quota error, the (zone, type) is skipped for three
 * minutes: long enough for the rest of a burst to go elsewhere, short enough
 * to come back once Scaleway restocks (the AWS provider uses the same window).
 */
export const UNAVAILABLE_OFFERING_TTL_MS = 3 * 60_000;

/**
 * Marketplace images change when Scaleway publishes a new build, a few times a
 * month: ten minutes saves a lookup per server in a burst and still picks up a
 * new build the same hour.
 */
export const IMAGE_TTL_MS = 10 * 60_000;

type Clock = () => number;

interface CatalogEntry {
  at: number;
  offers: Promise<ServerTypeOffer[]>;
  /** The catalog once read: what answers while the entry is stale. */
  settled?: ServerTypeOffer[];
  refreshing?: boolean;
}

export class CatalogCache {
  private readonly entries = new Map<string, CatalogEntry>();
  constructor(
    private readonly cloud: ScalewayCloud,
    private readonly now: Clock = Date.now,
    private readonly ttlMs = CATALOG_TTL_MS,
    private readonly staleServeMs = CATALOG_STALE_SERVE_MS,
  ) {}

  /**
   * The zone's catalog with availability, read at most once per TTL (concurrent
   * callers share one read). Past the TTL the last one answers at once while a
   * fresh one is read, up to `staleServeMs`; after that callers wait.
   */
  offers(zone: string): Promise<ServerTypeOffer[]> {
    const hit = this.entries.get(zone);
    const age = hit ? this.now() - hit.at : Infinity;
    if (hit && age < this.ttlMs) return hit.offers;
    if (hit?.settled && age < this.ttlMs + this.staleServeMs) {
      if (!hit.refreshing) {
        hit.refreshing = true;
        // A failed refresh leaves the stale entry to answer (and the next caller to try again).
        this.read(zone, true).catch(() => {
          hit.refreshing = false;
        });
      }
      return Promise.resolve(hit.settled);
    }
    return this.read(zone);
  }

  private read(zone: string, behindStale = false): Promise<ServerTypeOffer[]> {
    const offers = this.cloud.listServerTypes(zone);
    const entry: CatalogEntry = { at: this.now(), offers };
    // While a refresh behind a stale entry is in flight, the stale entry keeps answering.
    if (!behindStale) this.entries.set(zone, entry);
    offers.then((value) => {
      entry.settled = value;
      this.entries.set(zone, entry);
    }, () => {
      // A failed read is not cached: the next caller tries again.
      if (this.entries.get(zone) === entry) this.entries.delete(zone);
    });
    return offers;
  }
}

/**
 * Offerings (zone × type) a create just found empty. The worker marks them when
 * Scaleway refuses a create; the watcher learns the same marks from the
 * NodeClaims the launch records them on (watcher/unavailable-offerings-feed.ts),
 * so the planner and the launch skip the same offerings for the same window.
 */
export class UnavailableOfferings {
  private readonly until = new Map<string, { until: number; reason: string }>();
  constructor(private readonly now: Clock = Date.now, readonly ttlMs = UNAVAILABLE_OFFERING_TTL_MS) {}

  private static key(zone: string, commercialType: string): string {
    return `${zone}/${commercialType}`;
  }

  /**
   * Skips the offering for the TTL from `since` (now, or when another process
   * saw the refusal). A mark that would end sooner than the one held is ignored,
   * so replaying an old record never shortens a fresh one.
   */
  markUnavailable(zone: string, commercialType: string, reason: string, since = this.now()): void {
    const now = this.now();
    const until = since + this.ttlMs;
    if (until <= now) return;
    const key = UnavailableOfferings.key(zone, commercialType);
    const held = this.until.get(key);
    if (held && held.until > until) return;
    this.until.set(key, { until, reason });
    // Expired marks go when a new one comes: the map holds at most the offerings refused within one TTL.
    for (const [k, entry] of this.until) if (entry.until <= now) this.until.delete(k);
  }

  /** Why the offering is skipped, or undefined when it may be tried. */
  unavailable(zone: string, commercialType: string): string | undefined {
    const key = UnavailableOfferings.key(zone, commercialType);
    const entry = this.until.get(key);
    if (!entry) return undefined;
    if (this.now() >= entry.until) {
      this.until.delete(key);
      return undefined;
    }
    return entry.reason;
  }

  /** How many marks are held (expired ones included until the next mark sweeps them). */
  get size(): number {
    return this.until.size;
  }
}

export class ImageCache {
  private readonly entries = new Map<string, { at: number; image: Promise<{ id: string; label: string }> }>();
  constructor(private readonly cloud: ScalewayCloud, private readonly now: Clock = Date.now, private readonly ttlMs = IMAGE_TTL_MS) {}

  /** The image of a label for a zone and commercial type, resolved at most once per TTL. */
  resolve(zone: string, label: string, commercialType: string | undefined, rootVolumeType: 'sbs_volume' | 'l_ssd'): Promise<{ id: string; label: string }> {
    const key = `${zone}/${label}/${commercialType ?? '*'}/${rootVolumeType}`;
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.image;
    const image = this.cloud.resolveImage(zone, label, commercialType, rootVolumeType);
    this.entries.set(key, { at: this.now(), image });
    image.catch(() => {
      if (this.entries.get(key)?.image === image) this.entries.delete(key);
    });
    return image;
  }
}
