// Garbage collection's side effects: read the inventory (this cluster's
// servers and volumes in every zone, our bootstrap-token Secrets, every
// NodeClaim), plan with garbage-collection-plan.ts, then release one resource
// per activity. Each release looks again before it acts, so a plan that is a
// few minutes old, or an activity run twice, never releases what became live.
import { ApplicationFailure, log } from '@temporalio/activity';
import { garbageCollected } from '../runtime/metrics.ts';
import type { ActivityDeps } from './deps.ts';
import { translated } from './failures.ts';
import { releaseNodeClaimServers, releaseServer } from './servers.ts';
import {
  describeAction,
  clusterTag,
  isOurServer,
  isOurToken,
  MANAGED_TAG,
  planGarbage,
  TOKEN_MANAGED_BY,
  TOKEN_SECRET_TYPE,
  TOKEN_UID_LABEL,
  volumeNamePrefix,
  type GarbageAction,
  type GarbageCollectionInput,
  type GarbagePlan,
  type NodeClaimFacts,
  type ServerFacts,
  type TokenFacts,
  type VolumeFacts,
} from './garbage-collection-plan.ts';
import { clusterPath, getNodeClaimOf, nodeClaimEventTarget, recordEvent } from '../kube/objects.ts';
import { CONDITION, NODECLAIM_GVR, TAG_PREFIX } from '../kube/api/constants.ts';
import { isConflict } from '../kube/rest.ts';
import { isScalewayNodeClassRef, parseNodeClaim } from '../kube/api/schemas.ts';
import { parseProviderId } from '../kube/api/provider-id.ts';
import { CloudError } from '../scaleway/errors.ts';
import type { ServerInfo } from '../scaleway/cloud.ts';
import { SCALEWAY_ZONES } from '../scaleway/instance-types.ts';

/**
 * Every Scaleway zone, not only those the NodeClasses list today: a NodeClass
 * whose zones were narrowed, or that was deleted, still leaves servers behind
 * in the zones it had. Two list calls per zone per run (18 a minute by default)
 * are cheap next to one leaked GPU server.
 */
export const GC_ZONES: readonly string[] = SCALEWAY_ZONES;

const TOKEN_SECRETS = '/api/v1/namespaces/kube-system/secrets';
const NODECLAIM_NAME_TAG_PREFIX = `${TAG_PREFIX}/nodeclaim=`;

interface RawSecret {
  metadata: { name: string; labels?: Record<string, string>; creationTimestamp?: string };
  type?: string;
}

interface RawNodeClaim {
  metadata?: { name?: string; uid?: string };
}

const dateOf = (text: string | undefined): Date | undefined => (text === undefined ? undefined : new Date(text));

const serverFacts = (s: ServerInfo): ServerFacts => ({
  id: s.id,
  zone: s.zone,
  name: s.name,
  state: s.state,
  tags: s.tags,
  volumes: s.volumes,
  createdAt: s.createdAt,
});

/** Every NodeClaim, parsed. One that does not parse still keeps its UID's resources alive. */
function nodeClaimFacts(raw: unknown): NodeClaimFacts | undefined {
  try {
    const nc = parseNodeClaim(raw);
    if (!nc.metadata.uid) return undefined;
    const launched = nc.status.conditions.find((c) => c.type === CONDITION.Launched && c.status === 'True');
    return {
      name: nc.metadata.name,
      uid: nc.metadata.uid,
      ours: isScalewayNodeClassRef(nc.spec.nodeClassRef),
      deleting: nc.metadata.deletionTimestamp !== undefined,
      providerID: nc.status.providerID,
      launchedAt: dateOf(launched?.lastTransitionTime),
    };
  } catch {
    const meta = (raw as RawNodeClaim).metadata;
    return meta?.uid ? { name: meta.name ?? '', uid: meta.uid, ours: false, deleting: false, providerID: undefined, launchedAt: undefined } : undefined;
  }
}

