// Marketplace API v2 handlers: image labels and their per-zone local images.
import type { LocalImage, LocalImageType } from '../catalog/catalog.ts';
import { jsonReply, type Reply, type RequestContext } from './context.ts';
import { constraintArgument, invalidArguments, marketplaceImageNotFound, notFound } from './errors.ts';
import { readPage, slicePage } from './paging.ts';

/** The marketplace pages by 20 when no page_size is given (recorded: 20 + 7 of 27 images). */
const MARKETPLACE_DEFAULT_PAGE_SIZE = 20;
const LOCAL_IMAGE_TYPES: readonly LocalImageType[] = ['instance_local', 'instance_sbs'];

function pageOf(query: URLSearchParams): ReturnType<typeof readPage> {
  const copy = new URLSearchParams(query);
  if (!copy.has('page_size')) copy.set('page_size', String(MARKETPLACE_DEFAULT_PAGE_SIZE));
  return readPage(copy, 'page_size');
}

function renderLocalImage(image: LocalImage): Record<string, unknown> {
  return {
    id: image.id,
    arch: image.arch,
    zone: image.zone,
    compatible_commercial_types: image.compatible_commercial_types,
    label: image.label,
    type: image.type,
  };
}

export function listLocalImages(ctx: RequestContext): Reply {
  const { query, env } = ctx;
  const zoneParam = query.get('zone');
  if (zoneParam && !env.catalog.hasZone(zoneParam)) throw invalidArguments([constraintArgument('zone', `unknown zone ${zoneParam}`)]);
  const typeParam = query.get('type');
  if (typeParam && !(LOCAL_IMAGE_TYPES as readonly string[]).includes(typeParam)) {
    throw invalidArguments([constraintArgument('type', `type must be one of ${LOCAL_IMAGE_TYPES.join(', ')}`)]);
  }
  const zones = zoneParam ? [zoneParam] : env.catalog.zones();
  const types = typeParam ? [typeParam as LocalImageType] : LOCAL_IMAGE_TYPES;
  const label = query.get('image_label');
  const imageId = query.get('image_id');
  let images: LocalImage[];
  if (label) {
    if (!env.catalog.marketplaceImage(label)) throw marketplaceImageNotFound(label);
    images = zones.flatMap((zone) => types.flatMap((type) => env.catalog.localImages(label, zone, type)));
  } else {
    const marketplaceImage = imageId ? env.catalog.marketplaceImages().find((image) => image.id === imageId) : undefined;
    if (imageId && !marketplaceImage) throw notFound('MarketplaceImage', imageId);
    images = zones.flatMap((zone) => env.catalog.allLocalImages(zone))
      .filter((image) => types.includes(image.type) && (!marketplaceImage || image.label === marketplaceImage.label));
  }
  const arch = query.get('arch');
  if (arch) images = images.filter((image) => image.arch === arch);
  const page = pageOf(query);
  return jsonReply(200, { local_images: slicePage(images, page).map(renderLocalImage), total_count: images.length });
}

export function getLocalImage(ctx: RequestContext): Reply {
  const id = ctx.params.localImageId ?? '';
  for (const zone of ctx.env.catalog.zones()) {
    const found = ctx.env.catalog.allLocalImages(zone).find((image) => image.id === id);
    if (found) return jsonReply(200, renderLocalImage(found));
  }
  throw notFound('LocalImage', id);
}

export function listImages(ctx: RequestContext): Reply {
  // The fixture keeps the recorded name_asc order.
  const images = ctx.env.catalog.marketplaceImages();
  const page = pageOf(ctx.query);
  return jsonReply(200, { images: slicePage(images, page), total_count: images.length });
}

export function getImage(ctx: RequestContext): Reply {
  const id = ctx.params.imageId ?? '';
  const image = ctx.env.catalog.marketplaceImages().find((candidate) => candidate.id === id);
  if (!image) throw notFound('MarketplaceImage', id);
  return jsonReply(200, image);
}
