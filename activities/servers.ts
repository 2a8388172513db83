// The server's side of a NodeClaim: create it (or find the one an earlier
// attempt created), power it on, wait for it to run, and give it back.
import { Context, log } from '@temporalio/activity';
import type { ActivityDeps } from './deps.ts';
import { nodeClaimUidTag, resourceTags, rootVolumeName } from './deps.ts';
import type { CreateServerResult, NodeClaimRef, Offering, ServerRef, ServerRunning } from './contract.ts';
import { lookUpNodeClass } from './nodeclass.ts';
import { rootVolumeOf } from './root-volume.ts';
import { invalidInput, translated } from './failures.ts';
import { getNodeClaimOf, patchNodeClaimMetadata, setNodeClaimCondition } from '../kube/objects.ts';
import { ANNOTATION_SERVER_CREATE_ATTEMPTED, CONDITION, LABEL_NODEPOOL, REASON } from '../kube/api/constants.ts';
import { isUuid, parseProviderId } from '../kube/api/provider-id.ts';
import { CloudError } from '../scaleway/errors.ts';
import type { ServerInfo } from '../scaleway/cloud.ts';
import { SCALEWAY_ZONES } from '../scaleway/instance-types.ts';

/** Scaleway's GPU OS images ship the NVIDIA driver and container toolkit; a plain Ubuntu for the rest. */
export const DEFAULT_GPU_IMAGE_LABEL = 'ubuntu_noble_gpu_os_12';
export const DEFAULT_IMAGE_LABEL = 'ubuntu_noble';

const toRef = (server: ServerInfo): ServerRef => ({
  zone: server.zone,
  serverId: server.id,
  commercialType: server.commercialType,
  rootVolumeId: server.rootVolume?.id,
});

export function createServerActivity(deps: ActivityDeps) {
  return (input: { ref: NodeClaimRef; offering: Offering; nodeClassName: string }): Promise<CreateServerResult> => translated(async () => {
    const { ref, offering } = input;
    const nodeClaim = await getNodeClaimOf(deps.kube, ref);
    if (!nodeClaim) throw invalidInput('NodeClaimNotFound', `NodeClaim ${ref.name} no longer exists`);
    // Find before create, once any create was attempted: a retry after a lost answer, a restarted worker
    // or a reset workflow must not make a second server. The NodeClaim records the first attempt, before
    // it is made, so the very first create of a NodeClaim costs no listing.
    if (nodeClaim.metadata.annotations?.[ANNOTATION_SERVER_CREATE_ATTEMPTED] !== undefined) {
      const existing = (await deps.cloud.listServersByTags(offering.zone, [nodeClaimUidTag(ref.uid)])).filter((s) => s.state !== 'stopping');
      if (existing[0]) {
        log.info('reusing the server an earlier attempt created', { serverId: existing[0].id, zone: offering.zone });
        return { ok: true, server: toRef(existing[0]), reused: true };
      }
    } else {
      await patchNodeClaimMetadata(deps.kube, ref.name, { annotations: { [ANNOTATION_SERVER_CREATE_ATTEMPTED]: deps.now().toISOString() } });
    }
    const lookup = await lookUpNodeClass(deps, input.nodeClassName);
    if (!lookup.ok) throw invalidInput(lookup.reason, lookup.message);
    const spec = lookup.nodeClass.spec;
    const rootVolume = rootVolumeOf(lookup.nodeClass);
    const tags = [...resourceTags(deps.clusterName, ref, nodeClaim.metadata.labels?.[LABEL_NODEPOOL]), ...spec.tags];

    const imageId = spec.image && isUuid(spec.image)
      ? spec.image
      : (await deps.images.resolve(offering.zone, spec.image ?? (offering.gpuCount > 0 ? DEFAULT_GPU_IMAGE_LABEL : DEFAULT_IMAGE_LABEL), offering.commercialType, rootVolume.type)).id;

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
        deps.unavailable.markUnavailable(offering.zone, offering.commercialType, err.kind === 'out-of-stock' ? 'out of stock' : 'over quota');
        return { ok: false, reason, message: err.message };
      }
      throw err;
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
      // Read with every other server starting in the zone, once per poll interval (a GPU server takes about 18 s).
      const server = await Promise.race([deps.serverStates.next(zone, serverId), ctx.cancelled]);
      if (!server) throw invalidInput('ServerNotFound', `server ${serverId} in ${zone} disappeared while starting`);
      if (server.state === 'locked') throw invalidInput('ServerLocked', `server ${serverId} in ${zone} is locked by Scaleway`);
      if (server.state === 'running') return { state: server.state, detail: server.stateDetail };
      if (server.state === 'stopped') throw invalidInput('ServerStopped', `server ${serverId} in ${zone} stopped while starting (${server.stateDetail || 'no detail'})`);
      ctx.heartbeat({ state: server.state, detail: server.stateDetail });
      const progress = `server ${server.state}${server.stateDetail ? `: ${server.stateDetail}` : ''}`;
      if (progress !== shown) {
        // The state detail ("allocating node", "provisioning node") where the user looks: the NodeClaim's Launched condition.
        const nodeClaim = await getNodeClaimOf(deps.kube, input.ref);
        if (nodeClaim) await setNodeClaimCondition(deps.kube, nodeClaim, { type: CONDITION.Launched, status: 'Unknown', reason: REASON.Launching, message: progress }, deps.now());
        shown = progress;
      }
    }
  });
}

