// The server's side of a NodeClaim: create it (or find the one an earlier
// attempt created), power it on, wait for it to run, and give it back.
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { ActivityDeps } from './deps.ts';
import { ownershipTags, resourceTags, rootVolumeName } from './deps.ts';
import type { CreateServerResult, NodeClaimRef, Offering, ServerRef, ServerRunning } from './contract.ts';
import { lookUpNodeClass, readNodeClaimSpec } from './nodeclass.ts';
import { rootVolumeOf } from '../kube/api/nodeclass-defaults.ts';
import { invalidInput, translated } from './failures.ts';
import { getNodeClaimOf, getNodeClassRaw, nodeClaimEventTarget, patchNodeClaimMetadata, recordEvent, setNodeClaimCondition, updateNodeClaimStatus } from '../kube/objects.ts';
import { findCondition, removeCondition } from '../kube/api/conditions.ts';
import { ANNOTATION_SERVER_CREATE_ATTEMPTED, CONDITION, LABEL_NODEPOOL, REASON } from '../kube/api/constants.ts';
import { isUuid, parseProviderId } from '../kube/api/provider-id.ts';
import { parseScalewayNodeClass, type NodeClaim } from '../kube/api/schemas.ts';
import { isConflict, isNotFound } from '../kube/rest.ts';
import { CloudError } from '../scaleway/errors.ts';
import type { ServerInfo } from '../scaleway/cloud.ts';
import { imageOf, nodeClassZones } from '../scaleway/offerings.ts';
import { recordUnavailableOffering } from './offerings.ts';

/**
 * How long one release attempt waits inside its activity before it says on the NodeClaim what it
 * waits on and lets Temporal retry: a GPU server is gone about 14 s after terminate (recorded),
 * and the rollback activity that calls it has 30 s in all.
 */
export const CLEANUP_WAIT_MS = 20_000;
/** Waits heartbeat this often even when no state comes (throttled reads): the heartbeat timeout is a minute. */
export const HEARTBEAT_EVERY_MS = 10_000;

const toRef = (server: ServerInfo): ServerRef => ({
  zone: server.zone,
  serverId: server.id,
  commercialType: server.commercialType,
  rootVolumeId: server.rootVolume?.id,
});

/** Awaits `work`, heartbeating while it takes long; rejects when the activity is cancelled. */
async function heartbeating<T>(ctx: Context, work: Promise<T>, details: unknown): Promise<T> {
  const timer = setInterval(() => ctx.heartbeat(details), HEARTBEAT_EVERY_MS);
  try {
    return await Promise.race([work, ctx.cancelled]);
  } finally {
    clearInterval(timer);
  }
}

/**
 * Every zone a NodeClaim's servers may be in: its NodeClass's zones (by default every Scaleway
 * zone), plus the zones known otherwise (an offering, a providerID). A NodeClass that is gone or
 * unreadable proves nothing: every zone.
 */
export async function nodeClaimZones(deps: ActivityDeps, nodeClassName: string | undefined, known: readonly (string | undefined)[] = []): Promise<string[]> {
  let allowed: readonly string[] = nodeClassZones(undefined);
  if (nodeClassName) {
    const raw = await getNodeClassRaw(deps.kube, nodeClassName);
    try {
      if (raw !== undefined) allowed = nodeClassZones(parseScalewayNodeClass(raw).spec.zones);
    } catch {
      // An invalid NodeClass does not say where its servers went.
    }
  }
  return [...new Set([...known.filter((z): z is string => typeof z === 'string' && z !== ''), ...allowed])];
}

/** The NodeClaim's servers in these zones: those carrying our managed, cluster and NodeClaim UID tags together. */
async function findNodeClaimServers(deps: ActivityDeps, ref: NodeClaimRef, zones: readonly string[]): Promise<ServerInfo[]> {
  const tags = ownershipTags(deps.clusterName, ref.uid);
  return (await Promise.all(zones.map((zone) => deps.cloud.listServersByTags(zone, tags)))).flat();
}

