import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LABEL_CAPACITY_TYPE,
  LABEL_INSTANCE_GPU_COUNT,
  LABEL_INSTANCE_GPU_NAME,
  LABEL_INSTANCE_TYPE,
  LABEL_ZONE,
  Requirement,
  Requirements,
  SCHEDULING_WELL_KNOWN_LABELS,
  restrictedLabelError,
  type NodeSelectorRequirementLike,
} from '../../kube/api/index.ts';

const req = (key: string, operator: string, ...values: string[]): Requirement => Requirement.of(key, operator, values);
const reqs = (...list: NodeSelectorRequirementLike[]): Requirements => Requirements.from(list);

describe('Requirement', () => {
  it('answers has/allowsAbsent for each operator', () => {
    const table: [Requirement, string[], string[], boolean][] = [
      // requirement, values it has, values it lacks, allows an absent label
      [req('k', 'In', 'a', 'b'), ['a', 'b'], ['c', ''], false],
      [req('k', 'NotIn', 'a'), ['b', ''], ['a'], true],
      [req('k', 'Exists'), ['a', '7'], [], false],
      [req('k', 'DoesNotExist'), [], ['a'], true],
      [req('k', 'Gt', '2'), ['3', '10', '0300'], ['2', '1', '-5', 'x', '2.5'], false],
      [req('k', 'Lt', '2'), ['1', '-3'], ['2', '3', 'x'], false],
      [req('k', 'Gte', '2'), ['2', '3'], ['1'], false],
      [req('k', 'Lte', '2'), ['2', '0'], ['3'], false],
    ];
    for (const [r, has, lacks, absent] of table) {
      for (const v of has) assert.ok(r.has(v), `${r.toString()} should have ${v}`);
      for (const v of lacks) assert.ok(!r.has(v), `${r.toString()} should not have ${v}`);
      assert.equal(r.allowsAbsent(), absent, `${r.toString()} absent`);
      assert.equal(r.allows(undefined), absent);
    }
  });

  it('rejects bad operators and bound values', () => {
    assert.throws(() => req('k', 'Matches', 'a'), /requirement k: unknown operator "Matches"/);
    assert.throws(() => req('k', 'Gt'), /requirement k Gt: needs exactly one integer value, got \[\]/);
    assert.throws(() => req('k', 'Lt', '1', '2'), /needs exactly one integer value/);
    assert.throws(() => req('k', 'Gt', 'ten'), /needs exactly one integer value, got \[ten\]/);
  });

  it('intersects finite sets, complements and bounds', () => {
    const cases: [Requirement, Requirement, string][] = [
      [req('k', 'In', 'a', 'b', 'c'), req('k', 'In', 'b', 'c', 'd'), 'k In [b,c]'],
      [req('k', 'In', 'a', 'b'), req('k', 'NotIn', 'a'), 'k In [b]'],
      [req('k', 'NotIn', 'a'), req('k', 'In', 'a', 'b'), 'k In [b]'],
      [req('k', 'NotIn', 'a'), req('k', 'NotIn', 'b'), 'k NotIn [a,b]'],
      [req('k', 'Exists'), req('k', 'In', 'x'), 'k In [x]'],
      [req('k', 'Exists'), req('k', 'NotIn', 'x'), 'k NotIn [x]'],
      [req('k', 'In', 'a'), req('k', 'In', 'b'), 'k DoesNotExist'],
      [req('k', 'DoesNotExist'), req('k', 'Exists'), 'k DoesNotExist'],
      [req('k', 'In', '1', '4', '8', 'x'), req('k', 'Gt', '2'), 'k In [4,8]'],
      [req('k', 'Gt', '2'), req('k', 'Lt', '9'), 'k Gt 2 && k Lt 9'],
      [req('k', 'Gt', '2'), req('k', 'Gt', '5'), 'k Gt 5'],
      [req('k', 'Gte', '4'), req('k', 'Lte', '4'), 'k Gt 3 && k Lt 5'],
      [req('k', 'Gt', '4'), req('k', 'Lt', '5'), 'k DoesNotExist'],
      [req('k', 'Gt', '7'), req('k', 'Lt', '3'), 'k DoesNotExist'],
      [req('k', 'NotIn', '3', '12'), req('k', 'Lt', '10'), 'k NotIn [3] && k Lt 10'],
    ];
    for (const [a, b, expected] of cases) {
      assert.equal(a.intersection(b).toString(), expected, `${a.toString()} ∩ ${b.toString()}`);
      assert.equal(b.intersection(a).toString(), expected, `${b.toString()} ∩ ${a.toString()} (commutes)`);
    }
  });

  it('keeps the larger minValues and refuses to mix keys', () => {
    const a = Requirement.of('k', 'In', ['a', 'b', 'c'], 2);
    const b = Requirement.of('k', 'In', ['a', 'b', 'c', 'd'], 3);
    assert.equal(a.intersection(b).minValues, 3);
    assert.throws(() => a.intersection(req('other', 'Exists')), /different keys k and other/);
  });

  it('tells when two requirements can meet', () => {
    assert.ok(req('k', 'In', 'a', 'b').intersects(req('k', 'In', 'b')));
    assert.ok(!req('k', 'In', 'a').intersects(req('k', 'In', 'b')));
    assert.ok(req('k', 'Exists').intersects(req('k', 'Gt', '3')));
    assert.ok(!req('k', 'Gt', '3').intersects(req('k', 'Lt', '4')));
    // Both accept a node without the label.
    assert.ok(req('k', 'NotIn', 'a').intersects(req('k', 'DoesNotExist')));
    assert.ok(req('k', 'DoesNotExist').intersects(req('k', 'DoesNotExist')));
    assert.ok(!req('k', 'In', 'a').intersects(req('k', 'DoesNotExist')));
    assert.ok(!req('k', 'Exists').intersects(req('k', 'DoesNotExist')));
  });

  it('converts back to NodeSelectorRequirements the CRD accepts', () => {
    assert.deepEqual(req('k', 'In', 'b', 'a').toNodeSelectorRequirements(), [{ key: 'k', operator: 'In', values: ['a', 'b'] }]);
    assert.deepEqual(req('k', 'DoesNotExist').toNodeSelectorRequirements(), [{ key: 'k', operator: 'DoesNotExist' }]);
    assert.deepEqual(req('k', 'Exists').toNodeSelectorRequirements(), [{ key: 'k', operator: 'Exists' }]);
    assert.deepEqual(req('k', 'NotIn', '3').intersection(req('k', 'Gt', '1')).intersection(req('k', 'Lt', '9')).toNodeSelectorRequirements(), [
      { key: 'k', operator: 'NotIn', values: ['3'] },
      { key: 'k', operator: 'Gt', values: ['1'] },
      { key: 'k', operator: 'Lt', values: ['9'] },
    ]);
    // Gte 0 is "> -1", which the CRD cannot take as Gt: written as Gte 0.
    assert.deepEqual(req('k', 'Gte', '0').toNodeSelectorRequirements(), [{ key: 'k', operator: 'Gte', values: ['0'] }]);
    assert.deepEqual(Requirement.of('k', 'In', ['a'], 1).toNodeSelectorRequirements(), [{ key: 'k', operator: 'In', values: ['a'], minValues: 1 }]);
    // Round trip keeps the meaning.
    const complex = req('k', 'NotIn', '3').intersection(req('k', 'Gte', '2'));
    assert.equal(Requirements.from(complex.toNodeSelectorRequirements()).get('k')?.toString(), complex.toString());
  });
});

