// Every Prometheus metric of the product, in the one process-wide registry
// that /metrics serves (runtime/observability-server.ts). Karpenter's names,
// types, labels and buckets where the meaning is the same
// (kubernetes-sigs/karpenter pkg/metrics, pkg/cloudprovider/metrics); ours
// under scw_karpenter_. Each is incremented where the thing happens; this
// module only defines them.
import { AsyncLocalStorage } from 'node:async_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Karpenter's DurationBuckets (pkg/metrics/constants.go): controller-runtime's, plus long ones for slow calls. */
export const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
  1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60, 120, 150, 300, 450, 600,
];
/** A provisioning step waits on a GPU server's boot and its join: up to the 15-minute registration timeout. */
export const STEP_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 450, 600, 900, 1200];
/** Karpenter's SummaryObjectives: quantiles 0, 0.5, 0.9, 0.99 and 1, each within 0.01. */
const SUMMARY_OBJECTIVES = [0, 0.5, 0.9, 0.99, 1];

/** The `provider` label of Karpenter's cloud provider metrics. */
export const PROVIDER = 'scaleway';

// Karpenter's names.

export const nodeClaimsCreated = new Counter({
  name: 'karpenter_nodeclaims_created_total',
  help: 'Number of nodeclaims created in total by Karpenter. Labeled by reason the nodeclaim was created, the owning nodepool, and if min values was relaxed for this nodeclaim.',
  labelNames: ['reason', 'nodepool', 'min_values_relaxed'] as const,
  registers: [registry],
});

export const nodeClaimsTerminated = new Counter({
  name: 'karpenter_nodeclaims_terminated_total',
  help: 'Number of nodeclaims terminated in total by Karpenter. Labeled by the owning nodepool, capacity type, and zone.',
  labelNames: ['nodepool', 'capacity_type', 'zone'] as const,
  registers: [registry],
});

export const podStartupDuration = new Summary({
  name: 'karpenter_pods_startup_duration_seconds',
  help: 'The time from pod creation until the pod is running.',
  percentiles: SUMMARY_OBJECTIVES,
  registers: [registry],
});

export const cloudProviderDuration = new Histogram({
  name: 'karpenter_cloudprovider_duration_seconds',
  help: 'Duration of cloud provider method calls. Labeled by the controller, method name and provider.',
  labelNames: ['controller', 'method', 'provider'] as const,
  buckets: DURATION_BUCKETS,
  registers: [registry],
});

export const cloudProviderErrors = new Counter({
  name: 'karpenter_cloudprovider_errors_total',
  help: 'Total number of errors returned from CloudProvider calls.',
  labelNames: ['controller', 'method', 'provider', 'error'] as const,
  registers: [registry],
});

export const nodePoolUsage = new Gauge({
  name: 'karpenter_nodepools_usage',
  help: 'The amount of resources that have been provisioned for a nodepool. Labeled by nodepool name and resource type.',
  labelNames: ['nodepool', 'resource_type'] as const,
  registers: [registry],
});

export const nodePoolLimit = new Gauge({
  name: 'karpenter_nodepools_limit',
  help: 'Limits specified on the nodepool that restrict the quantity of resources provisioned. Labeled by nodepool name and resource type.',
  labelNames: ['nodepool', 'resource_type'] as const,
  registers: [registry],
});

// Ours.

export const scalewayCalls = new Counter({
  name: 'scw_karpenter_scaleway_calls_total',
  help: 'HTTP requests sent to the Scaleway API (retries included). Labeled by the adapter call (create_server, list_server_types...) and the HTTP status, or timeout / network_error when none came.',
  labelNames: ['kind', 'status'] as const,
  registers: [registry],
});

export const scalewayThrottled = new Counter({
  name: 'scw_karpenter_scaleway_throttled_total',
  help: 'Scaleway API answers 429 Too Many Requests.',
  registers: [registry],
});

export const provisioningStepDuration = new Histogram({
  name: 'scw_karpenter_provisioning_step_duration_seconds',
  help: 'Duration of each step of a NodeClaim\'s life on the worker (one Temporal activity each, plus node_joined and node_initialized: launch to join, join to GPUs ready). Labeled by step and outcome.',
  labelNames: ['step', 'outcome'] as const,
  buckets: STEP_BUCKETS,
  registers: [registry],
});

export const rollbacks = new Counter({
  name: 'scw_karpenter_rollbacks_total',
  help: 'Provisionings rolled back (every resource created for the NodeClaim released). Labeled by the reason of the failure.',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const garbageCollected = new Counter({
  name: 'scw_karpenter_garbage_collected_total',
  help: 'Resources released by garbage collection. Labeled by kind (server, volume, token, nodeclaim).',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const fleetEurosPerHour = new Gauge({
  name: 'scw_karpenter_fleet_euros_per_hour',
  help: 'What the NodePool\'s servers cost per hour at the catalog\'s hourly price, in euros.',
  labelNames: ['nodepool'] as const,
  registers: [registry],
});

/**
 * The `controller` label of the cloud provider metrics: the controller that made the call, named as
 * Karpenter names its own (pkg/controllers/...: "disruption", "nodeclaim.lifecycle", ...), so a
 * dashboard built for Karpenter reads ours. The worker's activities count under the controller whose
 * workflow runs them (activities/instrumentation.ts).
 */
export const CONTROLLER = {
  provisioner: 'provisioner',
  disruption: 'disruption',
  nodeClaimLifecycle: 'nodeclaim.lifecycle',
  nodeClaimTermination: 'nodeclaim.termination',
  nodeClaimGarbageCollection: 'nodeclaim.garbagecollection',
  nodeClassStatus: 'nodeclass.status',
  nodePoolStatus: 'nodepool.status',
  /** The catalog read ahead of need (scaleway/catalog-warmup.ts), as Karpenter AWS's instance type refresh is named. */
  instanceTypes: 'providers.instancetype',
} as const;

export type ControllerName = (typeof CONTROLLER)[keyof typeof CONTROLLER];

const controllerContext = new AsyncLocalStorage<string>();

/** Runs `work` with cloud calls inside it labeled `controller`. */
export function withController<T>(controller: string, work: () => T): T {
  return controllerContext.run(controller, work);
}

export function currentController(): string {
  return controllerContext.getStore() ?? '';
}

/** lowerCamelCase (a method, an activity type) → snake_case, as metric label values are written. */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[-\s]+/g, '_').toLowerCase();
}
