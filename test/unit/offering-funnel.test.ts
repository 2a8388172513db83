// Issue 8, scenario 11: when a NodePool's offering list ends up empty, the pod
// and the NodePool are told which step emptied it (zones on each side, the
// requirement and the values that exist, stock, backoff), never "no L4 exists".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plan } from '../../watcher/provisioner/planner.ts';
import { poolFunnel } from '../../watcher/provisioner/offering-funnel.ts';
import { Requirements } from '../../kube/api/requirements.ts';
import { REASON } from '../../kube/api/constants.ts';
import { catalogOffers, planPool, pod } from './planner-fixtures.ts';

const OFFERS = catalogOffers('fr-par-2');
const GPU_ONE = { 'nvidia.com/gpu': '1', cpu: '500m', memory: '2Gi' };
const L4 = { key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4'] };

function onePod(pool: ReturnType<typeof planPool>, podSpec: Parameters<typeof pod>[0] = { name: 'p', requests: GPU_ONE }, offers = OFFERS) {
  const result = plan({ pods: [pod(podSpec)], nodePools: [pool], offers });
  assert.equal(result.nodeClaims.length, 0, 'nothing can be planned');
  assert.equal(result.podErrors.length, 1);
  return { reason: result.podErrors[0]!.reason, problems: result.poolProblems };
}

describe('why a NodePool has nothing to launch', () => {
  it('names the zones on each side when the NodePool excludes every zone of its NodeClass', () => {
    const pool = planPool({ name: 'gpu', zones: ['fr-par-2'], requirements: [L4, { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['nl-ams-1'] }] });
    const { reason, problems } = onePod(pool);
    assert.match(reason, /NodePool gpu requires topology\.kubernetes\.io\/zone In \[nl-ams-1\] but ScalewayNodeClass default allows only \[fr-par-2\]/);
    assert.doesNotMatch(reason, /no available instance type meets/);
    assert.deepEqual(problems.map((p) => [p.nodePool, p.reason]), [['gpu', REASON.ZonesExcluded]]);
  });

  it('names the NodePool requirement that leaves no type, and the values that exist there', () => {
    const arm = planPool({ name: 'gpu', zones: ['fr-par-2'], requirements: [L4, { key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }] });
    const { reason, problems } = onePod(arm);
    assert.match(reason, /NodePool gpu requires kubernetes\.io\/arch In \[arm64\] together with karpenter\.scaleway\.com\/instance-gpu-name In \[l4\], but no instance type in zone \[fr-par-2\] meets it \(kubernetes\.io\/arch there: amd64\)|NodePool gpu requires karpenter\.scaleway\.com\/instance-gpu-name In \[l4\] together with kubernetes\.io\/arch In \[arm64\], but no instance type in zone \[fr-par-2\] meets it \(karpenter\.scaleway\.com\/instance-gpu-name there: none\)/);
    assert.equal(problems[0]?.reason, REASON.NoCompatibleInstanceTypes);

    const b300 = planPool({ name: 'gpu', zones: ['nl-ams-1'], requirements: [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['b300'] }] });
    const amsOnly = onePod(b300, { name: 'p', requests: GPU_ONE }, catalogOffers('nl-ams-1'));
    assert.match(amsOnly.reason, /NodePool gpu requires karpenter\.scaleway\.com\/instance-gpu-name In \[b300-sxm\], but no instance type in zone \[nl-ams-1\] meets it \(karpenter\.scaleway\.com\/instance-gpu-name there: none\)/);

    const spot = planPool({ name: 'gpu', requirements: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] }] });
    assert.match(onePod(spot).reason, /NodePool gpu requires karpenter\.sh\/capacity-type In \[spot\], but no instance type in zone \[fr-par-2\] meets it \(karpenter\.sh\/capacity-type there: on-demand\)/);

    const types = planPool({ name: 'gpu', requirements: [{ key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['X-1-2G'] }] });
    assert.match(onePod(types).reason, /requires node\.kubernetes\.io\/instance-type In \[X-1-2G\], but no instance type in zone \[fr-par-2\] meets it \(node\.kubernetes\.io\/instance-type there: B300-SXM-2-288G, .*, … \(135 in all\)\)/);

    const count = planPool({ name: 'gpu', requirements: [L4, { key: 'karpenter.scaleway.com/instance-gpu-count', operator: 'Gt', values: ['8'] }] });
    assert.match(onePod(count).reason, /requires karpenter\.scaleway\.com\/instance-gpu-count Gt 8, but no instance type in zone \[fr-par-2\] meets it \(karpenter\.scaleway\.com\/instance-gpu-count there: 1, 2, 4, 8, none\)/);
  });

  it('says when minValues cannot be met by the types the NodePool allows', () => {
    const pool = planPool({ name: 'gpu', requirements: [{ ...L4, minValues: 2 }] });
    const { reason, problems } = onePod(pool);
    assert.match(reason, /NodePool gpu requires karpenter\.scaleway\.com\/instance-gpu-name to have minValues 2, but its instance types in zone \[fr-par-2\] give 1 \(l4\)/);
    assert.equal(problems[0]?.reason, REASON.NoCompatibleInstanceTypes);
  });

  it('says the types exist but are out of stock, rather than that they do not exist', () => {
    const soldOut = OFFERS.map((o) => (o.gpu?.name === 'L4' ? { ...o, availability: 'shortage' as const } : o));
    const pool = planPool({ name: 'gpu', requirements: [L4] });
    const { reason, problems } = onePod(pool, { name: 'p', requests: GPU_ONE }, soldOut);
    assert.match(reason, /every instance type NodePool gpu allows in zone \[fr-par-2\] is unavailable: L4-1-24G in fr-par-2 \(out of stock\)/);
    assert.equal(problems[0]?.reason, REASON.InstanceTypesUnavailable);
  });

  it('skips offerings in registration backoff and stops a stopped NodePool, saying why', () => {
    const backedOff = { ...planPool({ name: 'gpu', requirements: [L4] }), blocked: () => 'backed off until 08:30Z' };
    const first = onePod(backedOff);
    assert.match(first.reason, /every offering NodePool gpu allows is backed off after nodes failed to register: L4-1-24G in fr-par-2 backed off until 08:30Z/);
    assert.equal(first.problems[0]?.reason, REASON.RegistrationBackoff);

    const some = { ...planPool({ name: 'gpu', requirements: [L4] }), blocked: (o: { commercialType: string }) => (o.commercialType === 'L4-1-24G' ? 'backed off' : undefined) };
    const planned = plan({ pods: [pod({ name: 'p', requests: GPU_ONE })], nodePools: [some], offers: OFFERS });
    assert.equal(planned.nodeClaims.length, 1);
    assert.ok(!planned.nodeClaims[0]!.offerings.some((o) => o.commercialType === 'L4-1-24G'), 'the backed-off type is not a fallback either');

    const stopped = { ...planPool({ name: 'gpu' }), stopped: 'NodePool gpu stopped buying after 3 consecutive registration failures' };
    const other = planPool({ name: 'other', weight: 1 });
    const result = plan({ pods: [pod({ name: 'p', requests: GPU_ONE })], nodePools: [stopped, other], offers: OFFERS });
    assert.equal(result.nodeClaims[0]?.nodePool, 'other', 'the next NodePool takes the pod');
    const alone = onePod(stopped);
    assert.match(alone.reason, /NodePool gpu stopped buying after 3 consecutive registration failures/);
    assert.equal(alone.problems[0]?.reason, REASON.RegistrationStopped);
  });

  it("names the pod's own requirement against what the NodePool offers", () => {
    const pool = planPool({ name: 'gpu', zones: ['fr-par-2'] });
    const zone = onePod(pool, { name: 'p', requests: GPU_ONE, nodeSelector: { 'topology.kubernetes.io/zone': 'fr-par-1' } });
    assert.match(zone.reason, /the pod requires topology\.kubernetes\.io\/zone In \[fr-par-1\], but NodePool gpu can launch only in \[fr-par-2\]/);
    assert.deepEqual(zone.problems, [], 'the NodePool itself is fine');
    const arch = onePod(pool, { name: 'p', requests: GPU_ONE, nodeSelector: { 'kubernetes.io/arch': 'arm64', 'karpenter.scaleway.com/instance-gpu-name': 'l4' } });
    assert.match(arch.reason, /the pod requires .* together with .*, but NodePool gpu's instance types have /);
  });

  it('says how big the largest type is when requests fit none', () => {
    const pool = planPool({ name: 'gpu', requirements: [L4] });
    const { reason } = onePod(pool, { name: 'p', requests: { 'nvidia.com/gpu': '16', cpu: '1', memory: '1Gi' } });
    assert.match(reason, /no instance type fits requests cpu=1000m, memory=1024Mi, nvidia\.com\/gpu=16 .*the largest have cpu=\d+m, memory=\d+Mi, nvidia\.com\/gpu=4, ephemeral-storage=\d+Mi allocatable/);
  });

  it('leaves a healthy NodePool with offers and no verdict', () => {
    const funnel = poolFunnel({ nodePool: 'gpu', nodeClass: 'default', nodeClassZones: ['fr-par-2'], requirements: Requirements.from([L4]), offers: OFFERS });
    assert.equal(funnel.empty, undefined);
    assert.ok(funnel.offers.length > 0 && funnel.offers.every((o) => o.gpu?.name === 'L4'));
    assert.ok(funnel.offers.every((o, i, a) => i === 0 || a[i - 1]!.hourlyPriceEur <= o.hourlyPriceEur), 'cheapest first');
  });
});
