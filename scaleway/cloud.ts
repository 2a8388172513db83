// The one module that talks to Scaleway: exactly the calls scw-karpenter makes,
// behind a narrow interface. Everything else uses `ScalewayCloud`; nothing else
// imports the SDK. Each call's failure is translated once, in errors.ts.
import { createAdvancedClient, withHTTPClient, withProfile, type Client } from '@scaleway/sdk-client';
import { Instancev1 } from '@scaleway/sdk-instance';
import { Marketplacev2 } from '@scaleway/sdk-marketplace';
import { Blockv1 } from '@scaleway/sdk-block';
import { cloudCall, cloudErrorLabel, cloudRead, CloudError } from './errors.ts';
import { createScalewayHttpClient, withCallKind, type CallStats, type HttpTimeouts } from './http-client.ts';
import { cloudProviderDuration, cloudProviderErrors, currentController, PROVIDER, snakeCase } from '../runtime/metrics.ts';
import { processRateLimiter, type TokenBucket } from './rate-limiter.ts';

export interface ScalewayCredentials {
  accessKey: string;
  secretKey: string;
  projectId: string;
  /** Defaults to Scaleway's public API; the simulator's URL in the sandbox and tests. */
  apiUrl?: string;
}

/** A commercial type as the catalog and the availability endpoint describe it in one zone. */
export interface ServerTypeOffer {
  zone: string;
  commercialType: string;
  hourlyPriceEur: number;
  ncpus: number;
  /** Bytes. */
  ramBytes: number;
  /** `x86_64` or `arm64`. */
  arch: string;
  gpuCount: number;
  gpu: { name: string; manufacturer: string; memoryBytes: number } | undefined;
  /** `available`, `scarce` or `shortage`, from the availability endpoint. */
  availability: string;
  endOfService: boolean;
  /** Whether the root volume may be a block (SBS) volume. */
  blockStorage: boolean;
}

/** The Instance API's state: `stopped`, `starting`, `running`, `stopping`, `stopped in place`, `locked`. */
export type ServerLifecycleState = string;

export interface ServerInfo {
  id: string;
  zone: string;
  name: string;
  commercialType: string;
  state: ServerLifecycleState;
  stateDetail: string;
  tags: string[];
  rootVolume: { id: string; type: string } | undefined;
  /** Every volume of the server, root first: `l_ssd` ones go with a terminate, none with a delete. */
  volumes: { id: string; type: string }[];
  privateIp: string | undefined;
  publicIp: string | undefined;
  /** When Scaleway created it: garbage collection's grace period and duplicate resolution read it. */
  createdAt: Date | undefined;
}

export interface CreateServerSpec {
  zone: string;
  name: string;
  commercialType: string;
  imageId: string;
  tags: string[];
  projectId?: string;
  /** `name` names an SBS root volume, so it can be found after its server is gone (volume templates take no tags). */
  rootVolume: { sizeBytes: number; type: 'sbs_volume' | 'l_ssd'; iops?: 5000 | 15000; name?: string };
  securityGroupId?: string;
  placementGroupId?: string;
  publicIp: 'ipv4' | 'ipv6' | 'both' | 'none';
}

export interface VolumeInfo {
  id: string;
  zone: string;
  name: string;
  status: string;
  referencedBy: number;
  createdAt: Date | undefined;
}

