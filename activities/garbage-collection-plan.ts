// Which cloud resources and NodeClaims garbage collection releases, decided
// from one inventory (what Scaleway and the apiserver listed) by pure code, so
// every rule is tested without a cloud. The types are what crosses the
// workflow boundary: plain data, never a secret (token Secrets are named, their
// contents are never read).
import { TAG_PREFIX } from '../kube/api/constants.ts';
import { parseProviderId } from '../kube/api/provider-id.ts';
import type { NodeClaimRef } from './contract.ts';
import type { ServerInfo, VolumeInfo } from '../scaleway/cloud.ts';
import { nodeClaimUidTag, rootVolumeName } from './deps.ts';
import { MANAGED_BY, MANAGED_BY_LABEL, NODECLAIM_UID_LABEL } from '../bootstrap/kubeadm-token.ts';

/** Why a resource is released: also the reason of its Event or log line. */
export const GC_REASON = {
  /** The server, volume or token belongs to a NodeClaim that no longer exists (or to none). */
  NodeClaimNotFound: 'NodeClaimNotFound',
  /** A second server of a launched NodeClaim: a create that landed after the one the NodeClaim records. */
  DuplicateServer: 'DuplicateServer',
  /** A launched NodeClaim whose server Scaleway no longer has. */
  ServerNotFound: 'ServerNotFound',
} as const;
export type GcReason = (typeof GC_REASON)[keyof typeof GC_REASON];

export type GarbageAction =
  | {
      kind: 'server';
      zone: string;
      serverId: string;
      serverName: string;
      /** From the server's nodeclaim-uid tag; undefined when it has none. */
      nodeClaimUid: string | undefined;
      /** The live NodeClaim a duplicate belongs to (its Event goes there). */
      nodeClaim: NodeClaimRef | undefined;
      /** Its volumes when listed: deleted after it, even by a retry that finds the server gone. */
      volumes: ServerVolume[];
      reason: typeof GC_REASON.NodeClaimNotFound | typeof GC_REASON.DuplicateServer;
      message: string;
    }
  | { kind: 'volume'; zone: string; volumeId: string; volumeName: string; nodeClaimUid: string; reason: typeof GC_REASON.NodeClaimNotFound; message: string }
  | { kind: 'token'; secretName: string; nodeClaimUid: string; reason: typeof GC_REASON.NodeClaimNotFound; message: string }
  | { kind: 'nodeclaim'; nodeClaim: NodeClaimRef; providerID: string; reason: typeof GC_REASON.ServerNotFound; message: string };

export interface GarbagePlan {
  actions: GarbageAction[];
  /** Zones whose servers and volumes were listed. */
  zones: string[];
  /** Zones that could not be listed this run: nothing in them is decided on. */
  skippedZones: { zone: string; error: string }[];
}

export interface GarbageCollectionInput {
  /** How old an unowned resource (or a launched NodeClaim) must be before it is released. */
  gracePeriodMs: number;
  /** Plan and log, release nothing. */
  dryRun: boolean;
}

// ---- The inventory ------------------------------------------------------------

/** `sbs_volume` on the Block API; `l_ssd` (local) on the Instance API. */
export type ServerVolume = ServerInfo['volumes'][number];

/** What planning reads of a listed server: the adapter's own shape, minus what it does not need. */
export type ServerFacts = Pick<ServerInfo, 'id' | 'zone' | 'name' | 'state' | 'tags' | 'volumes' | 'createdAt'>;

export type VolumeFacts = VolumeInfo;

export interface TokenFacts {
  name: string;
  type: string | undefined;
  labels: Readonly<Record<string, string>>;
  createdAt: Date | undefined;
}

export interface NodeClaimFacts {
  name: string;
  uid: string;
  /** Its nodeClassRef is a ScalewayNodeClass: only those are ours to delete. */
  ours: boolean;
  deleting: boolean;
  providerID: string | undefined;
  /** When Launched became True; undefined while not launched. */
  launchedAt: Date | undefined;
}

