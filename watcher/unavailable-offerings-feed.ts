// What the launch found empty, told to the planner. The worker records each
// refused create on its NodeClaim (activities/offerings.ts); every NodeClaim
// event brings those records here, into the watcher's own UnavailableOfferings,
// each for the TTL counted from when the create was refused. After a restart
// the first list of NodeClaims brings back the records still within their TTL:
// no more is kept, and nothing past its TTL is.
import type { UnavailableOfferings } from '../scaleway/caches.ts';
import { ANNOTATION_UNAVAILABLE_OFFERINGS, parseUnavailableOfferings } from '../kube/api/unavailable-offerings-annotation.ts';

/** Feeds `unavailable` from a NodeClaim's records (those past their TTL are ignored by markUnavailable). */
export function feedUnavailableOfferings(unavailable: UnavailableOfferings, nodeClaim: { metadata?: { annotations?: Record<string, string> | undefined } | undefined }): void {
  for (const r of parseUnavailableOfferings(nodeClaim.metadata?.annotations?.[ANNOTATION_UNAVAILABLE_OFFERINGS])) {
    unavailable.markUnavailable(r.zone, r.commercialType, r.reason, Date.parse(r.at));
  }
}