describe('Requirements', () => {
  it('intersects several requirements on one key', () => {
    const r = reqs({ key: LABEL_INSTANCE_TYPE, operator: 'In', values: ['L4-1-24G', 'L4-2-24G', 'H100-1-80G'] }, { key: LABEL_INSTANCE_TYPE, operator: 'NotIn', values: ['H100-1-80G'] });
    assert.equal(r.size, 1);
    assert.deepEqual(r.get(LABEL_INSTANCE_TYPE)?.sortedValues(), ['L4-1-24G', 'L4-2-24G']);
  });

  it('normalizes beta labels and the seed GPU alias', () => {
    const r = Requirements.fromLabels({ 'failure-domain.beta.kubernetes.io/zone': 'fr-par-2', 'karpenter.sh/instance-type': 'l4' });
    assert.deepEqual(r.keys(), [LABEL_INSTANCE_GPU_NAME, LABEL_ZONE]);
    assert.ok(r.has('karpenter.sh/instance-type'));
    assert.deepEqual(r.singleValuedLabels(), { [LABEL_INSTANCE_GPU_NAME]: 'l4', [LABEL_ZONE]: 'fr-par-2' });
  });

  it('answers allows() per key, allowing anything on unconstrained keys', () => {
    const r = reqs({ key: LABEL_ZONE, operator: 'In', values: ['fr-par-1', 'fr-par-2'] }, { key: 'team', operator: 'DoesNotExist' });
    assert.ok(r.allows(LABEL_ZONE, 'fr-par-2'));
    assert.ok(!r.allows(LABEL_ZONE, 'nl-ams-1'));
    assert.ok(!r.allows(LABEL_ZONE, undefined));
    assert.ok(r.allows('team', undefined));
    assert.ok(!r.allows('team', 'ml'));
    assert.ok(r.allows('anything', 'else'));
  });

  it('matches node labels like the scheduler matches a node selector term', () => {
    const r = reqs(
      { key: LABEL_INSTANCE_GPU_NAME, operator: 'In', values: ['l4', 'l40s'] },
      { key: LABEL_INSTANCE_GPU_COUNT, operator: 'Gt', values: ['1'] },
      { key: 'dedicated', operator: 'NotIn', values: ['batch'] },
    );
    const node = { [LABEL_INSTANCE_GPU_NAME]: 'l4', [LABEL_INSTANCE_GPU_COUNT]: '2', [LABEL_ZONE]: 'fr-par-2' };
    assert.ok(r.matchesLabels(node));
    assert.ok(r.matchesLabels({ ...node, dedicated: 'inference' }));
    assert.equal(r.unmetBy({ ...node, dedicated: 'batch' }), 'label dedicated=batch does not satisfy dedicated NotIn [batch]');
    assert.equal(r.unmetBy({ ...node, [LABEL_INSTANCE_GPU_COUNT]: '1' }), `label ${LABEL_INSTANCE_GPU_COUNT}=1 does not satisfy ${LABEL_INSTANCE_GPU_COUNT} Gt 1`);
    assert.equal(r.unmetBy({ [LABEL_INSTANCE_GPU_COUNT]: '2' }), `label ${LABEL_INSTANCE_GPU_NAME} is missing, need ${LABEL_INSTANCE_GPU_NAME} In [l4,l40s]`);
    assert.ok(Requirements.empty().matchesLabels(undefined));
  });

  it('checks a pod against a NodePool the way upstream does', () => {
    const pool = reqs({ key: LABEL_CAPACITY_TYPE, operator: 'In', values: ['on-demand'] }, { key: LABEL_ZONE, operator: 'In', values: ['fr-par-2', 'nl-ams-1'] });
    const opts = { allowUndefined: SCHEDULING_WELL_KNOWN_LABELS };
    // A well-known or Scaleway key the pool leaves open: allowed.
    assert.deepEqual(pool.incompatibilities(Requirements.fromLabels({ [LABEL_INSTANCE_GPU_NAME]: 'l4', [LABEL_ZONE]: 'fr-par-2' }), opts), []);
    // Zone outside the pool's zones.
    assert.deepEqual(pool.incompatibilities(Requirements.fromLabels({ [LABEL_ZONE]: 'pl-waw-1' }), opts), [`${LABEL_ZONE} In [pl-waw-1] does not intersect ${LABEL_ZONE} In [fr-par-2,nl-ams-1]`]);
    // A custom label the pool does not set cannot be satisfied...
    assert.deepEqual(pool.incompatibilities(Requirements.fromLabels({ team: 'ml' }), opts), ['label team does not have known values (need team In [ml])']);
    // ...unless the pod only asks for it to be absent or different.
    assert.ok(pool.isCompatible(reqs({ key: 'team', operator: 'NotIn', values: ['web'] }), opts));
    assert.ok(pool.isCompatible(reqs({ key: 'team', operator: 'DoesNotExist' }), opts));
    // Without allowUndefined, even well-known keys must be defined.
    assert.ok(!pool.isCompatible(Requirements.fromLabels({ [LABEL_INSTANCE_GPU_NAME]: 'l4' })));
    // Template labels count as requirements of the pool.
    const labelled = pool.intersect(Requirements.fromLabels({ team: 'ml' }));
    assert.ok(labelled.isCompatible(Requirements.fromLabels({ team: 'ml' }), opts));
    assert.ok(!labelled.isCompatible(Requirements.fromLabels({ team: 'web' }), opts));
  });

  it('reads a pod: nodeSelector AND each required affinity term, terms ORed', () => {
    const pod = {
      metadata: { name: 'train', namespace: 'ml' },
      spec: {
        nodeSelector: { 'karpenter.sh/instance-type': 'l4' },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: LABEL_ZONE, operator: 'In', values: ['fr-par-2'] }] },
                { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] },
                { matchExpressions: [{ key: LABEL_ZONE, operator: 'In', values: ['nl-ams-1'] }, { key: LABEL_INSTANCE_GPU_COUNT, operator: 'Gt', values: ['1'] }] },
              ],
            },
          },
        },
      },
    };
    const alternatives = Requirements.podAlternatives(pod);
    assert.deepEqual(
      alternatives.map((a) => a.toString()),
      [
        `${LABEL_INSTANCE_GPU_NAME} In [l4], ${LABEL_ZONE} In [fr-par-2]`,
        `${LABEL_INSTANCE_GPU_COUNT} Gt 1, ${LABEL_INSTANCE_GPU_NAME} In [l4], ${LABEL_ZONE} In [nl-ams-1]`,
      ],
    );
    assert.equal(Requirements.fromPod(pod)?.toString(), alternatives[0]?.toString());
    assert.deepEqual(Requirements.podAlternatives({ spec: {} }).map((a) => a.size), [0]);
    assert.deepEqual(Requirements.podAlternatives({ spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{}] }] } } } } }), []);
  });

  it('names the pod and term when a pod requirement is malformed', () => {
    const pod = {
      metadata: { name: 'bad', namespace: 'ml' },
      spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpus', operator: 'Gt', values: ['many'] }] }] } } } },
    };
    assert.throws(() => Requirements.podAlternatives(pod), /reading node affinity term 0 of pod ml\/bad: requirement gpus Gt: needs exactly one integer value, got \[many\]/);
  });

  it('turns pod needs into NodeClaim requirements that pass the CRD', () => {
    const pool = reqs({ key: LABEL_CAPACITY_TYPE, operator: 'In', values: ['on-demand'] }, { key: 'karpenter.sh/nodepool', operator: 'In', values: ['gpu'] });
    const pod = Requirements.fromLabels({ 'karpenter.sh/instance-type': 'l4', 'kubernetes.io/hostname': 'node-a', 'example.k8s.io/x': 'y' });
    const out = pool.intersect(pod).toNodeSelectorRequirements({ forNodeClaim: true });
    assert.deepEqual(out, [
      { key: LABEL_INSTANCE_GPU_NAME, operator: 'In', values: ['l4'] },
      { key: LABEL_CAPACITY_TYPE, operator: 'In', values: ['on-demand'] },
      { key: 'karpenter.sh/nodepool', operator: 'In', values: ['gpu'] },
    ]);
    for (const r of out) assert.equal(restrictedLabelError(r.key, 'NodeClaim'), undefined);
  });
});

