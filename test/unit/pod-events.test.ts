// status.lastPodEventTime: which pod watch events are pod events on a node,
// the write throttle, and the recorder writing the NodeClaim's status.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeRest } from '../../kube/rest.ts';
import { createPodEventRecorder, lastPodEventWrite, podEventOf, podStateOf, type PodEventView } from '../../watcher/pod-events.ts';

const T0 = new Date('2026-03-02T10:00:00Z').getTime();
const at = (seconds: number): Date => new Date(T0 + seconds * 1000);

interface PodShape {
  nodeName?: string;
  scheduledAt?: number;
  phase?: string;
  deleting?: boolean;
  owner?: string;
  uid?: string;
}

function rawPod(name: string, o: PodShape = {}): Record<string, unknown> {
  return {
    metadata: {
      name,
      namespace: 'ml',
      uid: o.uid ?? `${name}-uid`,
      ...(o.deleting ? { deletionTimestamp: at(0).toISOString() } : {}),
      ...(o.owner ? { ownerReferences: [{ kind: o.owner }] } : {}),
    },
    spec: { ...(o.nodeName ? { nodeName: o.nodeName } : {}), containers: [{ name: 'c' }] },
    status: {
      phase: o.phase ?? (o.nodeName ? 'Running' : 'Pending'),
      conditions: o.scheduledAt === undefined ? [] : [{ type: 'PodScheduled', status: 'True', lastTransitionTime: at(o.scheduledAt).toISOString() }],
    },
  };
}

const view = (name: string, o: PodShape = {}): PodEventView => {
  const raw = rawPod(name, o) as { metadata: PodEventView['metadata']; spec: { nodeName?: string }; status: PodEventView['status'] };
  return { metadata: raw.metadata, spec: { nodeName: raw.spec.nodeName }, status: raw.status };
};

describe('pod events', () => {
  const now = at(100);

  it('is a bind at the PodScheduled transition, on the first sight of a bound pod or when it gets bound', () => {
    assert.deepEqual(podEventOf(undefined, view('p', { nodeName: 'n1', scheduledAt: 40 }), 'add', now), { nodeName: 'n1', at: at(40) });
    assert.equal(podEventOf(undefined, view('p'), 'add', now), undefined, 'not bound');
    const pending = podStateOf(view('p'));
    assert.deepEqual(podEventOf(pending, view('p', { nodeName: 'n1', scheduledAt: 99 }), 'update', now), { nodeName: 'n1', at: at(99) });
    assert.deepEqual(podEventOf(pending, view('p', { nodeName: 'n1' }), 'update', now), { nodeName: 'n1', at: now }, 'no PodScheduled yet: now');
  });

  it('is a removal now when a pod goes terminal, starts terminating, or is deleted while running', () => {
    const running = podStateOf(view('p', { nodeName: 'n1', scheduledAt: 40 }));
    assert.deepEqual(podEventOf(running, view('p', { nodeName: 'n1', phase: 'Succeeded' }), 'update', now), { nodeName: 'n1', at: now });
    assert.deepEqual(podEventOf(running, view('p', { nodeName: 'n1', deleting: true }), 'update', now), { nodeName: 'n1', at: now });
    assert.deepEqual(podEventOf(running, view('p', { nodeName: 'n1' }), 'delete', now), { nodeName: 'n1', at: now });
  });

  it('is nothing for DaemonSet pods, resyncs, a pod first seen gone, or the deletion of one that left already', () => {
    assert.equal(podEventOf(undefined, view('ds', { nodeName: 'n1', scheduledAt: 40, owner: 'DaemonSet' }), 'add', now), undefined);
    const running = podStateOf(view('p', { nodeName: 'n1', scheduledAt: 40 }));
    assert.equal(podEventOf(running, view('p', { nodeName: 'n1', scheduledAt: 40 }), 'update', now), undefined);
    assert.equal(podEventOf(undefined, view('p', { nodeName: 'n1', phase: 'Failed' }), 'add', now), undefined);
    const done = podStateOf(view('p', { nodeName: 'n1', phase: 'Succeeded' }));
    assert.equal(podEventOf(done, view('p', { nodeName: 'n1', phase: 'Succeeded' }), 'delete', now), undefined);
  });
});

