// Builds scaleway/catalog/catalog.json from the recorded Scaleway API cassettes in ../shared/scaleway.
// The fixture keeps only facts (types, prices, availability, image ids); the simulator renders the
// API's JSON from it, so the runtime never reads ../shared.
//
//   npm run catalog:fixture            # rewrite the fixture
//   npm run catalog:fixture -- --check # exit 1 when the committed fixture is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_SHARED_DIR = resolve(repoRoot, '..', 'shared', 'scaleway');
export const FIXTURE_PATH = join(repoRoot, 'scaleway', 'catalog', 'catalog.json');

const CATALOG_CASSETTE = 'data-source-server-type-compare-with-pcu.cassette.yaml';
const IMAGES_CASSETTE = 'test-marketplace-image-list-simple.cassette.yaml';
/** Cassettes whose marketplace local-images answers carry real image ids we want to reuse. */
const LOCAL_IMAGE_CASSETTES = [
  'server-scratch-storage.cassette.yaml',
  'server-user-data-with-cloud-init-at-start.cassette.yaml',
  'server-root-volume-from-image-block.cassette.yaml',
  'test-create-server-errors-error-not-found-ipid.cassette.yaml',
];
/** Cassettes whose server responses tell which image id has which name and root snapshot. */
const SERVER_CASSETTES = [
  'server-scratch-storage.cassette.yaml',
  'server-user-data-with-cloud-init-at-start.cassette.yaml',
  'server-root-volume-from-image-block.cassette.yaml',
];

