// Faithfulness suite: every recorded Scaleway interaction the project's calls touch, replayed against
// the simulator. Needs ../shared/scaleway next to the repository (CI has it); skips without it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildCatalogFixture, FIXTURE_PATH, renderFixture } from '../../tools/make-catalog-fixture.ts';
import { readFileSync } from 'node:fs';
import { startSimulator } from '../../scaleway/simulator/index.ts';
import { simFetch } from '../../scaleway/simulator/testing.ts';
import { keyDifferences, readCassette, replay, type Interaction } from './replay.ts';

const SHARED = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'scaleway');
const present = existsSync(SHARED);
const skip = present ? false : `recordings not found at ${SHARED} (the sibling ../shared/scaleway of the repository); faithfulness suite skipped`;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (value: Json | undefined): value is { [key: string]: Json } => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The scratch volume of server-scratch-storage: the simulator has no scratch volumes. */
const SCRATCH_VOLUME = '74d989f0-2053-49db-8e91-9208237eef67';
/** An Ubuntu Bionic local image of 2019, unknown to today's marketplace. */
const BIONIC_IMAGE = 'f974feac-abae-4365-b988-8ec7d1cec10d';

function withoutScratch(_interaction: Interaction, body: Json): Json {
  if (!isObject(body) || !isObject(body.server) || !isObject(body.server.volumes)) return body;
  const volumes = Object.fromEntries(Object.entries(body.server.volumes).filter(([, volume]) => !(isObject(volume) && volume.id === SCRATCH_VOLUME)));
  return { ...body, server: { ...body.server, volumes } };
}

function withoutScratchInRequest(_interaction: Interaction, body: Json): Json {
  if (!isObject(body) || !isObject(body.volumes)) return body;
  const volumes = Object.fromEntries(Object.entries(body.volumes).filter(([, volume]) => !(isObject(volume) && volume.id === SCRATCH_VOLUME)));
  return { ...body, volumes };
}

function touchesScratch(interaction: Interaction): boolean {
  return interaction.request.url.includes(SCRATCH_VOLUME) || /\/instance\/v1\/zones\/[^/]+\/volumes$/.test(new URL(interaction.request.url).pathname);
}

function report(name: string, result: { replayed: number; skipped: string[]; differences: string[] }, minimum: number): void {
  assert.ok(result.replayed >= minimum, `${name}: replayed ${result.replayed} interactions, expected at least ${minimum}`);
  assert.deepEqual(result.differences, [], `${name}: the simulator differs from the recording`);
}

describe('simulator faithfulness to the recorded Scaleway API', { skip }, () => {
  it('keeps the committed catalog fixture in step with the recording', () => {
    assert.equal(readFileSync(FIXTURE_PATH, 'utf8'), renderFixture(buildCatalogFixture(SHARED)), 'run npm run catalog:fixture');
  });

  it('serves the current catalog byte for byte: 9 zones of products and availability', async () => {
    const interactions = readCassette(SHARED, 'data-source-server-type-compare-with-pcu.cassette.yaml');
    const result = await replay(interactions, { exactCatalog: true });
    report('catalog', result, 100);
    assert.ok(result.skipped.every((label) => label.includes('/product-catalog/')), result.skipped.join('\n'));
  });

  it('answers older catalog recordings with the same shapes', async () => {
    for (const file of ['2025-10-30/data-source-server-type-compare-with-pcu.cassette.yaml', 'test-server-type-list-on-fr-par1.cassette.yaml']) {
      // scratch_storage_max_volumes_count was added to server types after these recordings.
      report(file, await replay(readCassette(SHARED, file), { tolerateExtraKeys: ['scratch_storage_max_volumes_count'] }), 6);
    }
  });

  it('replays the GPU lifecycle of server-scratch-storage (without the scratch volume)', async () => {
    const result = await replay(readCassette(SHARED, 'server-scratch-storage.cassette.yaml'), {
      skip: touchesScratch,
      rewriteBody: withoutScratchInRequest,
      trimRecorded: withoutScratch,
      exactCatalog: true,
    });
    report('server-scratch-storage', result, 35);
  });

  it('replays server-user-data-with-cloud-init-at-start', async () => {
    report('server-user-data-with-cloud-init-at-start', await replay(readCassette(SHARED, 'server-user-data-with-cloud-init-at-start.cassette.yaml'), { exactCatalog: true }), 35);
  });

  it('replays server-root-volume-from-image-block (volume resize and IOPS class included)', async () => {
    report('server-root-volume-from-image-block', await replay(readCassette(SHARED, 'server-root-volume-from-image-block.cassette.yaml'), { exactCatalog: true }), 50);
  });

  it('replays the SDK user data round trip (on a local-volume image of today)', async () => {
    const result = await replay(readCassette(SHARED, 'test-api-server-user-data.cassette.yaml'), {
      rewriteBody: (_interaction, body, sim) => {
        if (!isObject(body) || body.image !== BIONIC_IMAGE) return body;
        const image = sim.catalog.localImages('ubuntu_focal', 'fr-par-1', 'instance_local').find((candidate) => candidate.arch === 'x86_64');
        return { ...body, image: image?.id ?? null };
      },
      // dns appeared in server answers after this 2025 recording.
      tolerateExtraKeys: ['dns'],
    });
    report('test-api-server-user-data', result, 3);
  });

  it('replays the recorded error answers', async () => {
    for (const file of [
      'test-create-server-with-incorrect-body.cassette.yaml',
      'test-create-server-errors-error-invalid-image-label.cassette.yaml',
      'test-create-server-errors-error-not-found-ipid.cassette.yaml',
      'test-marketplace-image-list-simple.cassette.yaml',
    ]) {
      // These 2025 recordings predate the dns and scratch_storage_max_volumes_count fields.
      report(file, await replay(readCassette(SHARED, file), { tolerateExtraKeys: ['dns', 'scratch_storage_max_volumes_count'] }), 1);
    }
  });

  it('answers out_of_stock in the only recorded shape (Apple Silicon API)', async () => {
    const [recorded] = readCassette(SHARED, 'test-server-ssh-simple.cassette.yaml');
    assert.ok(recorded);
    const sim = await startSimulator();
    try {
      sim.faults.stockOut('fr-par-2', 'L4-1-24G');
      const { local_images: images } = (await simFetch(sim, 'GET', '/marketplace/v2/local-images?image_label=ubuntu_noble_gpu_os_12&zone=fr-par-2&type=instance_sbs')).body as { local_images: { id: string }[] };
      const refused = await simFetch(sim, 'POST', '/instance/v1/zones/fr-par-2/servers', { commercial_type: 'L4-1-24G', image: images[0]?.id });
      assert.equal(refused.status, recorded.response.code);
      assert.deepEqual(keyDifferences(JSON.parse(recorded.response.body ?? '{}') as Json, refused.body as Json), []);
      assert.equal(refused.text, recorded.response.body);
    } finally {
      await sim.close();
    }
  });
});
