// Apiserver requests per provisioner. The apiserver's request metrics have no user label,
// so ours are counted through API Priority and Fairness: one FlowSchema per ServiceAccount
// (worker, watcher), on the same priority level and flow distinguisher as the built-in
// `service-accounts` schema that would match them otherwise (so nothing about how they are
// served changes), and apiserver_flowcontrol_dispatched_requests_total counts each schema's
// requests. Karpenter runs on the admin identity, shared with this process, so its own
// client-go counter on its metrics port counts it: client_go_request_total (operatorpkg's,
// which Karpenter registers) or controller-runtime's rest_client_requests_total; client-go
// feeds only the first adapter registered, so the larger of the two is the count.
import { request } from 'node:https';
import type { RequestOptions } from 'node:https';
import type { KubeRest } from '../../kube/rest.ts';
import { RELEASE_NAMESPACE } from '../../sandbox/service-accounts.ts';

export const COMPONENTS = ['worker', 'watcher'] as const;
export type Component = (typeof COMPONENTS)[number];
const flowSchemaName = (c: Component): string => `bench-scw-karpenter-${c}`;

/** The FlowSchemas that give each of our components its own counter. */
export async function installFlowSchemas(kube: KubeRest): Promise<void> {
  for (const c of COMPONENTS) {
    await kube.post('/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas', {
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      kind: 'FlowSchema',
      metadata: { name: flowSchemaName(c) },
      spec: {
        // Before `service-accounts` (9000), on its level and distinguisher.
        matchingPrecedence: 8000,
        priorityLevelConfiguration: { name: 'workload-low' },
        distinguisherMethod: { type: 'ByUser' },
        rules: [{
          subjects: [{ kind: 'ServiceAccount', serviceAccount: { name: `scw-karpenter-${c}`, namespace: RELEASE_NAMESPACE } }],
          resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }],
          nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        }],
      },
    });
  }
}

/** GET of a text endpoint with the kubeconfig's credentials (KubeRest parses JSON only). */
async function getText(kube: KubeRest, path: string): Promise<string> {
  const endpoint = await kube.credentials.endpoint();
  const opts: RequestOptions = { method: 'GET', hostname: endpoint.server.hostname, port: endpoint.server.port, path, timeout: 10_000 };
  await endpoint.apply(opts);
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`GET ${path}: ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

/** Sums the samples of `metric` in a Prometheus text exposition, grouped by `label` ('' = all). */
export function sumSamples(text: string, metric: string, label = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(value)) continue;
    const key = label ? (new RegExp(`[{,]${label}="([^"]*)"`).exec(line)?.[1] ?? '') : '';
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

export interface ApiserverCalls {
  worker: number;
  watcher: number;
  karpenter: number;
}

/** The counters now; a round's calls are the difference of two readings. NaN where a reading failed. */
export async function readApiserverCalls(kube: KubeRest, karpenterMetricsUrl: string | undefined): Promise<ApiserverCalls> {
  const ours = await getText(kube, '/metrics')
    .then((t) => sumSamples(t, 'apiserver_flowcontrol_dispatched_requests_total', 'flow_schema'))
    .catch(() => new Map<string, number>());
  let karpenter = NaN;
  if (karpenterMetricsUrl) {
    karpenter = await fetch(karpenterMetricsUrl)
      .then(async (r) => {
        const text = await r.text();
        return Math.max(sumSamples(text, 'client_go_request_total').get('') ?? 0, sumSamples(text, 'rest_client_requests_total').get('') ?? 0);
      })
      .catch(() => NaN);
  }
  return { worker: ours.get(flowSchemaName('worker')) ?? NaN, watcher: ours.get(flowSchemaName('watcher')) ?? NaN, karpenter };
}

export const callsBetween = (before: ApiserverCalls, after: ApiserverCalls): ApiserverCalls => ({
  worker: after.worker - before.worker,
  watcher: after.watcher - before.watcher,
  karpenter: after.karpenter - before.karpenter,
});
