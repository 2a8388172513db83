// Expiration, the first method of a pass: forceful, outside budgets,
// consolidateAfter and do-not-disrupt (see ../expiration.ts for when a
// NodeClaim expires). Every expired NodeClaim goes, the longest expired first.
import { expiresAt } from '../expiration.ts';
import { byPriceThenName, iso, type DisruptionPass, type Member } from '../pass.ts';

export function decideExpired(pass: DisruptionPass): void {
  const expired = pass.members
    .filter((m) => m.nodeClaim.metadata.deletionTimestamp === undefined)
    .map((m) => ({ m, at: expiresAt(m.nodeClaim) }))
    .filter((e): e is { m: Member; at: Date } => e.at !== undefined && e.at.getTime() <= pass.now.getTime())
    .sort((a, b) => a.at.getTime() - b.at.getTime() || byPriceThenName(a.m, b.m));
  for (const { m, at } of expired) pass.choose(m, 'Expired', `expired at ${iso(at)} (expireAfter ${m.nodeClaim.spec.expireAfter})`);
}
