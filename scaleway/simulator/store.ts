// In-memory cloud: servers, their user data, SBS (block API) volumes and local (l_ssd) volumes.
import { randomBytes, randomUUID } from 'node:crypto';
import type { ImageDetails } from '../catalog/catalog.ts';
import { advance, newLifecycle, type Lifecycle } from './state-machine.ts';

export interface Placement {
  zone_id: string;
  platform_id: string;
  cluster_id: string;
  hypervisor_id: string;
  node_id: string;
}

export interface ServerRecord {
  id: string;
  zone: string;
  name: string;
  commercialType: string;
  arch: string;
  project: string;
  tags: string[];
  image: ImageDetails;
  bootType: string;
  dynamicIpRequired: boolean;
  enableIpv6: boolean;
  createdAt: number;
  lifecycle: Lifecycle;
  /** Volume slot ("0", "1", ...) -> volume id, in either volume map. */
  volumeSlots: Record<string, string>;
  userData: Map<string, string>;
  macAddress: string;
  securityGroupId: string;
  placement: Placement;
  locked: boolean;
  /** Set while an injected fault keeps its poweron from finishing. */
  stuck: boolean;
}

export interface BlockVolumeRecord {
  id: string;
  zone: string;
  name: string;
  size: number;
  perfIops: number;
  projectId: string;
  tags: string[];
  createdAt: number;
  updatedAt: number;
  parentSnapshotId: string | null;
  /**
   * The server the volume is attached to, with the reference's own id and time; `detachAt` while
   * it detaches after its server went (injected: slow to detach).
   */
  attachment: { serverId: string; referenceId: string; at: number; detachAt?: number } | null;
  lastDetachedAt: number | null;
}

export interface LocalVolumeRecord {
  id: string;
  zone: string;
  name: string;
  size: number;
  project: string;
  tags: string[];
  createdAt: number;
  modifiedAt: number;
  serverId: string | null;
  state: 'available' | 'deleting';
}

export function randomMacAddress(): string {
  const bytes = [...randomBytes(3)].map((byte) => byte.toString(16).padStart(2, '0'));
  return `de:00:00:${bytes.join(':')}`;
}

function randomPlacement(zone: string): Placement {
  const pick = (max: number): string => String(1 + Math.floor(Math.random() * max));
  return { zone_id: zone, platform_id: pick(40), cluster_id: pick(60), hypervisor_id: pick(2000), node_id: pick(50) };
}

export class Store {
  readonly servers = new Map<string, ServerRecord>();
  readonly blockVolumes = new Map<string, BlockVolumeRecord>();
  readonly localVolumes = new Map<string, LocalVolumeRecord>();
  private readonly securityGroups = new Map<string, string>();
  /** How long a terminated server's SBS volumes take to detach (ms); the fault injection sets it. */
  detachDelayMs: (serverId: string) => number = () => 0;

  /** The zone's default security group, created on first use like the real one. */
  securityGroup(zone: string, project: string): string {
    const key = `${zone}|${project}`;
    let id = this.securityGroups.get(key);
    if (!id) {
      id = randomUUID();
      this.securityGroups.set(key, id);
    }
    return id;
  }

  newServer(fields: Omit<ServerRecord, 'id' | 'lifecycle' | 'userData' | 'macAddress' | 'placement' | 'locked' | 'stuck' | 'createdAt' | 'volumeSlots'>, now: number): ServerRecord {
    const server: ServerRecord = {
      ...fields,
      id: randomUUID(),
      createdAt: now,
      lifecycle: newLifecycle(now),
      volumeSlots: {},
      userData: new Map(),
      macAddress: randomMacAddress(),
      placement: randomPlacement(fields.zone),
      locked: false,
      stuck: false,
    };
    this.servers.set(server.id, server);
    return server;
  }

  server(zone: string, id: string): ServerRecord | undefined {
    const server = this.servers.get(id);
    return server?.zone === zone ? server : undefined;
  }

  blockVolume(zone: string, id: string): BlockVolumeRecord | undefined {
    const volume = this.blockVolumes.get(id);
    return volume?.zone === zone ? volume : undefined;
  }

  localVolume(zone: string, id: string): LocalVolumeRecord | undefined {
    const volume = this.localVolumes.get(id);
    return volume?.zone === zone ? volume : undefined;
  }

  /** Applies every due lifecycle step; servers whose terminate finished disappear. */
  settle(now: number): void {
    for (const server of [...this.servers.values()]) {
      advance(server.lifecycle, now);
      if (server.lifecycle.gone) this.finishTermination(server);
    }
    for (const volume of this.blockVolumes.values()) {
      const detachAt = volume.attachment?.detachAt;
      if (detachAt !== undefined && detachAt <= now) this.detachBlockVolume(volume.id, detachAt);
    }
  }

  /** terminate: local volumes go with the server, SBS volumes survive detached (as recorded). */
  finishTermination(server: ServerRecord): void {
    const at = server.lifecycle.modifiedAt;
    const delay = this.detachDelayMs(server.id);
    for (const volumeId of Object.values(server.volumeSlots)) {
      this.localVolumes.delete(volumeId);
      const attachment = this.blockVolumes.get(volumeId)?.attachment;
      if (delay > 0 && attachment) attachment.detachAt = at + delay;
      else this.detachBlockVolume(volumeId, at);
    }
    this.servers.delete(server.id);
  }

  /** DELETE /servers/{id}: every volume survives, detached. */
  deleteServer(server: ServerRecord, now: number): void {
    for (const volumeId of Object.values(server.volumeSlots)) {
      this.detachBlockVolume(volumeId, now);
      const local = this.localVolumes.get(volumeId);
      if (local) {
        local.serverId = null;
        local.modifiedAt = now;
      }
    }
    this.servers.delete(server.id);
  }

  private detachBlockVolume(volumeId: string, at: number): void {
    const volume = this.blockVolumes.get(volumeId);
    if (!volume?.attachment) return;
    volume.attachment = null;
    volume.lastDetachedAt = at;
    volume.updatedAt = at;
  }

  clear(): void {
    this.servers.clear();
    this.blockVolumes.clear();
    this.localVolumes.clear();
    this.securityGroups.clear();
  }
}