describe('lastPodEventTime write throttle', () => {
  const s = (seconds: number): number => at(seconds).getTime();

  it('writes the first time, and a time more than the interval ahead at once', () => {
    assert.deepEqual(lastPodEventWrite({ stored: undefined, pending: s(5), lastWriteAt: s(4), now: s(5) }), { write: true });
    assert.deepEqual(lastPodEventWrite({ stored: s(0), pending: s(11), lastWriteAt: s(5), now: s(11) }), { write: true });
  });

  it('holds a small step back until the interval since the last write has passed', () => {
    assert.deepEqual(lastPodEventWrite({ stored: s(0), pending: s(3), lastWriteAt: s(0), now: s(3) }), { write: false, retryAt: s(10) });
    assert.deepEqual(lastPodEventWrite({ stored: s(0), pending: s(3), lastWriteAt: s(0), now: s(10) }), { write: true });
    assert.deepEqual(lastPodEventWrite({ stored: s(0), pending: s(3), lastWriteAt: undefined, now: s(3) }), { write: true }, 'nothing written by us yet');
  });

  it('never writes a time that is not ahead of the stored one', () => {
    assert.deepEqual(lastPodEventWrite({ stored: s(8), pending: s(8), lastWriteAt: undefined, now: s(20) }), { write: false });
    assert.deepEqual(lastPodEventWrite({ stored: s(8), pending: s(2), lastWriteAt: undefined, now: s(20) }), { write: false });
  });
});

describe('the pod event recorder', () => {
  let clock = T0;
  let initialized = true;
  const patches: { path: string; body: unknown }[] = [];
  const kube = {
    patch: (path: string, body: unknown) => {
      patches.push({ path, body });
      return Promise.resolve(undefined);
    },
  } as unknown as KubeRest;
  const object = (o: Record<string, unknown>): KubernetesObject => o;
  const sources = {
    nodes: () => [object({ metadata: { name: 'n1' }, spec: { providerID: 'scaleway://instance/fr-par-2/s1' } }), object({ metadata: { name: 'foreign' }, spec: {} })],
    nodeClaims: () => [object({
      metadata: { name: 'gpu-abc', uid: 'gpu-abc-uid' },
      spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'gpu' }, requirements: [] },
      status: {
        providerID: 'scaleway://instance/fr-par-2/s1',
        conditions: [{ type: 'Initialized', status: initialized ? 'True' : 'Unknown', lastTransitionTime: at(-120).toISOString() }],
      },
    })],
  };

  beforeEach(() => {
    patches.length = 0;
    clock = T0;
    initialized = true;
    mock.timers.enable({ apis: ['setTimeout'] });
  });
  afterEach(() => mock.timers.reset());

  it('writes through the status subresource at most once per interval, the latest time last', async () => {
    const recorder = createPodEventRecorder({ kube, sources, now: () => new Date(clock) });
    const written = (): unknown[] => patches.map((p) => (p.body as { status: { lastPodEventTime: string } }).status.lastPodEventTime);

    recorder.observe(rawPod('old', { nodeName: 'n1', scheduledAt: -60 }), 'add');
    await recorder.idle();
    recorder.observe(rawPod('new', { nodeName: 'n1', scheduledAt: 0 }), 'add');
    await recorder.idle();
    assert.deepEqual(written(), ['2026-03-02T09:59:00Z', '2026-03-02T10:00:00Z'], 'a minute ahead: written at once');
    assert.equal(patches[0]!.path, '/apis/karpenter.sh/v1/nodeclaims/gpu-abc/status');

    clock = at(2).getTime();
    recorder.observe(rawPod('old', { nodeName: 'n1', deleting: true }), 'update');
    clock = at(5).getTime();
    recorder.observe(rawPod('new', { nodeName: 'n1', scheduledAt: 0 }), 'delete');
    await recorder.idle();
    assert.equal(patches.length, 2, 'held back within the interval');
    assert.equal(recorder.lastPodEventAt.get('n1')?.getTime(), at(5).getTime(), 'the disruption loop sees it already');

    clock = at(10).getTime();
    mock.timers.tick(8_000);
    await recorder.idle();
    assert.deepEqual(written().slice(2), ['2026-03-02T10:00:05Z'], 'the trailing write carries the latest time');

    recorder.observe(rawPod('ds', { nodeName: 'n1', scheduledAt: 9, owner: 'DaemonSet' }), 'add');
    recorder.observe(rawPod('elsewhere', { nodeName: 'foreign', scheduledAt: 9 }), 'add');
    await recorder.idle();
    assert.equal(patches.length, 3, 'DaemonSet pods and nodes without a NodeClaim write nothing');
    await recorder.close();
  });

  it('writes nothing before the NodeClaim is initialized, then the time it held', async () => {
    initialized = false;
    const recorder = createPodEventRecorder({ kube, sources, now: () => new Date(clock) });
    recorder.observe(rawPod('early', { nodeName: 'n1', scheduledAt: 0 }), 'add');
    await recorder.idle();
    assert.equal(patches.length, 0, 'registration and initialization write the status meanwhile');
    initialized = true;
    clock = at(10).getTime();
    mock.timers.tick(10_000);
    await recorder.idle();
    assert.deepEqual(patches.map((p) => (p.body as { status: { lastPodEventTime: string } }).status.lastPodEventTime), ['2026-03-02T10:00:00Z']);
    await recorder.close();
  });
});
