// Builders for planner tests and the cost benchmark: offers from the recorded
// catalog, NodePools, pods. Parsed through the real schemas, as the watcher does.
import { loadCatalog, type ServerTypeOffer as CatalogOffer } from '../../scaleway/catalog/catalog.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import { parsePod, type Pod } from '../../kube/api/core.ts';
import { parseNodePool, type NodePool } from '../../kube/api/schemas.ts';
import type { PlanNodePool } from '../../watcher/provisioner/planner.ts';

export const ROOT_VOLUME_BYTES = 100 * 2 ** 30;

/** The cloud adapter's view of a recorded catalog entry. */
export function toOffer(o: CatalogOffer, overrides: Partial<ServerTypeOffer> = {}): ServerTypeOffer {
  const f = o.facts;
  const capabilities = f.capabilities as { block_storage?: boolean } | undefined;
  return {
    zone: o.zone,
    commercialType: o.commercialType,
    hourlyPriceEur: o.hourlyPrice,
    ncpus: f.ncpus,
    ramBytes: f.ram,
    arch: f.arch,
    gpuCount: f.gpu,
    gpu: f.gpu_info ? { name: f.gpu_info.gpu_name, manufacturer: f.gpu_info.gpu_manufacturer, memoryBytes: f.gpu_info.gpu_memory } : undefined,
    availability: o.availability,
    endOfService: f.end_of_service === true,
    blockStorage: capabilities?.block_storage === true,
    ...overrides,
  };
}

export function catalogOffers(...zones: string[]): ServerTypeOffer[] {
  const catalog = loadCatalog();
  return zones.flatMap((z) => catalog.offers(z).map((o) => toOffer(o)));
}

export interface PoolSpec {
  name: string;
  requirements?: { key: string; operator: string; values?: string[]; minValues?: number }[];
  taints?: { key: string; value?: string; effect: string }[];
  startupTaints?: { key: string; value?: string; effect: string }[];
  labels?: Record<string, string>;
  limits?: Record<string, string>;
  weight?: number;
  usage?: Record<string, string>;
  zones?: string[];
  daemonSetOverhead?: Record<string, string>;
  nodeClassKind?: string;
}

export function nodePool(spec: PoolSpec): NodePool {
  return parseNodePool({
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name: spec.name },
    spec: {
      template: {
        metadata: { labels: spec.labels ?? {} },
        spec: {
          nodeClassRef: { group: 'karpenter.scaleway.com', kind: spec.nodeClassKind ?? 'ScalewayNodeClass', name: 'default' },
          requirements: spec.requirements ?? [],
          taints: spec.taints ?? [],
          startupTaints: spec.startupTaints ?? [],
        },
      },
      ...(spec.limits ? { limits: spec.limits } : {}),
      ...(spec.weight ? { weight: spec.weight } : {}),
    },
  });
}

export function planPool(spec: PoolSpec): PlanNodePool {
  return {
    nodePool: nodePool(spec),
    zones: spec.zones,
    daemonSetOverhead: spec.daemonSetOverhead,
    rootVolumeBytes: ROOT_VOLUME_BYTES,
    usage: spec.usage,
  };
}

export interface PodSpec {
  name: string;
  namespace?: string;
  requests?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
  labels?: Record<string, string>;
  affinity?: unknown;
  /** Extra raw spec fields (topologySpreadConstraints, volumes...). */
  extra?: Record<string, unknown>;
}

export function pod(spec: PodSpec): Pod {
  const parsed = parsePod({
    metadata: { name: spec.name, namespace: spec.namespace ?? 'default', labels: spec.labels ?? {} },
    spec: {
      containers: [{ name: 'main', resources: { requests: spec.requests ?? {} } }],
      ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
      tolerations: spec.tolerations ?? [],
      ...(spec.affinity ? { affinity: spec.affinity } : {}),
    },
  });
  // Fields the Pod schema does not keep yet are passed through as the API server would send them.
  return spec.extra ? { ...parsed, spec: { ...parsed.spec, ...spec.extra } } : parsed;
}

/** `n` pods named `${prefix}-0..n-1` with the same spec. */
export function pods(prefix: string, n: number, spec: Omit<PodSpec, 'name'>): Pod[] {
  return Array.from({ length: n }, (_, i) => pod({ ...spec, name: `${prefix}-${i}` }));
}
