// The offerings a NodeClaim's launch found empty, recorded on the NodeClaim so
// the watcher, which plans in another process, learns them from the NodeClaims
// it already watches (watcher/unavailable-offerings-feed.ts). The value is a
// short JSON list, bounded and pruned of records past their TTL at each write.
import { z } from 'zod';

export const ANNOTATION_UNAVAILABLE_OFFERINGS = 'karpenter.scaleway.com/unavailable-offerings';

/** One refused create: where, what, why (`out of stock`, `over quota`) and when (ISO 8601). */
export interface UnavailableOfferingRecord {
  zone: string;
  commercialType: string;
  reason: string;
  at: string;
}

/**
 * A NodeClaim falls back through at most ten offerings (activities/offerings.ts),
 * so ten records hold every refusal of one launch; older ones are dropped first.
 */
export const MAX_UNAVAILABLE_RECORDS = 10;

const recordSchema = z.object({ zone: z.string().min(1), commercialType: z.string().min(1), reason: z.string(), at: z.string().refine((s) => !Number.isNaN(Date.parse(s))) });

/** The records an annotation value holds; a value that is not such a list (edited by hand, a newer format) holds none. */
export function parseUnavailableOfferings(value: string | undefined): UnavailableOfferingRecord[] {
  if (!value) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((r) => {
    const parsed = recordSchema.safeParse(r);
    return parsed.success ? [parsed.data] : [];
  });
}

/** The annotation value with `record` added: the same offering's older record and records past `ttlMs` dropped, at most MAX_UNAVAILABLE_RECORDS kept. */
export function addUnavailableOffering(value: string | undefined, record: UnavailableOfferingRecord, nowMs: number, ttlMs: number): string {
  const kept = parseUnavailableOfferings(value).filter((r) => Date.parse(r.at) + ttlMs > nowMs && !(r.zone === record.zone && r.commercialType === record.commercialType));
  return JSON.stringify([...kept, record].slice(-MAX_UNAVAILABLE_RECORDS));
}
