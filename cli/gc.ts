// `scw-karpenter gc --dry-run`: what orphan garbage collection would release
// now, and why, planned by the very code the worker's Schedule runs
// (activities/garbage-collection.ts planGarbageCollection) on this process's
// own Scaleway and Kubernetes clients. Those clients are read-only here: a
// call that would change anything throws, so a dry run cannot release a thing.
//
// Releasing stays the Schedule's job (one per cluster, kept by every worker,
// worker/gc-schedule.ts): `gc --trigger` asks Temporal to start one run of it
// now. That run is the Schedule's own, with the worker's settings (grace
// period, GC_DRY_RUN) and its overlap policy (SKIP: nothing new while a run is
// going), so the CLI never releases with settings of its own.
import { ScheduleNotFoundError } from '@temporalio/client';
import { GC_ZONES, planGarbageCollection } from '../activities/garbage-collection.ts';
import type { GarbageAction, GarbagePlan } from '../activities/garbage-collection-plan.ts';
import type { KubeRest } from '../kube/rest.ts';
import { createScalewayCloud, type ScalewayCloud } from '../scaleway/cloud.ts';
import { garbageCollectionSettings, loadScalewaySettings, loadSettings, scalewayCredentials } from '../runtime/config.ts';
import { loadTemporalSettings } from '../runtime/temporal-connection.ts';
import { gcScheduleId } from '../workflows/contract.ts';
import { connectKube, connectTemporal, kubeconfigAvailable } from './clients.ts';
import { CliError, COMMON_OPTIONS, configOrUsageError, EXIT, json, outputFormat, parseCommandArgs, progressReporter, table, usageError, warn, type Progress } from './output.ts';

export const GC_USAGE = `usage: scw-karpenter gc --dry-run [--output table|json] [--progress]
       scw-karpenter gc --trigger
  --dry-run     list what garbage collection would release now, with the reasons; changes nothing
  --trigger     start one run of the cluster's garbage collection Schedule now (the worker keeps it;
                the run uses the worker's GC_GRACE_PERIOD and GC_DRY_RUN)
  -o, --output  table (default) or json
  --progress    progress lines on stderr even when it is not a terminal
  Reads CLUSTER_NAME, GC_GRACE_PERIOD, the SCW_* credentials, KUBECONFIG and the Temporal settings.`;

/** What the dry run prints: the plan, and the settings it was made with. */
export interface DryRunReport {
  clusterName: string;
  gracePeriod: string;
  actions: GarbageAction[];
  zones: string[];
  skippedZones: { zone: string; error: string }[];
}

const refuse = (what: string) => () => {
  throw new Error(`gc --dry-run changes nothing, yet planning called ${what}`);
};