async function listTokens(deps: Pick<ActivityDeps, 'kube'>): Promise<TokenFacts[]> {
  const selector = `${TOKEN_MANAGED_BY.key}=${TOKEN_MANAGED_BY.value},${TOKEN_UID_LABEL}`;
  const list = await deps.kube.get<{ items: RawSecret[] }>(
    `${TOKEN_SECRETS}?labelSelector=${encodeURIComponent(selector)}&fieldSelector=${encodeURIComponent(`type=${TOKEN_SECRET_TYPE}`)}`,
  );
  // Names, labels and age only: the token itself never leaves this function.
  return list.items.map((s) => ({ name: s.metadata.name, type: s.type, labels: s.metadata.labels ?? {}, createdAt: dateOf(s.metadata.creationTimestamp) }));
}

/** Where planning writes its lines: the activity's `log`, or the CLI's stderr (`scw-karpenter gc --dry-run`). */
export interface PlanLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

function logAction(logger: PlanLogger, action: GarbageAction, dryRun: boolean): void {
  logger.info(`garbage collection${dryRun ? ' (dry run): would release' : ': to release'} ${action.kind} (${describeAction(action)})`, { ...action, dryRun });
}

/** Lists the inventory and returns what to release and why; in a dry run, also what it would do, as log lines. */
export function planGarbageCollectionActivity(deps: ActivityDeps) {
  return (input: GarbageCollectionInput): Promise<GarbagePlan> => translated(() => planGarbageCollection(deps, input, log));
}

/** The plan alone, outside any activity: the activity above, and the CLI's dry run on its own cloud and kube clients. */
export async function planGarbageCollection(deps: Pick<ActivityDeps, 'cloud' | 'kube' | 'clusterName' | 'now'>, input: GarbageCollectionInput, logger: PlanLogger): Promise<GarbagePlan> {
  // The cloud first, the NodeClaims after: a server listed here was created for a NodeClaim that existed
  // before it, so that NodeClaim is in the later listing unless it is really gone.
  const tags = [MANAGED_TAG, clusterTag(deps.clusterName)];
  const [perZone, tokens] = await Promise.all([
    Promise.all(GC_ZONES.map(async (zone) => {
      try {
        const [servers, volumes] = await Promise.all([deps.cloud.listServersByTags(zone, tags), deps.cloud.listVolumesByNamePrefix(zone, volumeNamePrefix(deps.clusterName))]);
        return { zone, listing: { servers, volumes }, error: undefined };
      } catch (err) {
        // One zone's outage must not stop collection in the others; nothing in it is decided this run.
        if (!(err instanceof CloudError)) throw err;
        logger.warn(`garbage collection: listing ${zone} failed, skipping it this run: ${err.message}`, { zone });
        return { zone, listing: undefined, error: err.message };
      }
    })),
    listTokens(deps),
  ]);
  const nodeClaims = (await deps.kube.get<{ items: unknown[] }>(clusterPath(NODECLAIM_GVR))).items.flatMap((raw) => nodeClaimFacts(raw) ?? []);
  const listed = perZone.flatMap((z) => (z.listing ? [{ zone: z.zone, ...z.listing }] : []));
  const planned = planGarbage({
    clusterName: deps.clusterName,
    now: deps.now(),
    gracePeriodMs: input.gracePeriodMs,
    zones: listed.map((z) => z.zone),
    servers: listed.flatMap((z) => z.servers.map(serverFacts)),
    volumes: listed.flatMap((z): VolumeFacts[] => z.volumes),
    tokens,
    nodeClaims,
  });
  // The listing nominated these NodeClaims; a read of the server itself decides (one whose tags were edited away still exists).
  const actions: GarbageAction[] = [];
  for (const action of planned) {
    if (action.kind === 'nodeclaim' && (await serverOfProviderIdExists(deps, action.providerID))) continue;
    actions.push(action);
    logAction(logger, action, input.dryRun);
  }
  logger.info(`garbage collection${input.dryRun ? ' (dry run)' : ''}: ${actions.length} to release`, {
    servers: listed.reduce((n, z) => n + z.servers.length, 0),
    volumes: listed.reduce((n, z) => n + z.volumes.length, 0),
    tokens: tokens.length,
    nodeClaims: nodeClaims.length,
  });
  return { actions, zones: listed.map((z) => z.zone), skippedZones: perZone.flatMap((z) => (z.error === undefined ? [] : [{ zone: z.zone, error: z.error }])) };
}