export interface GarbageInventory {
  clusterName: string;
  now: Date;
  gracePeriodMs: number;
  /** Zones whose listings below are complete. */
  zones: readonly string[];
  servers: readonly ServerFacts[];
  volumes: readonly VolumeFacts[];
  tokens: readonly TokenFacts[];
  /** Every NodeClaim of the cluster, ours or not: any of them keeps its UID's resources alive. */
  nodeClaims: readonly NodeClaimFacts[];
}

// ---- Guards -------------------------------------------------------------------

/** The two tags of resourceTags (deps.ts) that make a server ours and this cluster's (test/unit/gc-plan.test.ts keeps them in step). */
export const MANAGED_TAG = `${TAG_PREFIX}/managed`;
export const clusterTag = (clusterName: string): string => `${TAG_PREFIX}/cluster=${clusterName}`;
const UID_TAG_PREFIX = nodeClaimUidTag('');
/** Root volumes are named `scw-karpenter-<cluster>-<nodeclaim-uid>`. */
export const volumeNamePrefix = (clusterName: string): string => rootVolumeName(clusterName, { uid: '' });
/** Labels every bootstrap-token Secret we mint carries. */
export const TOKEN_MANAGED_BY = { key: MANAGED_BY_LABEL, value: MANAGED_BY } as const;
export const TOKEN_UID_LABEL = NODECLAIM_UID_LABEL;
export const TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Ours and this cluster's: both tags, exactly. Nothing else is ever released. */
export function isOurServer(tags: readonly string[], clusterName: string): boolean {
  return tags.includes(MANAGED_TAG) && tags.includes(clusterTag(clusterName));
}

export const nodeClaimUidOf = (tags: readonly string[]): string | undefined => tags.find((t) => t.startsWith(UID_TAG_PREFIX))?.slice(UID_TAG_PREFIX.length);

/**
 * The NodeClaim UID a volume name belongs to, for this cluster only. The rest
 * must be exactly a UUID: cluster `a`'s prefix also starts cluster `a-b`'s
 * names (`scw-karpenter-a-b-<uid>`), which must never match.
 */
export function volumeNodeClaimUid(name: string, clusterName: string): string | undefined {
  const prefix = volumeNamePrefix(clusterName);
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return UUID.test(rest) ? rest : undefined;
}

export function isOurToken(token: TokenFacts): boolean {
  return token.type === TOKEN_SECRET_TYPE && token.labels[TOKEN_MANAGED_BY.key] === TOKEN_MANAGED_BY.value && Boolean(token.labels[TOKEN_UID_LABEL]);
}

/** Unknown age counts as young: a resource whose age we cannot read is never released. */
const olderThan = (at: Date | undefined, inv: GarbageInventory): boolean => at !== undefined && inv.now.getTime() - at.getTime() >= inv.gracePeriodMs;

const age = (at: Date | undefined, now: Date): string => (at ? `${Math.round((now.getTime() - at.getTime()) / 1000)} s` : 'unknown');

// ---- The plan -----------------------------------------------------------------

/**
 * What to release and why. Servers and volumes without our managed and cluster
 * marks are never considered; everything waits out the grace period, so a
 * resource created while the inventory was read (its NodeClaim not yet listed)
 * is safe.
 */
