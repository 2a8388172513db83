// Instance API v1 handlers: server types and availability, servers, actions, user data, local volumes.
import { randomUUID } from 'node:crypto';
import { DEFAULT_ROOT_VOLUME_BYTES, isGpuLabel } from '../catalog/catalog.ts';
import { jsonReply, noContent, type Reply, type RequestContext, type SimEnv } from './context.ts';
import {
  constraintArgument,
  invalidArguments,
  invalidRequest,
  locked,
  notFound,
  outOfStock,
  requiredArgument,
  transientState,
  type InvalidArgument,
} from './errors.ts';
import { pagingHeaders, readPage, slicePage } from './paging.ts';
import { isRecord, jsonBody, optionalString, queryList, stringList, type JsonRecord } from './request-body.ts';
import { renderLocalVolume, renderServer, renderTask } from './shapes.ts';
import { isTransient, startAction } from './state-machine.ts';
import type { ServerRecord } from './store.ts';

/** Smallest root volume the API accepts (1 GB). */
const MIN_VOLUME_BYTES = 1_000_000_000;

function paramOf(ctx: RequestContext, name: string): string {
  return ctx.params[name] ?? '';
}

export function findServer(ctx: RequestContext): ServerRecord {
  const id = paramOf(ctx, 'serverId');
  const server = ctx.env.store.server(ctx.zone, id);
  if (!server) throw notFound('instance_server', id);
  return server;
}

function assertUnlocked(ctx: RequestContext, server: ServerRecord): void {
  if (ctx.env.faults.lockedServers.has(server.id)) throw locked('instance_server', server.id);
}

// --- products -----------------------------------------------------------------------------------

export function listServersTypes(ctx: RequestContext): Reply {
  const types = ctx.env.catalog.typesInZone(ctx.zone);
  const page = readPage(ctx.query);
  const servers: Record<string, unknown> = {};
  for (const type of slicePage(types, page)) servers[type] = ctx.env.catalog.productEntry(ctx.zone, type);
  return jsonReply(200, { servers }, pagingHeaders('/products/servers', types.length, page));
}

export function currentAvailability(env: SimEnv, zone: string, commercialType: string): string | undefined {
  return env.faults.availabilityOverride(zone, commercialType) ?? env.catalog.offer(zone, commercialType)?.availability;
}

export function getServerTypesAvailability(ctx: RequestContext): Reply {
  const types = ctx.env.catalog.typesInZone(ctx.zone);
  const page = readPage(ctx.query);
  const servers: Record<string, unknown> = {};
  for (const type of slicePage(types, page)) servers[type] = { availability: currentAvailability(ctx.env, ctx.zone, type) };
  return jsonReply(200, { servers }, pagingHeaders('/products/servers/availability', types.length, page));
}

// --- servers ------------------------------------------------------------------------------------

interface VolumeRequest {
  slot: string;
  id?: string;
  volumeType: 'sbs_volume' | 'l_ssd';
  size: number;
  name?: string;
}

