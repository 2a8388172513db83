// The simulator's HTTP surface: paging headers, filters, user data, validation and error shapes.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSimulator, type Simulator } from '../../scaleway/simulator/index.ts';
import { simFetch, TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';

let sim: Simulator;

async function imageId(label: string, zone: string, type = 'instance_sbs', arch = 'x86_64'): Promise<string> {
  const { body } = await simFetch(sim, 'GET', `/marketplace/v2/local-images?image_label=${label}&zone=${zone}&type=${type}&arch=${arch}`);
  const id = (body as { local_images: { id: string }[] }).local_images[0]?.id;
  assert.ok(id, `a ${label} image in ${zone}`);
  return id;
}

async function create(zone: string, body: Record<string, unknown>): Promise<{ status: number; body: unknown; text: string }> {
  return simFetch(sim, 'POST', `/instance/v1/zones/${zone}/servers`, body);
}

describe('simulator API', () => {
  before(async () => {
    sim = await startSimulator({ profile: 'instant' });
  });
  after(async () => sim.close());
  beforeEach(() => sim.reset());

  describe('server types', () => {
    it('pages fr-par-2 by 50 with the recorded headers', async () => {
      const base = '/instance/v1/zones/fr-par-2/products/servers';
      const pages = await Promise.all([1, 2, 3].map((page) => simFetch(sim, 'GET', `${base}?page=${page}`)));
      assert.deepEqual(pages.map((page) => Object.keys((page.body as { servers: object }).servers).length), [50, 50, 35]);
      for (const page of pages) {
        assert.equal(page.headers.get('x-total-count'), '135');
        assert.equal(page.headers.get('content-type'), 'application/json');
      }
      assert.equal(pages[0]?.headers.get('link'), '</products/servers?page=2&per_page=50&>; rel="next",</products/servers?page=3&per_page=50&>; rel="last"');
      assert.equal(pages[1]?.headers.get('link'), '</products/servers?page=1&per_page=50&>; rel="first",</products/servers?page=1&per_page=50&>; rel="previous",</products/servers?page=3&per_page=50&>; rel="next",</products/servers?page=3&per_page=50&>; rel="last"');
      assert.equal(pages[2]?.headers.get('link'), '</products/servers?page=1&per_page=50&>; rel="first",</products/servers?page=2&per_page=50&>; rel="previous",</products/servers?page=3&per_page=50&>; rel="last"');
    });

    it('serves L4-1-24G in fr-par-2 with its recorded price and GPU', async () => {
      const page = await simFetch(sim, 'GET', '/instance/v1/zones/fr-par-2/products/servers?per_page=100');
      const l4 = (page.body as { servers: Record<string, { hourly_price: number; gpu: number; gpu_info: { gpu_name: string } }> }).servers['L4-1-24G'];
      assert.equal(l4?.hourly_price, 0.7875);
      assert.equal(l4?.gpu, 1);
      assert.equal(l4?.gpu_info.gpu_name, 'L4');
    });

    it('answers availability per zone, single page where the zone is small', async () => {
      const page = await simFetch(sim, 'GET', '/instance/v1/zones/fr-par-3/products/servers/availability');
      assert.equal(page.headers.get('link'), '</products/servers/availability?page=1&per_page=50&>; rel="last"');
      assert.equal(page.headers.get('x-total-count'), String(sim.catalog.typesInZone('fr-par-3').length));
      const all = (page.body as { servers: Record<string, { availability: string }> }).servers;
      assert.ok(Object.values(all).every((entry) => ['available', 'scarce', 'shortage'].includes(entry.availability)));
    });

    it('reflects an injected stock-out in availability', async () => {
      sim.faults.stockOut('fr-par-2', 'L4-1-24G');
      const page = await simFetch(sim, 'GET', '/instance/v1/zones/fr-par-2/products/servers/availability?per_page=100');
      assert.equal((page.body as { servers: Record<string, { availability: string }> }).servers['L4-1-24G']?.availability, 'shortage');
    });
  });

  describe('servers', () => {
    it('lists servers filtered by all of the given tags, by name and by type, with paging headers', async () => {
      const image = await imageId('ubuntu_noble_gpu_os_12', 'fr-par-2');
      for (const [name, tags] of [['a-1', ['cluster=a', 'pool=gpu']], ['a-2', ['cluster=a']], ['b-1', ['cluster=b', 'pool=gpu']]] as const) {
        assert.equal((await create('fr-par-2', { name, commercial_type: 'L4-1-24G', image, tags })).status, 201);
      }
      const list = async (query: string): Promise<string[]> => {
        const response = await simFetch(sim, 'GET', `/instance/v1/zones/fr-par-2/servers?${query}`);
        assert.equal(response.status, 200);
        return (response.body as { servers: { name: string }[] }).servers.map((server) => server.name).sort();
      };
      assert.deepEqual(await list('tags=cluster%3Da,pool%3Dgpu'), ['a-1']);
      assert.deepEqual(await list('tags=cluster%3Da'), ['a-1', 'a-2']);
      assert.deepEqual(await list('tags=pool%3Dgpu'), ['a-1', 'b-1']);
      assert.deepEqual(await list('name=a-'), ['a-1', 'a-2']);
      assert.deepEqual(await list('commercial_type=L4-2-24G'), []);
      assert.deepEqual(await list('state=stopped'), ['a-1', 'a-2', 'b-1']);
      const paged = await simFetch(sim, 'GET', '/instance/v1/zones/fr-par-2/servers?per_page=2&page=2');
      assert.equal(paged.headers.get('x-total-count'), '3');
      assert.equal((paged.body as { servers: unknown[] }).servers.length, 1);
      assert.equal((await list('')).length, 3);
      assert.deepEqual((await simFetch(sim, 'GET', '/instance/v1/zones/fr-par-1/servers')).body, { servers: [] });
    });

    it('rejects a body without commercial_type, image and volumes with the recorded error', async () => {
      const response = await create('fr-par-1', { name: 'srv-x', project: TEST_CREDENTIALS.projectId });
      assert.equal(response.status, 400);
      assert.deepEqual(response.body, {
        type: 'invalid_arguments',
        message: 'invalid argument(s)',
        details: ['commercial_type', 'image', 'volumes'].map((argument) => ({ argument_name: argument, reason: 'required', help_message: 'required key not provided' })),
      });
    });

    it('rejects unknown types, unknown images, foreign IPs and local volumes on GPU types', async () => {
      const image = await imageId('ubuntu_noble_gpu_os_12', 'fr-par-2');
      const unknownType = await create('fr-par-2', { commercial_type: 'L4-3-24G', image });
      assert.equal(unknownType.status, 400);
      assert.equal((unknownType.body as { details: { argument_name: string }[] }).details[0]?.argument_name, 'commercial_type');

      const missingImage = await create('fr-par-2', { commercial_type: 'L4-1-24G', image: '11111111-2222-4333-8444-555555555555' });
      assert.equal(missingImage.status, 404);
      assert.equal((missingImage.body as { resource: string }).resource, 'instance_image');

      const ip = await create('fr-par-2', { commercial_type: 'L4-1-24G', image, public_ip: '23165951-13fd-4a3b-84ed-22c2e96658f2' });
      assert.deepEqual(ip.body, { type: 'not_found', message: 'resource is not found', resource: 'instance_ip', resource_id: '23165951-13fd-4a3b-84ed-22c2e96658f2' });

      const local = await create('fr-par-2', { commercial_type: 'L4-1-24G', image, volumes: { 0: { volume_type: 'l_ssd', size: 20_000_000_000 } } });
      assert.equal(local.status, 400);
      assert.equal((local.body as { type: string }).type, 'invalid_arguments');
    });

    it('creates an l_ssd root volume within the type limits and drops it on terminate', async () => {
      const image = await imageId('ubuntu_jammy', 'fr-par-1', 'instance_local');
      const tooBig = await create('fr-par-1', { commercial_type: 'DEV1-S', image, volumes: { 0: { volume_type: 'l_ssd', size: 30_000_000_000 } } });
      assert.equal(tooBig.status, 400);
      const created = await create('fr-par-1', { commercial_type: 'DEV1-S', image, volumes: { 0: { volume_type: 'l_ssd', size: 20_000_000_000 } } });
      assert.equal(created.status, 201, created.text);
      const server = (created.body as { server: { id: string; volumes: Record<string, { id: string; volume_type: string; size: number }> } }).server;
      assert.equal(server.volumes['0']?.volume_type, 'l_ssd');
      assert.equal(server.volumes['0']?.size, 20_000_000_000);
      const volumePath = `/instance/v1/zones/fr-par-1/volumes/${server.volumes['0']?.id}`;
      assert.equal((await simFetch(sim, 'GET', volumePath)).status, 200);
      await simFetch(sim, 'POST', `/instance/v1/zones/fr-par-1/servers/${server.id}/action`, { action: 'poweron' });
      await simFetch(sim, 'POST', `/instance/v1/zones/fr-par-1/servers/${server.id}/action`, { action: 'terminate' });
      assert.equal((await simFetch(sim, 'GET', volumePath)).status, 404);
    });

    it('answers out_of_stock for a type in shortage, unless the policy is injected-only', async () => {
      assert.equal(sim.catalog.offer('fr-par-2', 'H100-1-80G')?.availability, 'shortage');
      const image = await imageId('ubuntu_noble_gpu_os_12', 'fr-par-2');
      const refused = await create('fr-par-2', { commercial_type: 'H100-1-80G', image });
      assert.equal(refused.status, 503);
      assert.deepEqual(refused.body, { message: 'resource is out of stock', resource: 'server', type: 'out_of_stock' });

      const lenient = await startSimulator({ stockPolicy: 'injected-only' });
      try {
        assert.equal((await simFetch(lenient, 'POST', '/instance/v1/zones/fr-par-2/servers', { commercial_type: 'H100-1-80G', image })).status, 201);
        lenient.faults.stockOut('fr-par-2', 'L4-1-24G');
        assert.equal((await simFetch(lenient, 'POST', '/instance/v1/zones/fr-par-2/servers', { commercial_type: 'L4-1-24G', image })).status, 503);
        lenient.faults.restock('fr-par-2', 'L4-1-24G');
        assert.equal((await simFetch(lenient, 'POST', '/instance/v1/zones/fr-par-2/servers', { commercial_type: 'L4-1-24G', image })).status, 201);
      } finally {
        await lenient.close();
      }
    });
  });

  describe('user data', () => {
    it('stores text/plain values by key and lists the keys', async () => {
      const image = await imageId('ubuntu_noble_gpu_os_12', 'fr-par-2');
      const created = await create('fr-par-2', { commercial_type: 'L4-1-24G', image });
      const id = (created.body as { server: { id: string } }).server.id;
      const base = `/instance/v1/zones/fr-par-2/servers/${id}/user_data`;
      assert.deepEqual((await simFetch(sim, 'GET', base)).body, { user_data: [] });
      const cloudInit = '#cloud-config\napt_update: true\n';
      const patched = await simFetch(sim, 'PATCH', `${base}/cloud-init`, cloudInit);
      assert.equal(patched.status, 204);
      assert.equal((await simFetch(sim, 'PATCH', `${base}/foo`, 'bar')).status, 204);
      assert.deepEqual((await simFetch(sim, 'GET', base)).body, { user_data: ['cloud-init', 'foo'] });
      const value = await simFetch(sim, 'GET', `${base}/cloud-init`);
      assert.equal(value.headers.get('content-type'), 'text/plain');
      assert.equal(value.text, cloudInit);
      assert.equal((await simFetch(sim, 'PATCH', `${base}/json`, { not: 'text' })).status, 400, 'user data must be text/plain');
      assert.equal((await simFetch(sim, 'DELETE', `${base}/foo`)).status, 204);
      assert.deepEqual((await simFetch(sim, 'GET', base)).body, { user_data: ['cloud-init'] });
      assert.equal((await simFetch(sim, 'GET', `${base}/foo`)).status, 404);
    });
  });

  describe('marketplace', () => {
    it('answers an unknown label with the recorded 404', async () => {
      const response = await simFetch(sim, 'GET', '/marketplace/v2/local-images?image_label=macos&order_by=type_asc&type=instance_sbs&zone=fr-par-1');
      assert.equal(response.status, 404);
      assert.deepEqual(response.body, { message: 'resource is not found', resource: 'MarketplaceImage', resource_id: 'macos', type: 'not_found' });
    });

    it('pages marketplace images by 20', async () => {
      const first = await simFetch(sim, 'GET', '/marketplace/v2/images?page=1');
      const second = await simFetch(sim, 'GET', '/marketplace/v2/images?page=2');
      assert.equal((first.body as { images: unknown[] }).images.length, 20);
      assert.equal((first.body as { total_count: number }).total_count, 27);
      assert.equal((second.body as { images: unknown[] }).images.length, 7);
    });
  });

  describe('auth', () => {
    it('answers 401 without X-Auth-Token, and accepts only the configured secret when one is set', async () => {
      const anonymous = await fetch(`${sim.url}/instance/v1/zones/fr-par-1/servers`);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get('content-type'), 'application/json');
      assert.equal(((await anonymous.json()) as { type: string }).type, 'denied_authentication');

      const strict = await startSimulator({ secretKey: TEST_CREDENTIALS.secretKey });
      try {
        assert.equal((await simFetch(strict, 'GET', '/instance/v1/zones/fr-par-1/servers')).status, 200);
        const wrong = await simFetch(strict, 'GET', '/instance/v1/zones/fr-par-1/servers', undefined, { 'X-Auth-Token': '00000000-0000-4000-8000-000000000000' });
        assert.equal(wrong.status, 401);
      } finally {
        await strict.close();
      }
    });
  });
});