describe('restrictedLabelError', () => {
  it('mirrors the CRD rules for requirement keys', () => {
    const table: [string, string | undefined, string | undefined][] = [
      // key, NodeClaim message, NodePool message
      ['karpenter.sh/capacity-type', undefined, undefined],
      ['karpenter.sh/nodepool', undefined, 'label "karpenter.sh/nodepool" is restricted'],
      ['karpenter.sh/instance-type', 'label domain "karpenter.sh" is restricted', 'label domain "karpenter.sh" is restricted'],
      ['sub.karpenter.sh/x', 'label domain "karpenter.sh" is restricted', 'label domain "karpenter.sh" is restricted'],
      ['kubernetes.io/hostname', 'label domain "kubernetes.io" is restricted', 'label domain "kubernetes.io" is restricted'],
      ['kubernetes.io/arch', undefined, undefined],
      ['node.kubernetes.io/instance-type', undefined, undefined],
      ['node.kubernetes.io/anything', undefined, undefined],
      ['node-restriction.kubernetes.io/team', undefined, undefined],
      ['foo.kubernetes.io/bar', 'label domain "kubernetes.io" is restricted', 'label domain "kubernetes.io" is restricted'],
      ['example.k8s.io/x', 'label domain "k8s.io" is restricted', 'label domain "k8s.io" is restricted'],
      ['kops.k8s.io/instancegroup', undefined, undefined],
      [LABEL_INSTANCE_GPU_NAME, undefined, undefined],
      ['team', undefined, undefined],
    ];
    for (const [key, claim, pool] of table) {
      assert.equal(restrictedLabelError(key, 'NodeClaim'), claim, `NodeClaim ${key}`);
      assert.equal(restrictedLabelError(key, 'NodePool'), pool, `NodePool ${key}`);
    }
  });
});