function readVolumes(ctx: RequestContext, body: JsonRecord, commercialType: string, imageIsLocal: boolean, imageLabel: string): VolumeRequest[] {
  const facts = ctx.env.catalog.facts(commercialType);
  const raw = isRecord(body.volumes) ? body.volumes : {};
  const slots = Object.keys(raw).sort((a, b) => Number(a) - Number(b));
  if (!slots.includes('0')) slots.unshift('0');
  const problems: InvalidArgument[] = [];
  const volumes: VolumeRequest[] = [];
  for (const slot of slots) {
    const entry = isRecord(raw[slot]) ? raw[slot] : {};
    const requestedType = optionalString(entry, 'volume_type');
    const id = optionalString(entry, 'id');
    const volumeType = requestedType ?? (imageIsLocal ? 'l_ssd' : 'sbs_volume');
    if (volumeType !== 'sbs_volume' && volumeType !== 'l_ssd') {
      problems.push(constraintArgument(`volumes.${slot}.volume_type`, `volume type ${volumeType} is not supported (sbs_volume, l_ssd)`));
      continue;
    }
    const defaultSize = volumeType === 'l_ssd' && facts && facts.volumes_constraint.max_size > 0
      ? facts.volumes_constraint.max_size
      : isGpuLabel(imageLabel) ? DEFAULT_ROOT_VOLUME_BYTES.gpu : DEFAULT_ROOT_VOLUME_BYTES.other;
    const size = entry.size === undefined ? defaultSize : entry.size;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < MIN_VOLUME_BYTES) {
      problems.push(constraintArgument(`volumes.${slot}.size`, `size must be an integer of at least ${MIN_VOLUME_BYTES} bytes`));
      continue;
    }
    volumes.push({ slot, id, volumeType, size, name: optionalString(entry, 'name') });
  }
  if (facts) {
    const local = volumes.filter((volume) => volume.volumeType === 'l_ssd' && !volume.id);
    const { min_size: min, max_size: max } = facts.per_volume_constraint.l_ssd;
    for (const volume of local) {
      if (max === 0) {
        problems.push(constraintArgument(`volumes.${volume.slot}.volume_type`, `${commercialType} does not support local volumes (l_ssd)`));
      } else if (volume.size < min || volume.size > max) {
        problems.push(constraintArgument(`volumes.${volume.slot}.size`, `l_ssd size must be between ${min} and ${max} bytes for ${commercialType}`));
      }
    }
    const localTotal = local.reduce((sum, volume) => sum + volume.size, 0);
    if (local.length > 0 && facts.volumes_constraint.max_size > 0 && localTotal > facts.volumes_constraint.max_size) {
      problems.push(constraintArgument('volumes', `total local volume size must not exceed ${facts.volumes_constraint.max_size} bytes for ${commercialType}`));
    }
  }
  if (problems.length > 0) throw invalidArguments(problems);
  return volumes;
}

