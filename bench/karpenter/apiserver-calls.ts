// Apiserver requests per provisioner. The apiserver's request metrics have no user label,
// so ours are counted through API Priority and Fairness: the chart installs one FlowSchema
// per component (and one for the watcher's Lease requests, charts/scw-karpenter/templates/
// flowschemas.yaml), which the sandbox applies with the chart's RBAC, and
// apiserver_flowcontrol_dispatched_requests_total counts each schema's requests.
// Karpenter runs on the admin identity, shared with this process, so its own
// client-go counter on its metrics port counts it: client_go_request_total (operatorpkg's,
// which Karpenter registers) or controller-runtime's rest_client_requests_total; client-go
// feeds only the first adapter registered, so the larger of the two is the count.
import { getText, type KubeRest } from '../../kube/rest.ts';
import { rbacManifests } from '../../sandbox/service-accounts.ts';

export const COMPONENTS = ['worker', 'watcher'] as const;
export type Component = (typeof COMPONENTS)[number];
/** The chart's FlowSchemas of each component, for the release the sandbox installs (rbacManifests). */
const FLOW_SCHEMAS: Record<Component, string[]> = {
  worker: ['scw-karpenter-worker'],
  watcher: ['scw-karpenter-watcher', 'scw-karpenter-watcher-leader-election'],
};

/** Fails unless the chart's FlowSchemas that count our requests are what the sandbox installed. */
export function assertFlowSchemasInstalled(): void {
  const installed = new Set(rbacManifests().filter((m) => m.kind === 'FlowSchema').map((m) => m.metadata.name));
  const missing = Object.values(FLOW_SCHEMAS).flat().filter((name) => !installed.has(name));
  if (missing.length > 0) throw new Error(`the rendered chart has no FlowSchema ${missing.join(', ')}: the apiserver calls of ours cannot be counted`);
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
  const count = (c: Component): number => (ours.size === 0 ? NaN : FLOW_SCHEMAS[c].reduce((sum, name) => sum + (ours.get(name) ?? 0), 0));
  return { worker: count('worker'), watcher: count('watcher'), karpenter };
}

export const callsBetween = (before: ApiserverCalls, after: ApiserverCalls): ApiserverCalls => ({
  worker: after.worker - before.worker,
  watcher: after.watcher - before.watcher,
  karpenter: after.karpenter - before.karpenter,
});
