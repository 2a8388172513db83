// Provider IDs in the form Scaleway's cloud controller manager writes on Nodes,
// so a Node registered by either of us matches the same NodeClaim.

export const PROVIDER_ID_PREFIX = 'scaleway://instance/';

const ZONE = /^[a-z]{2}-[a-z]{3}-[0-9]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ScalewayInstanceRef {
  readonly zone: string;
  readonly serverId: string;
}

export function isUuid(text: string): boolean {
  return UUID.test(text);
}

/** `scaleway://instance/<zone>/<server-uuid>`. */
export function providerIdFor(zone: string, serverId: string): string {
  if (!ZONE.test(zone)) throw new Error(`building provider ID: invalid zone "${zone}"`);
  if (!UUID.test(serverId)) throw new Error(`building provider ID: server ID "${serverId}" is not a lower-case UUID`);
  return `${PROVIDER_ID_PREFIX}${zone}/${serverId}`;
}

/** The zone and server of a Scaleway instance provider ID, or undefined for any other ID. */
export function parseProviderId(providerId: string): ScalewayInstanceRef | undefined {
  if (!providerId.startsWith(PROVIDER_ID_PREFIX)) return undefined;
  const parts = providerId.slice(PROVIDER_ID_PREFIX.length).split('/');
  if (parts.length !== 2) return undefined;
  const [zone, serverId] = parts as [string, string];
  if (!ZONE.test(zone) || !UUID.test(serverId)) return undefined;
  return { zone, serverId };
}