export function createServer(ctx: RequestContext, baseUrl: string): Reply {
  const { env, zone, now } = ctx;
  const body = jsonBody(ctx.rawBody);
  const commercialType = optionalString(body, 'commercial_type');
  const imageId = optionalString(body, 'image');
  const missing: InvalidArgument[] = [];
  if (!commercialType) missing.push(requiredArgument('commercial_type'));
  // The API needs something to boot from: an image or volumes (recorded: all three reported together).
  if (!imageId && body.volumes === undefined) missing.push(requiredArgument('image'), requiredArgument('volumes'));
  if (missing.length > 0 || !commercialType) throw invalidArguments(missing);

  const offer = env.catalog.offer(zone, commercialType);
  if (!offer) throw invalidArguments([constraintArgument('commercial_type', `commercial type ${commercialType} is not offered in ${zone}`)]);

  const publicIps = [optionalString(body, 'public_ip'), ...(stringList(body.public_ips) ?? [])].filter((ip): ip is string => ip !== undefined);
  // The simulator has no IP API, so any IP reference is unknown (recorded: not-found-ipid).
  if (publicIps[0]) throw notFound('instance_ip', publicIps[0]);

  if (!imageId) throw invalidArguments([constraintArgument('image', 'the simulator boots servers from marketplace images only')]);
  const image = env.catalog.image(zone, imageId);
  if (!image) throw notFound('instance_image', imageId);
  if (image.arch !== offer.facts.arch) {
    throw invalidArguments([constraintArgument('image', `image architecture ${image.arch} does not match ${commercialType} (${offer.facts.arch})`)]);
  }

  const availability = currentAvailability(env, zone, commercialType);
  const injected = env.faults.availabilityOverride(zone, commercialType) === 'shortage';
  if (injected || (env.stockPolicy === 'shortage' && availability === 'shortage')) throw outOfStock();

  const volumes = readVolumes(ctx, body, commercialType, image.type === 'instance_local', image.label);
  for (const volume of volumes) {
    if (!volume.id) continue;
    const existing = env.store.blockVolume(zone, volume.id);
    if (!existing) throw notFound('instance_volume', volume.id);
    if (existing.attachment) throw invalidArguments([constraintArgument(`volumes.${volume.slot}.id`, `volume ${volume.id} is already attached`)]);
  }

  const project = optionalString(body, 'project') ?? optionalString(body, 'organization') ?? env.defaultProjectId;
  const name = optionalString(body, 'name') ?? `srv-${randomUUID().slice(0, 8)}`;
  const server = env.store.newServer({
    zone,
    name,
    commercialType,
    arch: offer.facts.arch,
    project,
    tags: stringList(body.tags) ?? [],
    image,
    bootType: optionalString(body, 'boot_type') ?? 'local',
    dynamicIpRequired: body.dynamic_ip_required === true,
    enableIpv6: body.enable_ipv6 === true,
    securityGroupId: env.store.securityGroup(zone, project),
  }, now);

  for (const volume of volumes) {
    const id = volume.id ?? randomUUID();
    server.volumeSlots[volume.slot] = id;
    if (volume.id) {
      const existing = env.store.blockVolumes.get(volume.id);
      if (existing) existing.attachment = { serverId: server.id, referenceId: randomUUID(), at: now };
    } else if (volume.volumeType === 'sbs_volume') {
      env.store.blockVolumes.set(id, {
        id,
        zone,
        name: volume.name ?? `${image.name}_sbs_volume_${volume.slot}`,
        size: volume.size,
        perfIops: 5000,
        projectId: project,
        tags: [],
        createdAt: now,
        updatedAt: now,
        parentSnapshotId: volume.slot === '0' ? image.rootSnapshotId : null,
        attachment: { serverId: server.id, referenceId: randomUUID(), at: now },
        lastDetachedAt: null,
      });
    } else {
      env.store.localVolumes.set(id, {
        id,
        zone,
        name: volume.name ?? (volume.slot === '0' ? `snapshot-${image.rootSnapshotId}` : `${name}-l_ssd-${volume.slot}`),
        size: volume.size,
        project,
        tags: [],
        createdAt: now,
        modifiedAt: now,
        serverId: server.id,
        state: 'available',
      });
    }
  }
  return jsonReply(201, { server: renderServer(server, env.store) }, { Location: `${baseUrl}/instance/v1/zones/${zone}/servers/${server.id}` });
}

export function getServer(ctx: RequestContext): Reply {
  return jsonReply(200, { server: renderServer(findServer(ctx), ctx.env.store) });
}

export function listServers(ctx: RequestContext): Reply {
  const { query } = ctx;
  const tags = queryList(query, 'tags');
  const ids = queryList(query, 'servers');
  const name = query.get('name');
  const commercialType = query.get('commercial_type');
  const state = query.get('state');
  const project = query.get('project') ?? query.get('organization');
  let servers = [...ctx.env.store.servers.values()].filter((server) =>
    server.zone === ctx.zone
    && tags.every((tag) => server.tags.includes(tag))
    && (ids.length === 0 || ids.includes(server.id))
    && (!name || server.name.includes(name))
    && (!commercialType || server.commercialType === commercialType)
    && (!state || server.lifecycle.state === state)
    && (!project || server.project === project));
  servers = servers.sort((a, b) => a.createdAt - b.createdAt);
  if (query.get('order') !== 'creation_date_asc') servers.reverse();
  const page = readPage(query);
  return jsonReply(200, { servers: slicePage(servers, page).map((server) => renderServer(server, ctx.env.store)) }, pagingHeaders('/servers', servers.length, page));
}

export function updateServer(ctx: RequestContext): Reply {
  const server = findServer(ctx);
  assertUnlocked(ctx, server);
  const body = jsonBody(ctx.rawBody);
  const name = optionalString(body, 'name');
  if (name) server.name = name;
  const tags = stringList(body.tags);
  if (tags) server.tags = tags;
  if (isRecord(body.volumes)) {
    for (const [slot, entry] of Object.entries(body.volumes)) {
      const id = isRecord(entry) ? optionalString(entry, 'id') : undefined;
      if (id && server.volumeSlots[slot] !== id) {
        throw invalidArguments([constraintArgument(`volumes.${slot}`, 'the simulator does not swap volumes')]);
      }
    }
  }
  server.lifecycle.modifiedAt = ctx.now;
  return jsonReply(200, { server: renderServer(server, ctx.env.store) });
}