interface Interaction {
  request: { method: string; url: string };
  response: { code: number; body?: string; headers?: Record<string, string[]> };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Fields of a products/servers entry that differ per zone; everything else is a fact of the type. */
const PER_ZONE_FIELDS = ['hourly_price', 'monthly_price'] as const;

export interface CatalogFixture {
  source: { cassette: string; recordedAt: string; imagesRecordedAt: string };
  /** Zone-independent facts, keyed by commercial type, in the API's own field order. */
  serverTypes: Record<string, JsonObject>;
  /** Per zone, in the API's order: [hourly_price EUR, monthly_price EUR, availability]. */
  zones: Record<string, Record<string, [number, number, string]>>;
  marketplace: {
    images: JsonObject[];
    /** Local images seen in recordings (their real ids); other label/zone pairs are derived at runtime. */
    localImages: { id: string; label: string; zone: string; arch: string; type: string; compatible_commercial_types: string[] }[];
    /** What server responses tell about an image: display name and root snapshot. */
    imageDetails: Record<string, { name: string; root_volume_id: string; root_volume_type: string; creation_date: string }>;
  };
}

function readInteractions(sharedDir: string, file: string): Interaction[] {
  const doc = parse(readFileSync(join(sharedDir, file), 'utf8')) as { interactions: Interaction[] };
  return doc.interactions;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonBody(interaction: Interaction): JsonObject {
  const parsed = JSON.parse(interaction.response.body ?? 'null') as Json;
  if (!isObject(parsed)) throw new Error(`${interaction.request.url}: response body is not an object`);
  return parsed;
}

/** A string field of a recorded answer; anything else means the recording is not what we expect. */
function text(value: Json | undefined, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

function dateHeader(interaction: Interaction | undefined): string {
  const value = interaction?.response.headers?.Date?.[0];
  return value ? new Date(value).toISOString() : '';
}

export function buildCatalogFixture(sharedDir: string = DEFAULT_SHARED_DIR): CatalogFixture {
  const interactions = readInteractions(sharedDir, CATALOG_CASSETTE);
  const serverTypes: Record<string, JsonObject> = {};
  const products: Record<string, Record<string, JsonObject>> = {};
  const availability: Record<string, Record<string, string>> = {};

  for (const interaction of interactions) {
    if (interaction.response.code !== 200) continue;
    const match = /\/instance\/v1\/zones\/([^/]+)\/products\/servers(\/availability)?$/.exec(new URL(interaction.request.url).pathname);
    if (!match?.[1]) continue;
    const zone = match[1];
    const servers = jsonBody(interaction).servers;
    if (!isObject(servers)) throw new Error(`${interaction.request.url}: no servers map`);
    for (const [type, entry] of Object.entries(servers)) {
      if (!isObject(entry)) continue;
      if (match[2]) {
        (availability[zone] ??= {})[type] = text(entry.availability, `${zone} ${type} availability`);
      } else {
        (products[zone] ??= {})[type] = entry;
      }
    }
  }

  const zones: CatalogFixture['zones'] = {};
  for (const [zone, entries] of Object.entries(products)) {
    zones[zone] = {};
    for (const [type, entry] of Object.entries(entries)) {
      const facts: JsonObject = {};
      for (const [key, value] of Object.entries(entry)) {
        if (!(PER_ZONE_FIELDS as readonly string[]).includes(key)) facts[key] = value;
      }
      const known = serverTypes[type];
      if (known && JSON.stringify(known) !== JSON.stringify(facts)) {
        throw new Error(`${type}: facts differ between zones; the fixture format assumes they do not`);
      }
      serverTypes[type] = facts;
      const state = availability[zone]?.[type];
      if (!state) throw new Error(`${type} in ${zone}: listed without an availability entry`);
      zones[zone][type] = [Number(entry.hourly_price), Number(entry.monthly_price), state];
    }
    for (const type of Object.keys(availability[zone] ?? {})) {
      if (!entries[type]) throw new Error(`${type} in ${zone}: availability without a product entry`);
    }
  }

  const imageInteractions = readInteractions(sharedDir, IMAGES_CASSETTE).filter((i) => new URL(i.request.url).pathname === '/marketplace/v2/images');
  const images: JsonObject[] = [];
  for (const interaction of imageInteractions) {
    const list = jsonBody(interaction).images;
    if (!Array.isArray(list)) continue;
    for (const image of list) {
      if (!isObject(image)) continue;
      // Marketing descriptions are left out on purpose: the simulator writes its own.
      images.push({
        id: image.id ?? null,
        name: image.name ?? null,
        label: image.label ?? null,
        logo: image.logo ?? null,
        categories: image.categories ?? [],
        valid_until: image.valid_until ?? null,
        created_at: image.created_at ?? null,
        updated_at: image.updated_at ?? null,
      });
    }
  }

  const localImages: CatalogFixture['marketplace']['localImages'] = [];
  const seenLocal = new Set<string>();
  const imageDetails: CatalogFixture['marketplace']['imageDetails'] = {};
  for (const file of LOCAL_IMAGE_CASSETTES) {
    for (const interaction of readInteractions(sharedDir, file)) {
      if (new URL(interaction.request.url).pathname !== '/marketplace/v2/local-images' || interaction.response.code !== 200) continue;
      const list = jsonBody(interaction).local_images;
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        if (!isObject(item) || typeof item.id !== 'string' || seenLocal.has(item.id)) continue;
        seenLocal.add(item.id);
        localImages.push({
          id: item.id,
          label: text(item.label, 'local image label'),
          zone: text(item.zone, 'local image zone'),
          arch: text(item.arch, 'local image arch'),
          type: text(item.type, 'local image type'),
          compatible_commercial_types: Array.isArray(item.compatible_commercial_types) ? item.compatible_commercial_types.map(String) : [],
        });
      }
    }
  }
  for (const file of SERVER_CASSETTES) {
    for (const interaction of readInteractions(sharedDir, file)) {
      if (interaction.request.method !== 'POST' || interaction.response.code !== 201) continue;
      if (!/\/instance\/v1\/zones\/[^/]+\/servers$/.test(new URL(interaction.request.url).pathname)) continue;
      const server = jsonBody(interaction).server;
      const image = isObject(server) ? server.image : null;
      if (!isObject(image) || typeof image.id !== 'string') continue;
      const root = isObject(image.root_volume) ? image.root_volume : {};
      imageDetails[image.id] = {
        name: text(image.name, 'image name'),
        root_volume_id: text(root.id, 'image root volume id'),
        root_volume_type: text(root.volume_type, 'image root volume type'),
        creation_date: text(image.creation_date, 'image creation date'),
      };
    }
  }

  return {
    source: {
      cassette: CATALOG_CASSETTE,
      recordedAt: dateHeader(interactions.at(-1)),
      imagesRecordedAt: dateHeader(imageInteractions[0]),
    },
    serverTypes,
    zones,
    marketplace: { images, localImages, imageDetails },
  };
}

export function renderFixture(fixture: CatalogFixture): string {
  // One zone entry per line keeps the committed file reviewable and its diffs small.
  const lines: string[] = ['{'];
  lines.push(`  "source": ${JSON.stringify(fixture.source)},`);
  lines.push('  "serverTypes": {');
  const types = Object.entries(fixture.serverTypes);
  types.forEach(([type, facts], index) => lines.push(`    ${JSON.stringify(type)}: ${JSON.stringify(facts)}${index < types.length - 1 ? ',' : ''}`));
  lines.push('  },');
  lines.push('  "zones": {');
  const zones = Object.entries(fixture.zones);
  zones.forEach(([zone, entries], zoneIndex) => {
    lines.push(`    ${JSON.stringify(zone)}: {`);
    const rows = Object.entries(entries);
    rows.forEach(([type, row], index) => lines.push(`      ${JSON.stringify(type)}: ${JSON.stringify(row)}${index < rows.length - 1 ? ',' : ''}`));
    lines.push(`    }${zoneIndex < zones.length - 1 ? ',' : ''}`);
  });
  lines.push('  },');
  lines.push('  "marketplace": {');
  lines.push('    "images": [');
  fixture.marketplace.images.forEach((image, index) => lines.push(`      ${JSON.stringify(image)}${index < fixture.marketplace.images.length - 1 ? ',' : ''}`));
  lines.push('    ],');
  lines.push('    "localImages": [');
  fixture.marketplace.localImages.forEach((image, index) => lines.push(`      ${JSON.stringify(image)}${index < fixture.marketplace.localImages.length - 1 ? ',' : ''}`));
  lines.push('    ],');
  lines.push(`    "imageDetails": ${JSON.stringify(fixture.marketplace.imageDetails)}`);
  lines.push('  }');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function main(): void {
  const args = process.argv.slice(2);
  const sharedIndex = args.indexOf('--shared');
  const sharedDir = sharedIndex >= 0 && args[sharedIndex + 1] ? resolve(args[sharedIndex + 1] ?? '') : DEFAULT_SHARED_DIR;
  const rendered = renderFixture(buildCatalogFixture(sharedDir));
  if (args.includes('--check')) {
    const current = readFileSync(FIXTURE_PATH, 'utf8');
    if (current !== rendered) {
      console.error(`${FIXTURE_PATH} is stale: run npm run catalog:fixture`);
      process.exit(1);
    }
    console.log(`${FIXTURE_PATH} matches ${sharedDir}`);
    return;
  }
  writeFileSync(FIXTURE_PATH, rendered);
  const fixture = JSON.parse(rendered) as CatalogFixture;
  console.log(`wrote ${FIXTURE_PATH}: ${Object.keys(fixture.serverTypes).length} server types, zones ${Object.keys(fixture.zones).join(', ')}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