/** Only the reads of the cloud (list*, get*); every write throws. */
export function readOnlyCloud(cloud: ScalewayCloud, progress: Progress): ScalewayCloud {
  let listed = 0;
  return new Proxy(cloud, {
    get(target, prop, receiver) {
      if (prop === 'listServersByTags') {
        return async (zone: string, tags: string[]) => {
          const servers = await target.listServersByTags(zone, tags);
          progress(`[${++listed}/${GC_ZONES.length}] ${zone}: ${servers.length} server${servers.length === 1 ? '' : 's'} of this cluster`);
          return servers;
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop === 'string' && typeof value === 'function' && !/^(list|get)/.test(prop)) return refuse(`cloud.${prop}`);
      return value;
    },
  });
}

/** Only get and getOrUndefined; post, put, patch and delete throw. */
export function readOnlyKube(kube: KubeRest): KubeRest {
  return { credentials: kube.credentials, get: (path) => kube.get(path), getOrUndefined: (path) => kube.getOrUndefined(path), post: refuse('kube.post'), put: refuse('kube.put'), patch: refuse('kube.patch'), delete: refuse('kube.delete') };
}

const resourceOf = (a: GarbageAction): { zone: string; resource: string } => {
  switch (a.kind) {
    case 'server':
      return { zone: a.zone, resource: `${a.serverName} (${a.serverId})` };
    case 'volume':
      return { zone: a.zone, resource: `${a.volumeName} (${a.volumeId})` };
    case 'token':
      return { zone: '-', resource: `kube-system/${a.secretName}` };
    case 'nodeclaim':
      return { zone: '-', resource: `${a.nodeClaim.name} (${a.providerID})` };
  }
};

export function formatDryRun(report: DryRunReport): string {
  const head = `cluster ${report.clusterName}, grace period ${report.gracePeriod}: ${report.actions.length} to release`;
  if (!report.actions.length) return head;
  return `${head}\n${table(['KIND', 'ZONE', 'RESOURCE', 'REASON', 'WHY'], report.actions.map((a) => {
    const { zone, resource } = resourceOf(a);
    return [a.kind, zone, resource, a.reason, a.message];
  }))}`;
}

async function dryRun(format: 'table' | 'json', progress: Progress): Promise<number> {
  const settings = configOrUsageError(() => loadSettings());
  const scaleway = configOrUsageError(() => loadScalewaySettings());
  const gracePeriodMs = garbageCollectionSettings(settings).gracePeriodMs;
  // The NodeClaims and token Secrets decide what is garbage: no plan without the cluster.
  if (!kubeconfigAvailable()) throw usageError('gc --dry-run reads the cluster\'s NodeClaims and bootstrap tokens: set KUBECONFIG (or run it in the cluster)');
  const kube = readOnlyKube(connectKube(settings.KUBECONFIG));
  const cloud = readOnlyCloud(createScalewayCloud(scalewayCredentials(scaleway)), progress);
  progress(`listing cluster ${settings.CLUSTER_NAME}'s servers and volumes in ${GC_ZONES.length} zones, its bootstrap tokens and the NodeClaims...`);
  let plan: GarbagePlan;
  try {
    plan = await planGarbageCollection(
      { cloud, kube, clusterName: settings.CLUSTER_NAME, now: () => new Date() },
      { gracePeriodMs, dryRun: true },
      // The plan's own lines repeat the result: progress. A zone it could not list: always said.
      { info: (message) => progress(message), warn: (message) => warn(message) },
    );
  } catch (err) {
    throw new CliError(`planning garbage collection: ${err instanceof Error ? err.message : String(err)}`);
  }
  const report: DryRunReport = { clusterName: settings.CLUSTER_NAME, gracePeriod: settings.GC_GRACE_PERIOD, ...plan };
  console.log(format === 'json' ? json(report) : formatDryRun(report));
  if (plan.skippedZones.length) {
    warn(`incomplete: ${plan.skippedZones.map((z) => z.zone).join(', ')} could not be listed`);
    return EXIT.failed;
  }
  return EXIT.ok;
}

async function trigger(progress: Progress): Promise<number> {
  const settings = configOrUsageError(() => loadSettings());
  const temporalSettings = configOrUsageError(() => loadTemporalSettings());
  const scheduleId = gcScheduleId(settings.CLUSTER_NAME);
  progress(`connecting to Temporal at ${temporalSettings.connection.address}...`);
  // A trigger carries no payload: no codec key needed.
  const cli = await connectTemporal(temporalSettings, { PAYLOAD_CODEC_REQUIRED: 'false' }, () => connectKube(settings.KUBECONFIG));
  try {
    await cli.client.schedule.getHandle(scheduleId).trigger();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new CliError(`no Schedule ${scheduleId} in Temporal namespace ${cli.namespace}: a worker of cluster ${settings.CLUSTER_NAME} creates it when it starts`);
    throw err;
  } finally {
    await cli.close();
  }
  console.log(`triggered one run of Schedule ${scheduleId}: ${settings.TEMPORAL_UI_URL.replace(/\/$/, '')}/namespaces/${encodeURIComponent(cli.namespace)}/schedules/${encodeURIComponent(scheduleId)}`);
  return EXIT.ok;
}

export async function runGc(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { ...COMMON_OPTIONS, 'dry-run': { type: 'boolean' }, trigger: { type: 'boolean' } }, GC_USAGE);
  if (values.help) {
    console.log(GC_USAGE);
    return EXIT.ok;
  }
  const format = outputFormat(values.output);
  const progress = progressReporter(values.progress);
  if (values['dry-run'] && values.trigger) throw usageError(`--dry-run or --trigger, not both\n${GC_USAGE}`);
  if (values['dry-run']) return dryRun(format, progress);
  if (values.trigger) return trigger(progress);
  throw usageError(
    `gc releases nothing by itself: the worker's Temporal Schedule ${gcScheduleId(configOrUsageError(() => loadSettings()).CLUSTER_NAME)} runs garbage collection every GC_INTERVAL.\n`
    + `Use --dry-run to list what it would release now, or --trigger to start one run of the Schedule now.\n${GC_USAGE}`,
  );
}