export function deleteServer(ctx: RequestContext): Reply {
  const server = findServer(ctx);
  assertUnlocked(ctx, server);
  const { state } = server.lifecycle;
  if (isTransient(state)) throw transientState('instance_server', server.id, state);
  // Like the real API: only a stopped server can be deleted; a running one must be terminated.
  if (state !== 'stopped') throw invalidRequest(`server ${server.id} must be stopped to be deleted (it is ${state}); use the terminate action`);
  ctx.env.store.deleteServer(server, ctx.now);
  return noContent();
}

export function serverAction(ctx: RequestContext): Reply {
  const server = findServer(ctx);
  assertUnlocked(ctx, server);
  const body = jsonBody(ctx.rawBody);
  const action = optionalString(body, 'action') ?? 'poweron';
  const stuck = action === 'poweron'
    && ctx.env.faults.takeStuck({ kind: 'serverAction', zone: ctx.zone, commercialType: server.commercialType, serverId: server.id, action });
  startAction(server.lifecycle, action, server.id, ctx.now, ctx.env.timings(server.commercialType), { stuckInStarting: stuck });
  server.stuck = stuck;
  if (server.lifecycle.gone) ctx.env.store.finishTermination(server);
  return jsonReply(202, renderTask(server.id, ctx.zone, ctx.now));
}

// --- user data ----------------------------------------------------------------------------------

export function listServerUserData(ctx: RequestContext): Reply {
  const server = findServer(ctx);
  return jsonReply(200, { user_data: [...server.userData.keys()].sort() });
}

export function getServerUserData(ctx: RequestContext): Reply {
  const server = findServer(ctx);
  const key = paramOf(ctx, 'key');
  const value = server.userData.get(key);
  if (value === undefined) throw notFound('instance_user_data', key);
  return { status: 200, text: value, contentType: 'text/plain' };
}

export function setServerUserData(ctx: RequestContext): Reply {
  const server = findServer(ctx);
  assertUnlocked(ctx, server);
  if (!ctx.contentType.startsWith('text/plain')) throw invalidRequest('user data must be sent with Content-Type: text/plain');
  server.userData.set(paramOf(ctx, 'key'), ctx.rawBody);
  return noContent('text/plain');
}

export function deleteServerUserData(ctx: RequestContext): Reply {
  const server = findServer(ctx);
  assertUnlocked(ctx, server);
  const key = paramOf(ctx, 'key');
  if (!server.userData.delete(key)) throw notFound('instance_user_data', key);
  return noContent();
}

// --- instance volumes ---------------------------------------------------------------------------

/** Local volumes live here; SBS volumes answer 404 on the Instance API, as recorded. */
export function getInstanceVolume(ctx: RequestContext): Reply {
  const id = paramOf(ctx, 'volumeId');
  const volume = ctx.env.store.localVolume(ctx.zone, id);
  if (!volume) throw notFound('instance_volume', id);
  return jsonReply(200, { volume: renderLocalVolume(volume, ctx.env.store, undefined) });
}

/**
 * Local volumes only (SBS ones answer 404 here, as on GET). Not recorded: a volume still attached
 * is refused; one left behind by DELETE /servers (detached) goes at once.
 */
export function deleteInstanceVolume(ctx: RequestContext): Reply {
  const id = paramOf(ctx, 'volumeId');
  const volume = ctx.env.store.localVolume(ctx.zone, id);
  if (!volume) throw notFound('instance_volume', id);
  if (volume.serverId) throw invalidRequest(`volume ${id} is attached to server ${volume.serverId}`);
  ctx.env.store.localVolumes.delete(id);
  return noContent();
}