export interface ScalewayCloud {
  /** The whole catalog of one zone with availability, every page. */
  listServerTypes(zone: string): Promise<ServerTypeOffer[]>;
  /** The image of a marketplace label for a zone and commercial type (any type when undefined). */
  resolveImage(zone: string, label: string, commercialType: string | undefined, rootVolumeType: 'sbs_volume' | 'l_ssd'): Promise<{ id: string; label: string }>;
  /** Servers carrying every tag, every page. */
  listServersByTags(zone: string, tags: string[]): Promise<ServerInfo[]>;
  createServer(spec: CreateServerSpec): Promise<ServerInfo>;
  /** undefined once the server is gone (404). */
  getServer(zone: string, id: string): Promise<ServerInfo | undefined>;
  /** The servers of these IDs that still exist, read by one listServers call per hundred IDs. */
  getServers(zone: string, ids: readonly string[]): Promise<ServerInfo[]>;
  powerOn(zone: string, id: string): Promise<void>;
  /** A running server: stops it and deletes it with its local volumes (SBS volumes stay). */
  terminate(zone: string, id: string): Promise<void>;
  /** A stopped server (never powered on): terminate is refused for it. false when already gone. */
  deleteServer(zone: string, id: string): Promise<boolean>;
  setCloudInit(zone: string, id: string, cloudInit: string): Promise<void>;
  deleteCloudInit(zone: string, id: string): Promise<void>;
  /** An SBS (Block API) volume; false when it was already gone. */
  deleteVolume(zone: string, id: string): Promise<boolean>;
  /** A local (`l_ssd`) volume, on the Instance API; false when it was already gone. */
  deleteLocalVolume(zone: string, id: string): Promise<boolean>;
  /** Block volumes of exactly this name. */
  listVolumesByName(zone: string, name: string): Promise<VolumeInfo[]>;
  /** Block volumes whose name starts with this prefix (garbage collection: `scw-karpenter-<cluster>-`), every page. */
  listVolumesByNamePrefix(zone: string, prefix: string): Promise<VolumeInfo[]>;
  /** What this client has sent: requests, 429s and client-side timeouts, in total and by request kind. */
  stats(): CallStats;
}

export interface ScalewayCloudOptions {
  /** Defaults to the process's one limiter: every client of a process shares Scaleway's rate limit. */
  rateLimiter?: TokenBucket;
  /** Client-side time limits (http-client.ts has the defaults and their reasons); tests shorten them. */
  timeouts?: Partial<HttpTimeouts>;
}

const PAGE_SIZE = 50; // the Instance API's own page size for catalogs
const MAX_PAGE_SIZE = 100; // the most the Instance API lists in one page

