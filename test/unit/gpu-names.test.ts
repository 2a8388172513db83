// GPU names: catalog names and the seed's short names map to one label value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalGpuName, gpuLabelValue, shortGpuName } from '../../scaleway/gpu-names.ts';
import { loadCatalog } from '../../scaleway/catalog/catalog.ts';

describe('gpuLabelValue', () => {
  it('lower-kebab-cases catalog names', () => {
    assert.equal(gpuLabelValue('L4'), 'l4');
    assert.equal(gpuLabelValue('L40S'), 'l40s');
    assert.equal(gpuLabelValue('H100-PCIe'), 'h100-pcie');
    assert.equal(gpuLabelValue('H100-SXM'), 'h100-sxm');
    assert.equal(gpuLabelValue('RTX 3070'), 'rtx-3070');
    assert.equal(gpuLabelValue('  B300_SXM  '), 'b300-sxm');
    assert.equal(gpuLabelValue('-A100--80GB-'), 'a100-80gb');
  });

  it('gives every GPU of the recorded catalog a valid Kubernetes label value', () => {
    const catalog = loadCatalog();
    const gpuNames = new Set(catalog.commercialTypes().flatMap((t) => catalog.facts(t)?.gpu_info?.gpu_name ?? []));
    assert.ok(gpuNames.size >= 5);
    for (const name of gpuNames) {
      const value = gpuLabelValue(name);
      assert.match(value, /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, name);
      assert.ok(value.length <= 63, name);
      assert.equal(canonicalGpuName(value), value, `${name}: a label value is its own canonical name`);
    }
  });
});

describe('canonicalGpuName', () => {
  it('maps the seed short names to label values', () => {
    const table: [string, string][] = [
      ['l4', 'l4'],
      ['L4', 'l4'],
      ['l40s', 'l40s'],
      ['h100', 'h100-pcie'],
      ['H100', 'h100-pcie'],
      ['h100-sxm', 'h100-sxm'],
      ['H100-SXM', 'h100-sxm'],
      ['h100-pcie', 'h100-pcie'],
      ['b300', 'b300-sxm'],
      ['B300-SXM', 'b300-sxm'],
      ['p100', 'p100'],
      ['3070', 'rtx-3070'],
      ['RTX-3070', 'rtx-3070'],
    ];
    for (const [name, value] of table) assert.equal(canonicalGpuName(name), value, name);
  });
});

describe('shortGpuName', () => {
  it('is the inverse of canonicalGpuName on short names and the identity elsewhere', () => {
    assert.equal(shortGpuName('h100-pcie'), 'h100');
    assert.equal(shortGpuName('b300-sxm'), 'b300');
    assert.equal(shortGpuName('rtx-3070'), '3070');
    assert.equal(shortGpuName('h100-sxm'), 'h100-sxm');
    assert.equal(shortGpuName('l4'), 'l4');
    for (const short of ['l4', 'l40s', 'h100', 'b300', 'p100', '3070']) assert.equal(shortGpuName(canonicalGpuName(short)), short);
  });
});