async function serverOfProviderIdExists(deps: Pick<ActivityDeps, 'cloud'>, providerID: string): Promise<boolean> {
  const ref = parseProviderId(providerID);
  return ref === undefined || (await deps.cloud.getServer(ref.zone, ref.serverId)) !== undefined;
}

export type ReleaseOutcome = { released: true } | { released: false; why: string };

const skipped = (action: GarbageAction, why: string): ReleaseOutcome => {
  log.info(`garbage collection: not releasing ${action.kind} after all: ${why}`, { ...action });
  return { released: false, why };
};

/**
 * How long one release attempt waits inside its activity (a server starting or
 * locked, a volume still detaching) before Temporal retries it; well inside the
 * workflow's 10 minute start-to-close.
 */
export const GC_RELEASE_WAIT_MS = 2 * 60_000;

/**
 * Gives back one server that is not its NodeClaim's (a duplicate, or one
 * without a NodeClaim UID), or what is left of it, by servers.ts's release:
 * only its own volumes, as listed then and as read now (a duplicate's root
 * volume has the same name as its NodeClaim's real one).
 */
async function releaseOneServer(deps: ActivityDeps, action: Extract<GarbageAction, { kind: 'server' }>, server: ServerInfo | undefined): Promise<void> {
  const volumes = [...action.volumes, ...(server?.volumes ?? [])];
  const outcome = await releaseServer(deps, { zone: action.zone, id: action.serverId, server, volumes }, Date.now() + GC_RELEASE_WAIT_MS);
  if (!outcome.released) throw ApplicationFailure.retryable(`garbage collection: ${outcome.waits.map((w) => w.message).join('; ')}`, 'GarbagePending');
}

export function releaseGarbageServerActivity(deps: ActivityDeps) {
  return (action: Extract<GarbageAction, { kind: 'server' }>): Promise<ReleaseOutcome> => translated(async () => {
    const server = await deps.cloud.getServer(action.zone, action.serverId);
    // The guard again, on what Scaleway says now: never a server without our managed and cluster tags.
    if (server && !isOurServer(server.tags, deps.clusterName)) return skipped(action, 'no longer carries our managed and cluster tags');
    if (action.reason === 'DuplicateServer') {
      const owner = action.nodeClaim ? await getNodeClaimOf(deps.kube, action.nodeClaim) : undefined;
      const recorded = owner?.status.providerID ? parseProviderId(owner.status.providerID) : undefined;
      if (!owner || !recorded || (recorded.zone === action.zone && recorded.serverId === action.serverId)) return skipped(action, 'its NodeClaim now records it, or is gone');
      await releaseOneServer(deps, action, server);
      await recordEvent(deps.kube, nodeClaimEventTarget(owner), 'Normal', action.reason, `released ${action.message}`, deps.now());
    } else if (action.nodeClaimUid !== undefined) {
      const uid = action.nodeClaimUid;
      if (await nodeClaimWithUidExists(deps, uid)) return skipped(action, `a NodeClaim of UID ${uid} exists`);
      // The termination path's own release: every server of that NodeClaim, their volumes and its named root volume.
      const nodeClaimName = server?.tags.find((t) => t.startsWith(NODECLAIM_NAME_TAG_PREFIX))?.slice(NODECLAIM_NAME_TAG_PREFIX.length) ?? action.serverName;
      await releaseNodeClaimServers(deps, { name: nodeClaimName, uid }, { zone: action.zone, waitMs: GC_RELEASE_WAIT_MS });
      // A retry after the server went finds its local volumes by the plan only.
      await releaseOneServer(deps, action, undefined);
    } else {
      await releaseOneServer(deps, action, server);
    }
    log.info(`garbage collection: released server ${action.serverName} (${action.serverId}) in ${action.zone}: ${action.reason}`, { ...action });
    garbageCollected.inc({ kind: action.kind });
    return { released: true };
  });
}

