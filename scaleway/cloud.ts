// The one module that talks to Scaleway: exactly the calls scw-karpenter makes,
// behind a narrow interface. Everything else uses `ScalewayCloud`; nothing else
// imports the SDK. Each call's failure is translated once, in errors.ts.
import { createClient, type Client } from '@scaleway/sdk-client';
import { Instancev1 } from '@scaleway/sdk-instance';
import { Marketplacev2 } from '@scaleway/sdk-marketplace';
import { Blockv1 } from '@scaleway/sdk-block';
import { cloudCall, CloudError } from './errors.ts';

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
  privateIp: string | undefined;
  publicIp: string | undefined;
}

export interface CreateServerSpec {
  zone: string;
  name: string;
  commercialType: string;
  imageId: string;
  tags: string[];
  projectId?: string;
  rootVolume: { sizeBytes: number; type: 'sbs_volume' | 'l_ssd'; iops?: 5000 | 15000 };
  securityGroupId?: string;
  placementGroupId?: string;
  publicIp: 'ipv4' | 'ipv6' | 'both' | 'none';
}

export interface VolumeInfo {
  id: string;
  zone: string;
  status: string;
  referencedBy: number;
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
  powerOn(zone: string, id: string): Promise<void>;
  terminate(zone: string, id: string): Promise<void>;
  setCloudInit(zone: string, id: string, cloudInit: string): Promise<void>;
  deleteCloudInit(zone: string, id: string): Promise<void>;
  /** undefined once the volume is gone. */
  getVolume(zone: string, id: string): Promise<VolumeInfo | undefined>;
  deleteVolume(zone: string, id: string): Promise<void>;
  listVolumesByTags(zone: string, tags: string[]): Promise<VolumeInfo[]>;
  /** Tags a block volume, so that it can be found (and collected) after its server is gone. */
  tagVolume(zone: string, id: string, tags: string[]): Promise<void>;
}

const PAGE_SIZE = 50; // the Instance API's own page size for catalogs

export function createScalewayCloud(credentials: ScalewayCredentials): ScalewayCloud {
  const client: Client = createClient({
    accessKey: credentials.accessKey,
    secretKey: credentials.secretKey,
    defaultProjectId: credentials.projectId,
    defaultRegion: 'fr-par',
    defaultZone: 'fr-par-2',
    ...(credentials.apiUrl ? { apiURL: credentials.apiUrl } : {}),
  });
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
      privateIp: s.privateIp ?? undefined,
      publicIp: s.publicIp?.address ?? s.publicIps[0]?.address,
    };
  };

  const notFoundIsUndefined = async <T>(doing: string, call: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await cloudCall(doing, call);
    } catch (err) {
      if (err instanceof CloudError && err.kind === 'not-found') return undefined;
      throw err;
    }
  };

  return {
    async listServerTypes(zone) {
      const types: Record<string, Instancev1.ServerType> = {};
      const availability: Record<string, string> = {};
      for (let page = 1; ; page++) {
        const res = await cloudCall(`listing server types in ${zone}`, () => instance.listServersTypes({ zone, page, perPage: PAGE_SIZE }));
        Object.assign(types, res.servers);
        if (Object.keys(types).length >= res.totalCount || Object.keys(res.servers).length === 0) break;
      }
      for (let page = 1; ; page++) {
        const res = await cloudCall(`reading server availability in ${zone}`, () => instance.getServerTypesAvailability({ zone, page, perPage: PAGE_SIZE }));
        for (const [name, value] of Object.entries(res.servers)) availability[name] = value.availability;
        if (Object.keys(availability).length >= res.totalCount || Object.keys(res.servers).length === 0) break;
      }
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
      const res = await cloudCall(doing, () => marketplace.listLocalImages({ zone, imageLabel: label, type }));
      const image = res.localImages.find((i) => commercialType === undefined || i.compatibleCommercialTypes.includes(commercialType));
      if (!image) {
        throw new CloudError('not-found', `${doing}: no ${type} image of that label${commercialType ? ` runs on ${commercialType}` : ''}`);
      }
      return { id: image.id, label };
    },

    async listServersByTags(zone, tags) {
      const out: ServerInfo[] = [];
      for (let page = 1; ; page++) {
        const res = await cloudCall(`listing servers tagged ${tags.join(',')} in ${zone}`, () => instance.listServers({ zone, tags, page, perPage: PAGE_SIZE }));
        out.push(...res.servers.map(toServer));
        if (out.length >= res.totalCount || res.servers.length === 0) break;
      }
      return out;
    },

    async createServer(spec) {
      const volume: Instancev1.VolumeServerTemplate = spec.rootVolume.type === 'l_ssd'
        ? { boot: false, size: spec.rootVolume.sizeBytes, volumeType: 'l_ssd' }
        : { boot: false, size: spec.rootVolume.sizeBytes, volumeType: 'sbs_volume' };
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
      const res = await notFoundIsUndefined(`reading server ${id} in ${zone}`, () => instance.getServer({ zone, serverId: id }));
      return res?.server ? toServer(res.server) : undefined;
    },

    async powerOn(zone, id) {
      await cloudCall(`powering on server ${id} in ${zone}`, () => instance.serverAction({ zone, serverId: id, action: 'poweron' }));
    },

    async terminate(zone, id) {
      await cloudCall(`terminating server ${id} in ${zone}`, () => instance.serverAction({ zone, serverId: id, action: 'terminate' }));
    },

    async setCloudInit(zone, id, cloudInit) {
      await cloudCall(`setting cloud-init of server ${id} in ${zone}`, () =>
        instance.setServerUserData({ zone, serverId: id, key: 'cloud-init', content: cloudInit }),
      );
    },

    async deleteCloudInit(zone, id) {
      await notFoundIsUndefined(`deleting cloud-init of server ${id} in ${zone}`, () => instance.deleteServerUserData({ zone, serverId: id, key: 'cloud-init' }));
    },

    async getVolume(zone, id) {
      const v = await notFoundIsUndefined(`reading volume ${id} in ${zone}`, () => block.getVolume({ zone, volumeId: id }));
      return v ? { id: v.id, zone: v.zone, status: v.status, referencedBy: v.references.length } : undefined;
    },

    async deleteVolume(zone, id) {
      await notFoundIsUndefined(`deleting volume ${id} in ${zone}`, () => block.deleteVolume({ zone, volumeId: id }));
    },

    async listVolumesByTags(zone, tags) {
      const res = await cloudCall(`listing volumes tagged ${tags.join(',')} in ${zone}`, () => block.listVolumes({ zone, tags, includeDeleted: false }));
      return res.volumes.map((v) => ({ id: v.id, zone: v.zone, status: v.status, referencedBy: v.references.length }));
    },

    async tagVolume(zone, id, tags) {
      await cloudCall(`tagging volume ${id} in ${zone}`, () => block.updateVolume({ zone, volumeId: id, tags }));
    },
  };
}
