// /metrics on the real stack: the product provisions a NodeClaim for a pending
// GPU pod of a NodePool, and a scrape over HTTP shows Karpenter's metrics and
// ours with the expected labels, and the worker's Temporal SDK metrics.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { clusterPath } from '../../kube/objects.ts';
import { NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { installTemporalRuntime, temporalMetricsUrl } from '../../runtime/temporal-runtime.ts';
import { startObservabilityServer, type ObservabilityServer } from '../../runtime/observability-server.ts';
import { eventually, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';

const example = (file: string): Record<string, unknown> => parseYaml(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** The samples of one metric name in Prometheus text: labels and value. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

describe('metrics: /metrics answers with Karpenter\'s names, ours and Temporal\'s', () => {
  let stack: ProvisioningStack;
  let server: ObservabilityServer;
  let ready = false;
  /** The scrape after the provisioning, for the dashboard's check. */
  let scraped = '';

  before(async () => {
    await installTemporalRuntime();
    stack = await useProvisioningStack({ product: { watcher: { batchIdleMs: 300, batchMaxMs: 3_000 } } });
    server = await startObservabilityServer({ component: 'worker', metricsPort: 0, healthPort: 0, host: '127.0.0.1', ready: () => ready, temporalMetricsUrl });
    await stack.product.adminKube.post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
    await stack.product.adminKube.post(clusterPath(NODEPOOL_GVR), example('nodepool-gpu.yaml'));
  });
  after(async () => server.close());

  it('answers the probes: alive at once, ready when the callback says so', async () => {
    assert.equal((await fetch(`${server.healthUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.healthUrl}/readyz`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${server.healthUrl}/readyz`)).status, 200);
  });

  it('after one NodeClaim of a NodePool goes Ready, a scrape shows every metric with its labels', async () => {
    await stack.product.adminKube.post('/api/v1/namespaces/default/pods', example('pod-gpu-l4.yaml'));
    await eventually('gpu-test Running', async () => {
      const p = await stack.product.adminKube.get<{ status: { phase?: string } }>('/api/v1/namespaces/default/pods/gpu-test');
      return p.status.phase === 'Running' ? p : undefined;
    }, 120_000);
    const text = await eventually('fleet price and usage scraped', async () => {
      const res = await fetch(server.metricsUrl);
      assert.equal(res.status, 200);
      const body = await res.text();
      const priced = (samples(body, 'scw_karpenter_fleet_euros_per_hour').find((s) => s.labels['nodepool'] === 'scaleway-gpu')?.value ?? 0) > 0;
      // The pod may run before the workflow's last step (markInitialized) has reported.
      const initialized = samples(body, 'scw_karpenter_provisioning_step_duration_seconds_count').some((s) => s.labels['step'] === 'node_initialized' && s.value > 0);
      return priced && initialized ? body : undefined;
    }, 60_000);

    scraped = text;
    const created = samples(text, 'karpenter_nodeclaims_created_total').find((s) => s.labels['nodepool'] === 'scaleway-gpu');
    assert.equal(created?.value, 1);
    assert.equal(created?.labels['reason'], 'provisioning');
    assert.ok(samples(text, 'scw_karpenter_scaleway_calls_total').some((s) => s.labels['kind'] === 'create_server' && /^20\d$/.test(s.labels['status'] ?? '') && s.value >= 1), 'a create_server call counted');
    assert.ok(samples(text, 'karpenter_cloudprovider_duration_seconds_count').some((s) => s.labels['method'] === 'createServer' && s.labels['controller'] === 'nodeclaim.lifecycle' && s.labels['provider'] === 'scaleway'));
    const unlabeled = samples(text, 'karpenter_cloudprovider_duration_seconds_count').filter((s) => !s.labels['controller'] && s.value > 0);
    assert.deepEqual(unlabeled.map((s) => s.labels['method']), [], 'every cloud call counted under the controller that made it');
    const steps = new Set(samples(text, 'scw_karpenter_provisioning_step_duration_seconds_count').filter((s) => s.value > 0).map((s) => `${s.labels['step']}/${s.labels['outcome']}`));
    for (const step of ['choose_offerings/success', 'create_server/success', 'configure_bootstrap/success', 'wait_for_server_running/success', 'node_joined/success', 'node_initialized/success']) assert.ok(steps.has(step), `${step} in ${[...steps].join(', ')}`);
    assert.ok(samples(text, 'karpenter_nodepools_usage').some((s) => s.labels['nodepool'] === 'scaleway-gpu' && s.labels['resource_type'] === 'nvidia.com/gpu' && s.value >= 1));
    assert.ok(samples(text, 'karpenter_nodepools_limit').some((s) => s.labels['nodepool'] === 'scaleway-gpu'));
    assert.ok(samples(text, 'karpenter_pods_startup_duration_seconds_count').some((s) => s.value >= 1), 'the pod\'s startup observed');
    assert.ok(samples(text, 'process_resident_memory_bytes').length > 0);
    // The worker's SDK metrics, appended from the core's exporter; none of their names is one of ours.
    const temporal = text.split('\n').filter((l) => l.startsWith('temporal_'));
    assert.ok(temporal.some((l) => l.startsWith('temporal_activity_execution_latency') || l.startsWith('temporal_worker_task_slots')), `temporal_ metrics: ${temporal.slice(0, 5).join(' | ')}`);
  });

  it('the chart\'s Grafana dashboard queries only series the processes expose', () => {
    assert.ok(scraped, 'the scrape of the test before');
    const dashboard = JSON.parse(readFileSync(new URL('../../charts/scw-karpenter/dashboards/scw-karpenter.json', import.meta.url), 'utf8')) as unknown;
    const exprs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'expr' && typeof value === 'string') exprs.push(value);
          else walk(value);
        }
      }
    };
    walk(dashboard);
    const queried = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:scw_)?karpenter_\w+|temporal_\w+)/g)].map((m) => m[1] ?? '')));
    assert.ok(queried.size >= 10, `the dashboard's series: ${[...queried].join(', ')}`);
    // A labelled counter nothing has counted yet (no rollback, no error) has no sample, only its # TYPE line:
    // the check is on metric families, a histogram's _bucket, _sum and _count belonging to their family.
    const families = new Set([...scraped.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] ?? ''));
    const family = (name: string): string => (families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, ''));
    assert.ok(families.has('karpenter_nodeclaims_created_total') && families.has('scw_karpenter_rollbacks_total'), 'the scrape has # TYPE lines');
    assert.deepEqual([...queried].filter((name) => !families.has(family(name))), [], 'every series a panel queries is a metric family on /metrics');
  });
});