async function nodeClaimWithUidExists(deps: ActivityDeps, uid: string): Promise<boolean> {
  const list = await deps.kube.get<{ items: unknown[] }>(clusterPath(NODECLAIM_GVR));
  return list.items.some((raw) => (raw as RawNodeClaim).metadata?.uid === uid);
}

export function deleteGarbageVolumeActivity(deps: ActivityDeps) {
  return (action: Extract<GarbageAction, { kind: 'volume' }>): Promise<ReleaseOutcome> => translated(async () => {
    try {
      if (!(await deps.cloud.deleteVolume(action.zone, action.volumeId))) return skipped(action, 'already gone');
    } catch (err) {
      // Attached since it was listed (412): in use after all.
      if (err instanceof CloudError && err.kind === 'precondition-failed') return skipped(action, 'attached to a server now');
      throw err;
    }
    log.info(`garbage collection: deleted volume ${action.volumeName} (${action.volumeId}) in ${action.zone}: ${action.reason}`, { ...action });
    garbageCollected.inc({ kind: action.kind });
    return { released: true };
  });
}

export function deleteGarbageTokenActivity(deps: ActivityDeps) {
  return (action: Extract<GarbageAction, { kind: 'token' }>): Promise<ReleaseOutcome> => translated(async () => {
    const path = `${TOKEN_SECRETS}/${encodeURIComponent(action.secretName)}`;
    const secret = await deps.kube.getOrUndefined<RawSecret>(path);
    if (!secret) return skipped(action, 'already gone');
    const facts = { name: secret.metadata.name, type: secret.type, labels: secret.metadata.labels ?? {}, createdAt: undefined };
    if (!isOurToken(facts) || facts.labels[TOKEN_UID_LABEL] !== action.nodeClaimUid) return skipped(action, 'no longer labelled as that NodeClaim\'s token');
    await deps.kube.delete(path);
    log.info(`garbage collection: deleted bootstrap token Secret kube-system/${action.secretName}: ${action.reason}`, { ...action });
    garbageCollected.inc({ kind: action.kind });
    return { released: true };
  });
}

/** Karpenter's garbage collection: the NodeClaim of a vanished server is deleted; its termination takes the Node away and re-plans its pods. */
export function deleteNodeClaimWithoutServerActivity(deps: ActivityDeps) {
  return (action: Extract<GarbageAction, { kind: 'nodeclaim' }>): Promise<ReleaseOutcome> => translated(async () => {
    const nodeClaim = await getNodeClaimOf(deps.kube, action.nodeClaim);
    if (!nodeClaim || nodeClaim.metadata.deletionTimestamp) return skipped(action, 'already gone or being deleted');
    if (nodeClaim.status.providerID !== action.providerID) return skipped(action, `its providerID is now ${nodeClaim.status.providerID ?? 'unset'}`);
    if (await serverOfProviderIdExists(deps, action.providerID)) return skipped(action, 'its server exists');
    // The UID precondition: a NodeClaim re-created under the same name in the meantime is another one.
    try {
      await deps.kube.delete(clusterPath(NODECLAIM_GVR, action.nodeClaim.name), { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: action.nodeClaim.uid } });
    } catch (err) {
      if (isConflict(err)) return skipped(action, 'a NodeClaim of another UID has that name now');
      throw err;
    }
    // After the delete call: an Event says what happened, not what was about to.
    await recordEvent(deps.kube, nodeClaimEventTarget(nodeClaim), 'Warning', action.reason, `deleted the NodeClaim: its server ${action.providerID} no longer exists`, deps.now());
    log.info(`garbage collection: deleted NodeClaim ${action.nodeClaim.name}: ${action.reason}`, { ...action });
    garbageCollected.inc({ kind: action.kind });
    return { released: true };
  });
}
