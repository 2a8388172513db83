// The offerings activity's pure helpers: GPU short names in requirements, and the zones to look in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalRequirements } from '../../activities/offerings.ts';
import { candidateZones } from '../../scaleway/offerings.ts';
import { Requirements } from '../../kube/api/requirements.ts';
import { SCALEWAY_ZONES } from '../../scaleway/instance-types.ts';

const GPU_NAME = 'karpenter.scaleway.com/instance-gpu-name';
const ZONE = 'topology.kubernetes.io/zone';

describe('canonicalRequirements', () => {
  it('rewrites GPU short names to the label values nodes carry', () => {
    const r = canonicalRequirements([{ key: GPU_NAME, operator: 'In', values: ['h100', '3070', 'L4', 'H100-SXM', 'b300'] }]);
    assert.deepEqual(r.get(GPU_NAME)?.sortedValues(), ['b300-sxm', 'h100-pcie', 'h100-sxm', 'l4', 'rtx-3070']);
    assert.ok(r.allows(GPU_NAME, 'h100-pcie'));
    assert.ok(!r.allows(GPU_NAME, 'h100'));
  });

  it('rewrites NotIn values too, so NotIn [h100] keeps PCIe cards out', () => {
    const r = canonicalRequirements([{ key: GPU_NAME, operator: 'NotIn', values: ['h100'] }]);
    assert.ok(!r.allows(GPU_NAME, 'h100-pcie'));
    assert.ok(r.allows(GPU_NAME, 'h100-sxm'));
  });

  it('leaves other keys and value-less operators alone', () => {
    const list = [
      { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['H100-1-80G'] },
      { key: 'team', operator: 'In', values: ['h100'] },
      { key: GPU_NAME, operator: 'Exists' },
      { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'], minValues: 1 },
    ];
    const r = canonicalRequirements(list);
    assert.equal(r.toString(), Requirements.from(list).toString());
    assert.equal(r.get('team')?.sortedValues()[0], 'h100');
  });
});

describe('candidateZones', () => {
  it('defaults to every Scaleway zone', () => {
    assert.deepEqual(candidateZones(undefined, Requirements.empty()), [...SCALEWAY_ZONES]);
    assert.deepEqual(candidateZones([], Requirements.empty()), [...SCALEWAY_ZONES]);
    assert.equal(SCALEWAY_ZONES.length, 9);
  });

  it('narrows the NodeClass zones by a zone requirement', () => {
    const nodeClass = ['fr-par-1', 'fr-par-2', 'nl-ams-1'];
    assert.deepEqual(candidateZones(nodeClass, Requirements.empty()), nodeClass);
    assert.deepEqual(candidateZones(nodeClass, Requirements.from([{ key: ZONE, operator: 'In', values: ['fr-par-2', 'pl-waw-1'] }])), ['fr-par-2']);
    assert.deepEqual(candidateZones(nodeClass, Requirements.from([{ key: ZONE, operator: 'NotIn', values: ['fr-par-1'] }])), ['fr-par-2', 'nl-ams-1']);
    assert.deepEqual(candidateZones(nodeClass, Requirements.from([{ key: ZONE, operator: 'In', values: ['pl-waw-1'] }])), []);
  });

  it('narrows the default zones too, and reads the beta zone key', () => {
    assert.deepEqual(candidateZones(undefined, Requirements.from([{ key: ZONE, operator: 'In', values: ['nl-ams-3', 'fr-par-3'] }])), ['fr-par-3', 'nl-ams-3']);
    assert.deepEqual(candidateZones(undefined, Requirements.from([{ key: 'failure-domain.beta.kubernetes.io/zone', operator: 'In', values: ['pl-waw-2'] }])), ['pl-waw-2']);
  });

  it('ignores requirements on other keys', () => {
    assert.deepEqual(candidateZones(['fr-par-2'], Requirements.from([{ key: GPU_NAME, operator: 'In', values: ['l4'] }])), ['fr-par-2']);
  });
});
