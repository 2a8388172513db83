import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImageCache, IMAGE_TTL_MS } from '../../scaleway/caches.ts';
import type { ScalewayCloud } from '../../scaleway/cloud.ts';

function countingCloud(fail = false): { cloud: ScalewayCloud; calls: string[] } {
  const calls: string[] = [];
  const cloud = {
    resolveImage: (zone: string, label: string, type: string | undefined) => {
      calls.push(`${zone}/${label}/${type ?? '*'}`);
      return fail ? Promise.reject(new Error('marketplace down')) : Promise.resolve({ id: `img-${zone}-${label}`, label });
    },
  } as unknown as ScalewayCloud;
  return { cloud, calls };
}

describe('ImageCache', () => {
  it('resolves a label once per zone, type and TTL', async () => {
    let now = 0;
    const { cloud, calls } = countingCloud();
    const cache = new ImageCache(cloud, () => now);
    const [a, b] = await Promise.all([cache.resolve('fr-par-2', 'ubuntu_noble_gpu_os_12', 'L4-1-24G', 'sbs_volume'), cache.resolve('fr-par-2', 'ubuntu_noble_gpu_os_12', 'L4-1-24G', 'sbs_volume')]);
    assert.equal(a.id, 'img-fr-par-2-ubuntu_noble_gpu_os_12');
    assert.deepEqual(a, b);
    await cache.resolve('fr-par-1', 'ubuntu_noble_gpu_os_12', 'L4-1-24G', 'sbs_volume');
    assert.equal(calls.length, 2, 'one lookup per zone');
    now = IMAGE_TTL_MS + 1;
    await cache.resolve('fr-par-2', 'ubuntu_noble_gpu_os_12', 'L4-1-24G', 'sbs_volume');
    assert.equal(calls.length, 3, 'looked up again after the TTL');
  });

  it('does not keep a failed lookup', async () => {
    const { cloud, calls } = countingCloud(true);
    const cache = new ImageCache(cloud, () => 0);
    await assert.rejects(cache.resolve('fr-par-2', 'x', undefined, 'sbs_volume'), /marketplace down/);
    await assert.rejects(cache.resolve('fr-par-2', 'x', undefined, 'sbs_volume'), /marketplace down/);
    assert.equal(calls.length, 2);
  });
});
