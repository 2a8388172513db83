// Block Storage API v1 handlers: the SBS volumes that back server root disks.
import { jsonReply, noContent, type Reply, type RequestContext } from './context.ts';
import { ApiError, constraintArgument, invalidArguments, preconditionFailed } from './errors.ts';
import { readPage, slicePage } from './paging.ts';
import { jsonBody, optionalString, queryList, stringList } from './request-body.ts';
import { renderBlockVolume } from './shapes.ts';
import type { BlockVolumeRecord } from './store.ts';

/** The block API's answers when no size is asked (its own default page size). */
const BLOCK_DEFAULT_PAGE_SIZE = 20;
const IOPS_CLASSES = [5000, 15000];

/** Not recorded on the block API; the newer gateway's not_found fields, in its sorted key order. */
function volumeNotFound(id: string): ApiError {
  return new ApiError(404, { message: 'resource is not found', resource: 'volume', resource_id: id, type: 'not_found' });
}

function findVolume(ctx: RequestContext): BlockVolumeRecord {
  const id = ctx.params.volumeId ?? '';
  const volume = ctx.env.store.blockVolume(ctx.zone, id);
  if (!volume) throw volumeNotFound(id);
  return volume;
}

export function getVolume(ctx: RequestContext): Reply {
  return jsonReply(200, renderBlockVolume(findVolume(ctx)));
}

export function deleteVolume(ctx: RequestContext): Reply {
  const volume = findVolume(ctx);
  if (volume.attachment) {
    throw preconditionFailed('resource_still_in_use', `volume ${volume.id} is attached to server ${volume.attachment.serverId}`);
  }
  ctx.env.store.blockVolumes.delete(volume.id);
  return noContent();
}

export function updateVolume(ctx: RequestContext): Reply {
  const volume = findVolume(ctx);
  const body = jsonBody(ctx.rawBody);
  const name = optionalString(body, 'name');
  const tags = stringList(body.tags);
  const { size } = body;
  const perfIops = body.perf_iops;
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < volume.size)) {
    throw invalidArguments([constraintArgument('size', 'a volume can only grow')]);
  }
  if (perfIops !== undefined && (typeof perfIops !== 'number' || !IOPS_CLASSES.includes(perfIops))) {
    throw invalidArguments([constraintArgument('perf_iops', `perf_iops must be one of ${IOPS_CLASSES.join(', ')}`)]);
  }
  if (name) volume.name = name;
  if (tags) volume.tags = tags;
  if (typeof size === 'number') volume.size = size;
  if (typeof perfIops === 'number') volume.perfIops = perfIops;
  volume.updatedAt = ctx.now;
  return jsonReply(200, renderBlockVolume(volume));
}

export function listVolumes(ctx: RequestContext): Reply {
  const { query } = ctx;
  const tags = queryList(query, 'tags');
  const name = query.get('name');
  const projectId = query.get('project_id');
  const productResourceId = query.get('product_resource_id');
  const volumes = [...ctx.env.store.blockVolumes.values()]
    .filter((volume) =>
      volume.zone === ctx.zone
      && tags.every((tag) => volume.tags.includes(tag))
      && (!name || volume.name.includes(name))
      && (!projectId || volume.projectId === projectId)
      && (!productResourceId || volume.attachment?.serverId === productResourceId))
    .sort((a, b) => a.createdAt - b.createdAt);
  if (query.get('order_by') === 'created_at_desc') volumes.reverse();
  if (!query.has('page_size')) query.set('page_size', String(BLOCK_DEFAULT_PAGE_SIZE));
  const page = readPage(query, 'page_size');
  return jsonReply(200, { volumes: slicePage(volumes, page).map(renderBlockVolume), total_count: volumes.length });
}