export function createScalewayCloud(credentials: ScalewayCredentials, options: ScalewayCloudOptions = {}): ScalewayCloud {
  // Every request goes through our fetch: rate limit, timeouts, throttling retries, counters.
  const http = createScalewayHttpClient(options.rateLimiter ?? processRateLimiter(), options.timeouts);
  const client: Client = createAdvancedClient(
    withProfile({
      accessKey: credentials.accessKey,
      secretKey: credentials.secretKey,
      defaultProjectId: credentials.projectId,
      defaultRegion: 'fr-par',
      defaultZone: 'fr-par-2',
      ...(credentials.apiUrl ? { apiURL: credentials.apiUrl } : {}),
    }),
    withHTTPClient(http.fetch),
  );
  const instance = new Instancev1.API(client);
  const marketplace = new Marketplacev2.API(client);
  const block = new Blockv1.API(client);

  const toServer = (s: Instancev1.Server): ServerInfo => {
    const root = s.volumes['0'];
    return {
      id: s.id,
      zone: s.zone,
      name: s.name,
      commercialType: s.commercialType,
      state: s.state,
      stateDetail: s.stateDetail,
      tags: s.tags,
      rootVolume: root ? { id: root.id, type: root.volumeType } : undefined,
      volumes: Object.entries(s.volumes).sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => ({ id: v.id, type: v.volumeType })),
      privateIp: s.privateIp ?? undefined,
      publicIp: s.publicIp?.address ?? s.publicIps[0]?.address,
      createdAt: s.creationDate,
    };
  };

  const toVolume = (v: Blockv1.Volume): VolumeInfo => ({ id: v.id, zone: v.zone, name: v.name, status: v.status, referencedBy: v.references.length, createdAt: v.createdAt });

  const notFoundIsUndefined = async <T>(doing: string, call: () => Promise<T>, send = cloudCall): Promise<T | undefined> => {
    try {
      return await send(doing, call);
    } catch (err) {
      if (err instanceof CloudError && err.kind === 'not-found') return undefined;
      throw err;
    }
  };

  const cloud: ScalewayCloud = {
    async listServerTypes(zone) {
      // Both lists, every page: the first pages together, then the rest (their count is known) together.
      const allPages = async <T>(read: (page: number) => Promise<{ totalCount: number; servers: Record<string, T> }>): Promise<Record<string, T>> => {
        const first = await read(1);
        const pages = Math.ceil(first.totalCount / PAGE_SIZE);
        const rest = await Promise.all(Array.from({ length: Math.max(0, pages - 1) }, (_, i) => read(i + 2)));
        return Object.assign({}, first.servers, ...rest.map((r) => r.servers)) as Record<string, T>;
      };
      const [types, availabilities] = await Promise.all([
        allPages((page) => cloudRead(`listing server types in ${zone}`, () => instance.listServersTypes({ zone, page, perPage: PAGE_SIZE }))),
        allPages((page) => cloudRead(`reading server availability in ${zone}`, () => instance.getServerTypesAvailability({ zone, page, perPage: PAGE_SIZE }))),
      ]);
      const availability: Record<string, string> = {};
      for (const [name, value] of Object.entries(availabilities)) availability[name] = value.availability;
      return Object.entries(types).map(([commercialType, t]) => ({
        zone,
        commercialType,
        hourlyPriceEur: t.hourlyPrice,
        ncpus: t.ncpus,
        ramBytes: t.ram,
        arch: t.arch,
        gpuCount: t.gpu ?? 0,
        gpu: t.gpuInfo ? { name: t.gpuInfo.gpuName, manufacturer: t.gpuInfo.gpuManufacturer, memoryBytes: t.gpuInfo.gpuMemory } : undefined,
        availability: availability[commercialType] ?? 'unknown',
        endOfService: t.endOfService,
        blockStorage: t.capabilities?.blockStorage ?? false,
      }));
    },

    async resolveImage(zone, label, commercialType, rootVolumeType) {
      const type = rootVolumeType === 'l_ssd' ? 'instance_local' : 'instance_sbs';
      const doing = `resolving image ${label}${commercialType ? ` for ${commercialType}` : ''} in ${zone}`;
      const res = await cloudRead(doing, () => marketplace.listLocalImages({ zone, imageLabel: label, type }));
      const image = res.localImages.find((i) => commercialType === undefined || i.compatibleCommercialTypes.includes(commercialType));
      if (!image) {
        throw new CloudError('not-found', `${doing}: no ${type} image of that label${commercialType ? ` runs on ${commercialType}` : ''}`);
      }
      return { id: image.id, label };
    },

    async listServersByTags(zone, tags) {
      const out: ServerInfo[] = [];
      for (let page = 1; ; page++) {
        const res = await cloudRead(`listing servers tagged ${tags.join(',')} in ${zone}`, () => instance.listServers({ zone, tags, page, perPage: PAGE_SIZE }));
        out.push(...res.servers.map(toServer));
        if (out.length >= res.totalCount || res.servers.length === 0) break;
      }
      return out;
    },

    async createServer(spec) {
      const volume: Instancev1.VolumeServerTemplate = spec.rootVolume.type === 'l_ssd'
        ? { boot: false, size: spec.rootVolume.sizeBytes, volumeType: 'l_ssd' }
        : { boot: false, size: spec.rootVolume.sizeBytes, volumeType: 'sbs_volume', ...(spec.rootVolume.name ? { name: spec.rootVolume.name } : {}) };
      const res = await cloudCall(`creating server ${spec.name} (${spec.commercialType}) in ${spec.zone}`, () =>
        instance.createServer({
          zone: spec.zone,
          name: spec.name,
          commercialType: spec.commercialType,
          image: spec.imageId,
          tags: spec.tags,
          volumes: { '0': volume },
          protected: false,
          dynamicIpRequired: spec.publicIp === 'ipv4' || spec.publicIp === 'both',
          enableIpv6: spec.publicIp === 'ipv6' || spec.publicIp === 'both',
          ...(spec.projectId ? { project: spec.projectId } : {}),
          ...(spec.securityGroupId ? { securityGroup: spec.securityGroupId } : {}),
          ...(spec.placementGroupId ? { placementGroup: spec.placementGroupId } : {}),
        }),
      );
      if (!res.server) throw new CloudError('unknown', `creating server ${spec.name} in ${spec.zone}: the API returned no server`);
      return toServer(res.server);
    },

    async getServer(zone, id) {
      const res = await notFoundIsUndefined(`reading server ${id} in ${zone}`, () => instance.getServer({ zone, serverId: id }), cloudRead);
      return res?.server ? toServer(res.server) : undefined;
    },

    async getServers(zone, ids) {
      const out: ServerInfo[] = [];
      for (let i = 0; i < ids.length; i += MAX_PAGE_SIZE) {
        const chunk = ids.slice(i, i + MAX_PAGE_SIZE);
        const res = await cloudRead(`reading ${chunk.length} servers in ${zone}`, () => instance.listServers({ zone, servers: chunk, perPage: MAX_PAGE_SIZE }));
        out.push(...res.servers.map(toServer));
      }
      return out;
    },

    async powerOn(zone, id) {
      await cloudCall(`powering on server ${id} in ${zone}`, () => instance.serverAction({ zone, serverId: id, action: 'poweron' }));
    },

    async terminate(zone, id) {
      await cloudCall(`terminating server ${id} in ${zone}`, () => instance.serverAction({ zone, serverId: id, action: 'terminate' }));
    },

    async deleteServer(zone, id) {
      const deleted = await notFoundIsUndefined(`deleting stopped server ${id} in ${zone}`, () => instance.deleteServer({ zone, serverId: id }).then(() => true));
      return deleted ?? false;
    },

    async setCloudInit(zone, id, cloudInit) {
      await cloudCall(`setting cloud-init of server ${id} in ${zone}`, () =>
        instance.setServerUserData({ zone, serverId: id, key: 'cloud-init', content: cloudInit }),
      );
    },

    async deleteCloudInit(zone, id) {
      await notFoundIsUndefined(`deleting cloud-init of server ${id} in ${zone}`, () => instance.deleteServerUserData({ zone, serverId: id, key: 'cloud-init' }));
    },

    async deleteVolume(zone, id) {
      const deleted = await notFoundIsUndefined(`deleting volume ${id} in ${zone}`, () => block.deleteVolume({ zone, volumeId: id }).then(() => true));
      return deleted ?? false;
    },

    async deleteLocalVolume(zone, id) {
      const deleted = await notFoundIsUndefined(`deleting local volume ${id} in ${zone}`, () => instance.deleteVolume({ zone, volumeId: id }).then(() => true));
      return deleted ?? false;
    },

    async listVolumesByName(zone, name) {
      // The API's name filter matches substrings: keep exact matches only.
      const res = await cloudRead(`listing volumes named ${name} in ${zone}`, () => block.listVolumes({ zone, name, includeDeleted: false }));
      return res.volumes.filter((v) => v.name === name).map(toVolume);
    },

    async listVolumesByNamePrefix(zone, prefix) {
      const out: VolumeInfo[] = [];
      for (let page = 1; ; page++) {
        const res = await cloudRead(`listing volumes named ${prefix}* in ${zone}`, () => block.listVolumes({ zone, name: prefix, includeDeleted: false, page, pageSize: MAX_PAGE_SIZE }));
        out.push(...res.volumes.filter((v) => v.name.startsWith(prefix)).map(toVolume));
        if (res.volumes.length < MAX_PAGE_SIZE) break;
      }
      return out;
    },

    stats: () => http.stats(),
  };
  return measured(cloud);
}

/**
 * Every call of the adapter timed and its failures counted, as Karpenter's
 * cloud provider decorator does (pkg/cloudprovider/metrics), its requests
 * counted under the call's name (scw_karpenter_scaleway_calls_total).
 */
function measured(cloud: ScalewayCloud): ScalewayCloud {
  const wrapped: Record<string, unknown> = {};
  for (const [method, fn] of Object.entries(cloud) as [keyof ScalewayCloud, (...args: unknown[]) => unknown][]) {
    if (method === 'stats') {
      wrapped[method] = fn;
      continue;
    }
    wrapped[method] = async (...args: unknown[]): Promise<unknown> => {
      const labels = { controller: currentController(), method, provider: PROVIDER };
      const end = cloudProviderDuration.startTimer(labels);
      try {
        return await withCallKind(snakeCase(method), () => Promise.resolve(fn(...args)));
      } catch (err) {
        cloudProviderErrors.inc({ ...labels, error: cloudErrorLabel(err) });
        throw err;
      } finally {
        end();
      }
    };
  }
  return wrapped as unknown as ScalewayCloud;
}