export function planGarbage(inv: GarbageInventory): GarbageAction[] {
  const byUid = new Map(inv.nodeClaims.map((nc) => [nc.uid, nc]));
  const listedZones = new Set(inv.zones);
  const actions: GarbageAction[] = [];

  const servers = inv.servers.filter((s) => listedZones.has(s.zone) && isOurServer(s.tags, inv.clusterName));
  for (const server of servers) {
    if (!olderThan(server.createdAt, inv)) continue;
    const uid = nodeClaimUidOf(server.tags);
    const owner = uid === undefined ? undefined : byUid.get(uid);
    const base = { kind: 'server' as const, zone: server.zone, serverId: server.id, serverName: server.name, nodeClaimUid: uid, volumes: server.volumes.map((v) => ({ id: v.id, type: v.type })) };
    if (!owner) {
      const whose = uid === undefined ? 'carries no NodeClaim UID' : `belongs to NodeClaim UID ${uid}, which no longer exists`;
      actions.push({ ...base, nodeClaim: undefined, reason: GC_REASON.NodeClaimNotFound, message: `server ${server.name} (${server.id}) in ${server.zone} ${whose} (age ${age(server.createdAt, inv.now)})` });
      continue;
    }
    // A duplicate only once its NodeClaim settled on another server, long enough ago that no create of it is still in flight.
    if (owner.deleting || !owner.providerID || !olderThan(owner.launchedAt, inv)) continue;
    const recorded = parseProviderId(owner.providerID);
    if (!recorded || (recorded.zone === server.zone && recorded.serverId === server.id)) continue;
    actions.push({
      ...base,
      nodeClaim: { name: owner.name, uid: owner.uid },
      reason: GC_REASON.DuplicateServer,
      message: `server ${server.name} (${server.id}) in ${server.zone} is a duplicate of NodeClaim ${owner.name}, whose server is ${owner.providerID} (age ${age(server.createdAt, inv.now)})`,
    });
  }

  // A volume attached anywhere, or a volume of any listed server, is in use whatever its name says.
  const serverVolumes = new Set(inv.servers.flatMap((s) => s.volumes.map((v) => v.id)));
  for (const volume of inv.volumes) {
    if (!listedZones.has(volume.zone)) continue;
    const uid = volumeNodeClaimUid(volume.name, inv.clusterName);
    if (uid === undefined || byUid.has(uid)) continue;
    if (volume.referencedBy > 0 || serverVolumes.has(volume.id) || volume.status !== 'available') continue;
    if (!olderThan(volume.createdAt, inv)) continue;
    actions.push({
      kind: 'volume',
      zone: volume.zone,
      volumeId: volume.id,
      volumeName: volume.name,
      nodeClaimUid: uid,
      reason: GC_REASON.NodeClaimNotFound,
      message: `volume ${volume.name} (${volume.id}) in ${volume.zone} belongs to NodeClaim UID ${uid}, which no longer exists, and is attached to nothing (age ${age(volume.createdAt, inv.now)})`,
    });
  }

  for (const token of inv.tokens) {
    if (!isOurToken(token)) continue;
    const uid = token.labels[TOKEN_UID_LABEL] ?? '';
    if (byUid.has(uid) || !olderThan(token.createdAt, inv)) continue;
    actions.push({ kind: 'token', secretName: token.name, nodeClaimUid: uid, reason: GC_REASON.NodeClaimNotFound, message: `bootstrap token Secret kube-system/${token.name} belongs to NodeClaim UID ${uid}, which no longer exists` });
  }

  // Karpenter's rule: a launched NodeClaim whose instance the cloud no longer has is deleted, so its pods
  // are planned again. The listing only nominates it: the activity confirms the server is gone (404).
  const listedServers = new Set(inv.servers.map((s) => `${s.zone}/${s.id}`));
  for (const nc of inv.nodeClaims) {
    if (!nc.ours || nc.deleting || !nc.providerID || !olderThan(nc.launchedAt, inv)) continue;
    const recorded = parseProviderId(nc.providerID);
    if (!recorded || !listedZones.has(recorded.zone) || listedServers.has(`${recorded.zone}/${recorded.serverId}`)) continue;
    actions.push({
      kind: 'nodeclaim',
      nodeClaim: { name: nc.name, uid: nc.uid },
      providerID: nc.providerID,
      reason: GC_REASON.ServerNotFound,
      message: `NodeClaim ${nc.name} is launched on ${nc.providerID}, which no longer exists`,
    });
  }
  return actions;
}

/** One line per action, for logs and the dry run. */
export const describeAction = (action: GarbageAction): string => `${action.reason}: ${action.message}`;