/** Which of several servers of one NodeClaim stays: the oldest, then the smallest ID, so every attempt picks the same. */
export function serverToKeep(servers: readonly ServerInfo[]): ServerInfo | undefined {
  const time = (s: ServerInfo): number => s.createdAt?.getTime() ?? Number.POSITIVE_INFINITY;
  return [...servers].sort((a, b) => time(a) - time(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0];
}

/**
 * Keeps one server and deletes the other ones, which a create still in flight when an attempt
 * gave up made. Those were never powered on (only the kept server is), so they are deleted, and
 * their volumes with them; one that is not stopped is left to garbage collection and termination.
 */
async function keepOneServer(deps: ActivityDeps, servers: readonly ServerInfo[]): Promise<ServerInfo | undefined> {
  const kept = serverToKeep(servers);
  for (const extra of servers) {
    if (extra.id === kept?.id) continue;
    if (extra.state !== 'stopped') {
      log.warn('a second server carries this NodeClaim\'s tags and is not stopped: left to garbage collection', { serverId: extra.id, zone: extra.zone, state: extra.state });
      continue;
    }
    try {
      // Deleted at once, not waited on as a release waits (this runs inside the create's short local activity).
      await deps.cloud.deleteServer(extra.zone, extra.id);
      for (const volume of extra.volumes) {
        const outcome = await releaseVolume(deps, { id: volume.id, zone: extra.zone, api: volumeApi(volume.type) });
        if ('reason' in outcome) log.warn('could not delete a duplicate server\'s volume yet', { serverId: extra.id, zone: extra.zone, volume: volume.id, why: outcome.message });
      }
      log.warn('deleted a duplicate server of this NodeClaim', { serverId: extra.id, zone: extra.zone, kept: kept?.id });
    } catch (err) {
      // Garbage collection removes any server that is not the NodeClaim's; termination finds the SBS volume by name.
      log.warn('could not delete a duplicate server yet', { serverId: extra.id, zone: extra.zone, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return kept;
}

/**
 * The NodeClaim as the create finds it, with the first attempt recorded on it before any create is made.
 * Find before create, once any create was attempted: a retry after a lost answer or a timeout, a restarted
 * worker or a reset workflow must not make a second server, in this zone or in another one an earlier run
 * chose (`retried`). The very first create of a NodeClaim costs no listing.
 *
 * A new NodeClaim's first task has just read it (resolveNodeClass and chooseOfferings, shared reads): that
 * read, unmarked and not deleting, is marked under its resourceVersion, so the mark lands only if nothing
 * changed since, as good as a fresh read and one GET fewer per NodeClaim in a burst. Any change (a delete,
 * an earlier attempt's mark, another writer) fails the precondition, and the NodeClaim is read afresh.
 */
async function markCreateAttempt(deps: ActivityDeps, ref: NodeClaimRef): Promise<{ nodeClaim: NodeClaim; retried: boolean }> {
  const mark = { [ANNOTATION_SERVER_CREATE_ATTEMPTED]: deps.now().toISOString() };
  const recent = deps.reads ? await readNodeClaimSpec(deps, ref) : undefined;
  if (recent && !recent.metadata.deletionTimestamp && recent.metadata.annotations?.[ANNOTATION_SERVER_CREATE_ATTEMPTED] === undefined && recent.metadata.resourceVersion) {
    try {
      await patchNodeClaimMetadata(deps.kube, ref.name, { resourceVersion: recent.metadata.resourceVersion, annotations: mark });
      return { nodeClaim: recent, retried: false };
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }
  const nodeClaim = await getNodeClaimOf(deps.kube, ref);
  if (!nodeClaim) throw invalidInput('NodeClaimNotFound', `NodeClaim ${ref.name} no longer exists`);
  // Deleted while nobody watched (the watcher down, a queued workflow): buy nothing for it.
  if (nodeClaim.metadata.deletionTimestamp) throw invalidInput('NodeClaimDeleting', `NodeClaim ${ref.name} is being deleted (since ${nodeClaim.metadata.deletionTimestamp}): no server is bought for it`);
  const retried = nodeClaim.metadata.annotations?.[ANNOTATION_SERVER_CREATE_ATTEMPTED] !== undefined;
  if (!retried) await patchNodeClaimMetadata(deps.kube, ref.name, { annotations: mark });
  return { nodeClaim, retried };
}

export function createServerActivity(deps: ActivityDeps) {
  return (input: { ref: NodeClaimRef; offering: Offering; nodeClassName: string }): Promise<CreateServerResult> => translated(async () => {
    const { ref, offering } = input;
    const { nodeClaim, retried } = await markCreateAttempt(deps, ref);
    const zones = retried ? await nodeClaimZones(deps, input.nodeClassName, [offering.zone]) : [];
    if (retried) {
      const existing = (await findNodeClaimServers(deps, ref, zones)).filter((s) => s.state !== 'stopping');
      const kept = await keepOneServer(deps, existing);
      if (kept) {
        log.info('reusing the server an earlier attempt created', { serverId: kept.id, zone: kept.zone });
        return { ok: true, server: toRef(kept), reused: true };
      }
    }
    const lookup = await lookUpNodeClass(deps, input.nodeClassName);
    if (!lookup.ok) throw invalidInput(lookup.reason, lookup.message);
    const spec = lookup.nodeClass.spec;
    const rootVolume = rootVolumeOf(lookup.nodeClass);
    const tags = [...resourceTags(deps.clusterName, ref, nodeClaim.metadata.labels?.[LABEL_NODEPOOL]), ...spec.tags];

    const imageId = spec.image && isUuid(spec.image)
      ? spec.image
      : (await deps.images.resolve(offering.zone, imageOf(spec.image, offering.gpuCount > 0), offering.commercialType, rootVolume.type)).id;

    // The seed's log line, kept for users who grep for it.
    log.info(`creating scaleway instance with cloud-init ${JSON.stringify({ commercialType: offering.commercialType })}`, { nodeClaim: ref.name, zone: offering.zone });
    let server: ServerInfo;
    try {
      server = await deps.cloud.createServer({
        zone: offering.zone,
        name: ref.name,
        commercialType: offering.commercialType,
        imageId,
        tags,
        // SBS root volumes outlive their server: named, so termination and garbage collection can find them.
        rootVolume: {
          sizeBytes: rootVolume.sizeBytes,
          type: rootVolume.type,
          ...(rootVolume.iops ? { iops: rootVolume.iops } : {}),
          ...(rootVolume.type === 'sbs_volume' ? { name: rootVolumeName(deps.clusterName, ref) } : {}),
        },
        publicIp: spec.publicIP,
        ...(spec.projectID ? { projectId: spec.projectID } : {}),
        ...(spec.securityGroupID ? { securityGroupId: spec.securityGroupID } : {}),
        ...(spec.placementGroupID ? { placementGroupId: spec.placementGroupID } : {}),
      });
    } catch (err) {
      if (err instanceof CloudError && err.capacityError) {
        const reason = err.kind === 'out-of-stock' ? 'OutOfStock' : 'QuotaExceeded';
        await recordUnavailableOffering(deps, nodeClaim, offering, err.kind === 'out-of-stock' ? 'out of stock' : 'over quota');
        return { ok: false, reason, message: err.message };
      }
      // Any other failure may hide a create that lands later (a timeout, a reset connection, a 5xx):
      // the annotation above makes every later attempt look in every zone first.
      throw err;
    }
    if (retried) {
      // An earlier attempt's create may have landed meanwhile (it was still in flight when that attempt
      // gave up): keep one server, the same whichever attempt looks. Garbage collection removes any that
      // lands later still. A first attempt skips this: no create was made before its annotation.
      const all = (await findNodeClaimServers(deps, ref, zones)).filter((s) => s.state !== 'stopping' && s.id !== server.id);
      const kept = await keepOneServer(deps, [server, ...all]);
      if (kept && kept.id !== server.id) return { ok: true, server: toRef(kept), reused: true };
    }
    return { ok: true, server: toRef(server), reused: false };
  });
}

export function powerOnServerActivity(deps: ActivityDeps) {
  return (input: { ref: NodeClaimRef; server: ServerRef }): Promise<void> => translated(async () => {
    const { zone, serverId } = input.server;
    try {
      await deps.cloud.powerOn(zone, serverId);
    } catch (err) {
      // Refused: look at why. An earlier attempt powered it on already, or it is gone, or something else is wrong.
      if (!(err instanceof CloudError) || err.capacityError) throw err;
      const server = await deps.cloud.getServer(zone, serverId);
      if (!server) throw invalidInput('ServerNotFound', `server ${serverId} in ${zone} disappeared before it was powered on`);
      if (server.state === 'starting' || server.state === 'running') {
        log.info('server already powered on by an earlier attempt', { serverId, state: server.state });
        return;
      }
      throw err;
    }
  });
}

export function waitForServerRunningActivity(deps: ActivityDeps) {
  return (input: { ref: NodeClaimRef; server: ServerRef }): Promise<ServerRunning> => translated(async () => {
    const { zone, serverId } = input.server;
    const ctx = Context.current();
    let shown = '';
    for (;;) {
      // Read with every other server starting in the zone, once per poll interval (a GPU server takes
      // about 18 s). A throttled read only delays the answer; the wait heartbeats meanwhile.
      const server = await heartbeating(ctx, deps.serverStates.next(zone, serverId), { waiting: 'server state', serverId });
      if (!server) throw invalidInput('ServerNotFound', `server ${serverId} in ${zone} disappeared while starting`);
      if (server.state === 'locked') throw invalidInput('ServerLocked', `server ${serverId} in ${zone} is locked by Scaleway`);
      if (server.state === 'running') return { state: server.state, detail: server.stateDetail };
      if (server.state === 'stopped') throw invalidInput('ServerStopped', `server ${serverId} in ${zone} stopped while starting (${server.stateDetail || 'no detail'})`);
      ctx.heartbeat({ state: server.state, detail: server.stateDetail });
      const progress = `server ${server.state}${server.stateDetail ? `: ${server.stateDetail}` : ''}`;
      if (progress !== shown) {
        // The state detail ("allocating node", "provisioning node") where the user looks: the NodeClaim's Launched
        // condition, while it is not True. A NodeClaim marked Launched when its create returned keeps it True.
        const nodeClaim = await getNodeClaimOf(deps.kube, input.ref);
        if (nodeClaim && findCondition(nodeClaim.status.conditions, CONDITION.Launched)?.status !== 'True') await setNodeClaimCondition(deps.kube, nodeClaim, { type: CONDITION.Launched, status: 'Unknown', reason: REASON.Launching, message: progress }, deps.now());
        shown = progress;
      }
    }
  });
}

// ---- Release -------------------------------------------------------------------------------------

/** What a release still waits on: the reason of the NodeClaim's InstanceTerminating condition and why. */
export interface Wait {
  reason: typeof REASON.WaitingOnServer | typeof REASON.WaitingOnVolume;
  message: string;
}

/** `sbs` on the Block API; `local` (l_ssd and other Instance volumes); `unknown`: whichever has it. */
type VolumeApi = 'sbs' | 'local' | 'unknown';
export interface VolumeToRelease {
  id: string;
  zone: string;
  api: VolumeApi;
}

/** Refusals that pass by themselves (busy, locked, still attached): wait and try again, never give up. */
const WAITABLE: ReadonlySet<string> = new Set(['transient-state', 'locked', 'precondition-failed', 'invalid-arguments', 'not-found']);

const describe = (s: ServerInfo): string => `server ${s.id} in ${s.zone} is ${s.state}${s.stateDetail ? ` (${s.stateDetail})` : ''}`;

const LOCKED = 'locked by Scaleway, it is released once unlocked';

/** Why a server is still there, from its state alone. */
function whyStill(server: ServerInfo): string {
  switch (server.state) {
    case 'starting':
      return 'Scaleway cannot terminate it before it runs';
    case 'locked':
      return LOCKED;
    case 'stopping':
      return 'terminating';
    default:
      return 'waiting for it to be gone';
  }
}

/** Asks Scaleway to let the server go, as its state allows; Scaleway's refusal, if it refused. */
async function nudgeServer(deps: ActivityDeps, server: ServerInfo): Promise<string | undefined> {
  if (server.state !== 'running' && server.state !== 'stopped' && server.state !== 'stopped in place') return undefined;
  try {
    // Scaleway terminates a server that ran (and its local volumes with it); one never powered on is deleted instead.
    if (server.state === 'stopped') await deps.cloud.deleteServer(server.zone, server.id);
    else await deps.cloud.terminate(server.zone, server.id);
    return undefined;
  } catch (err) {
    // Another terminate won the race, the server is between states, or locked: look again at the next poll.
    if (err instanceof CloudError && WAITABLE.has(err.kind)) return err.kind === 'locked' ? LOCKED : err.message;
    throw err;
  }
}

/** Deletes a volume; true once it is gone (deleted now or before), a Wait while Scaleway refuses. */
async function releaseVolume(deps: ActivityDeps, volume: VolumeToRelease): Promise<{ deleted: boolean } | Wait> {
  try {
    if (volume.api === 'local') return { deleted: await deps.cloud.deleteLocalVolume(volume.zone, volume.id) };
    const deleted = await deps.cloud.deleteVolume(volume.zone, volume.id);
    // A root volume known only by ID may be a local one, which the Block API does not know.
    if (!deleted && volume.api === 'unknown') return { deleted: await deps.cloud.deleteLocalVolume(volume.zone, volume.id) };
    return { deleted };
  } catch (err) {
    if (err instanceof CloudError && WAITABLE.has(err.kind)) {
      return { reason: REASON.WaitingOnVolume, message: `volume ${volume.id} in ${volume.zone} is not released yet (${err.message})` };
    }
    throw err;
  }
}

/** Says on the NodeClaim why its cleanup is not done: the InstanceTerminating condition, and a Warning Event per reason. */
async function reportWaits(deps: ActivityDeps, ref: NodeClaimRef, waits: readonly Wait[]): Promise<void> {
  const nodeClaim = await getNodeClaimOf(deps.kube, ref);
  if (!nodeClaim || waits.length === 0) return;
  const first = waits[0] as Wait;
  await setNodeClaimCondition(deps.kube, nodeClaim, { type: CONDITION.InstanceTerminating, status: 'True', reason: first.reason, message: waits.map((w) => w.message).join('; ') }, deps.now());
  for (const reason of new Set(waits.map((w) => w.reason))) {
    const message = waits.filter((w) => w.reason === reason).map((w) => w.message).join('; ');
    await recordEvent(deps.kube, nodeClaimEventTarget(nodeClaim), 'Warning', reason, message, deps.now());
  }
}

/** Cleanup is done: an InstanceTerminating condition an earlier attempt set no longer holds. Cosmetic, so never fatal. */
async function clearWaits(deps: ActivityDeps, ref: NodeClaimRef): Promise<void> {
  try {
    const nodeClaim = await getNodeClaimOf(deps.kube, ref);
    if (!nodeClaim || !findCondition(nodeClaim.status.conditions, CONDITION.InstanceTerminating)) return;
    await updateNodeClaimStatus(deps.kube, nodeClaim, (status) => ({ conditions: removeCondition(status.conditions, CONDITION.InstanceTerminating) }));
  } catch (err) {
    log.warn('could not clear the InstanceTerminating condition', { nodeClaim: ref.name, error: err instanceof Error ? err.message : String(err) });
  }
}

/** The volume API a server's volume lives on: the Block API for SBS, the Instance API for the rest (l_ssd). */
const volumeApi = (type: string): VolumeApi => (type === 'sbs_volume' ? 'sbs' : 'local');

/**
 * Deletes these volumes (each once, whatever the list repeats), trying again every poll interval
 * while Scaleway refuses (still attached, busy) until `deadline`. How many it deleted (those gone
 * already do not count), or what it still waits on.
 */
export async function releaseVolumes(deps: ActivityDeps, volumes: readonly VolumeToRelease[], deadline: number): Promise<{ deleted: number } | { waits: Wait[] }> {
  const ctx = Context.current();
  const left = new Map<string, VolumeToRelease>();
  for (const volume of volumes) if (!left.has(volume.id) || left.get(volume.id)?.api === 'unknown') left.set(volume.id, volume);
  let deleted = 0;
  for (;;) {
    const waits: Wait[] = [];
    for (const volume of [...left.values()]) {
      const outcome = await releaseVolume(deps, volume);
      if ('reason' in outcome) {
        waits.push(outcome);
        continue;
      }
      left.delete(volume.id);
      if (outcome.deleted) deleted++;
    }
    if (waits.length === 0) return { deleted };
    ctx.heartbeat({ waitingOn: waits.map((w) => w.message) });
    if (Date.now() >= deadline) return { waits };
    await ctx.sleep(deps.pollIntervalMs);
  }
}

/** One server to give back, and every volume it had. */
export interface ServerToRelease {
  zone: string;
  id: string;
  /** As last read; undefined when it is gone already and only its volumes are left. */
  server: ServerInfo | undefined;
  /** Its volumes as listed (a server's own, or a plan's): SBS ones outlive it, local ones outlive a delete. */
  volumes: readonly { id: string; type: string }[];
}

export type ServerReleased = { released: true; server: boolean; volumes: number } | { released: false; waits: Wait[] };

/**
 * The one way to give a server back (rollback, termination, garbage collection): terminates it if
 * it ran, deletes it if it was never powered on (Scaleway refuses to terminate a stopped server),
 * waits while it is starting, stopping or locked until it is gone, then deletes every volume it
 * had. Idempotent: a server or volume already gone counts as done. What Scaleway still holds at
 * `deadline` is returned, for the caller to say and to retry.
 */
export async function releaseServer(deps: ActivityDeps, target: ServerToRelease, deadline: number): Promise<ServerReleased> {
  const ctx = Context.current();
  let current = target.server;
  while (current) {
    const refusal = await nudgeServer(deps, current);
    // Read with every other server being waited on in the zone, once per poll interval.
    current = await heartbeating(ctx, deps.serverStates.next(target.zone, target.id), { releasing: target.id });
    if (!current) break;
    const wait: Wait = { reason: REASON.WaitingOnServer, message: `${describe(current)}: ${refusal ?? whyStill(current)}` };
    ctx.heartbeat({ waitingOn: wait.message });
    if (Date.now() >= deadline) return { released: false, waits: [wait] };
  }
  // Once the server is gone: an attached volume cannot be deleted.
  const volumes = await releaseVolumes(deps, target.volumes.map((v) => ({ id: v.id, zone: target.zone, api: volumeApi(v.type) })), deadline);
  if ('waits' in volumes) return { released: false, waits: volumes.waits };
  return { released: true, server: target.server !== undefined, volumes: volumes.deleted };
}

/**
 * Gives back every server carrying the NodeClaim's tags in every zone it may be in, each with
 * every volume it had, then its named SBS root volume. Idempotent: servers and volumes already
 * gone count as done. What Scaleway does not let go of within CLEANUP_WAIT_MS (a server starting
 * or locked, a volume still attached) is said on the NodeClaim, and a retryable `CleanupPending`
 * failure lets Temporal try again with backoff.
 */
export async function releaseNodeClaimServers(
  deps: ActivityDeps,
  ref: NodeClaimRef,
  hint: { providerID?: string | undefined; zone?: string | undefined; server?: ServerRef | undefined; waitMs?: number },
): Promise<{ servers: number; volumes: number }> {
  const deadline = Date.now() + (hint.waitMs ?? CLEANUP_WAIT_MS);
  const nodeClaim = await getNodeClaimOf(deps.kube, ref);
  const providerID = hint.providerID ?? nodeClaim?.status.providerID;
  const zones = await nodeClaimZones(deps, nodeClaim?.spec.nodeClassRef.name, [hint.server?.zone, providerID ? parseProviderId(providerID)?.zone : undefined, hint.zone]);

  const [found, named] = await Promise.all([
    findNodeClaimServers(deps, ref, zones),
    Promise.all(zones.map((zone) => deps.cloud.listVolumesByName(zone, rootVolumeName(deps.clusterName, ref)))),
  ]);
  // Besides the servers' own volumes: a root volume known only by ID, and one whose server went away before it was listed, found by its name.
  const owned = new Set(found.flatMap((s) => s.volumes.map((v) => v.id)));
  const others: VolumeToRelease[] = [
    ...(hint.server?.rootVolumeId ? [{ id: hint.server.rootVolumeId, zone: hint.server.zone, api: 'unknown' as const }] : []),
    ...named.flat().map((v) => ({ id: v.id, zone: v.zone, api: 'sbs' as const })),
  ].filter((v) => !owned.has(v.id));

  // Side by side: their state reads share one listing per zone and poll interval.
  const settled = await Promise.allSettled(found.map((server) => releaseServer(deps, { zone: server.zone, id: server.id, server, volumes: server.volumes }, deadline)));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  const outcomes = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const waits = outcomes.flatMap((o) => (o.released ? [] : o.waits));
  const servers = outcomes.filter((o) => o.released && o.server).length;
  const volumes = outcomes.reduce((n, o) => n + (o.released ? o.volumes : 0), 0);
  if (waits.length === 0) {
    const rest = await releaseVolumes(deps, others, deadline);
    if ('deleted' in rest) {
      await clearWaits(deps, ref);
      return { servers, volumes: volumes + rest.deleted };
    }
    waits.push(...rest.waits);
  }
  await reportWaits(deps, ref, waits);
  throw ApplicationFailure.retryable(`releasing NodeClaim ${ref.name}: ${waits.map((w) => w.message).join('; ')}`, 'CleanupPending');
}