/** Every zone a NodeClaim's server may be in: the providerID's, else every zone. */
function zonesOf(providerID: string | undefined, zoneLabel: string | undefined): string[] {
  const fromProvider = providerID ? parseProviderId(providerID)?.zone : undefined;
  const zone = fromProvider ?? zoneLabel;
  return zone ? [zone] : [...SCALEWAY_ZONES];
}

/**
 * Terminates every server tagged with the NodeClaim's UID, waits until each is
 * gone, then deletes the root volumes (SBS volumes outlive their server).
 * Idempotent: servers and volumes already gone count as done.
 */
export async function releaseNodeClaimServers(deps: ActivityDeps, ref: NodeClaimRef, hint: { providerID?: string | undefined; zone?: string | undefined; server?: ServerRef | undefined }): Promise<{ servers: number; volumes: number }> {
  const ctx = Context.current();
  const tag = nodeClaimUidTag(ref.uid);
  const zones = hint.server ? [hint.server.zone] : zonesOf(hint.providerID, hint.zone);
  let servers = 0;
  let volumes = 0;
  for (const zone of zones) {
    const found = await deps.cloud.listServersByTags(zone, [tag]);
    const volumeIds = new Set(found.flatMap((s) => (s.rootVolume?.type === 'sbs_volume' ? [s.rootVolume.id] : [])));
    if (hint.server?.rootVolumeId && hint.server.zone === zone) volumeIds.add(hint.server.rootVolumeId);
    for (const server of found) {
      let current: ServerInfo | undefined = server;
      while (current) {
        ctx.heartbeat({ serverId: server.id, state: current.state });
        if (current.state === 'running' || current.state === 'stopped' || current.state === 'stopped in place') {
          try {
            // Scaleway terminates a server that runs; one never powered on is deleted instead.
            if (current.state === 'stopped') await deps.cloud.deleteServer(zone, server.id);
            else await deps.cloud.terminate(zone, server.id);
          } catch (err) {
            // Another terminate won the race, or the server is between states: look again.
            if (!(err instanceof CloudError && (err.kind === 'transient-state' || err.kind === 'not-found'))) throw err;
          }
        }
        current = await Promise.race([deps.serverStates.next(zone, server.id), ctx.cancelled]);
      }
      servers++;
    }
    // A volume whose server went away before it was listed is found by its name.
    for (const volume of await deps.cloud.listVolumesByName(zone, rootVolumeName(deps.clusterName, ref))) volumeIds.add(volume.id);
    for (const volumeId of volumeIds) {
      if (await deps.cloud.deleteVolume(zone, volumeId)) volumes++;
    }
  }
  return { servers, volumes };
}
