// JSON renderings of simulator records, field for field in the recorded responses' order.
import { PUBLIC_IMAGES_ORGANIZATION } from '../catalog/catalog.ts';
import { allowedActions } from './state-machine.ts';
import type { BlockVolumeRecord, LocalVolumeRecord, ServerRecord, Store } from './store.ts';

/** Instance API timestamps: microseconds and "+00:00", e.g. 2026-07-30T12:53:17.694881+00:00. */
export function instanceTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

/** Block API timestamps: microseconds and "Z", e.g. 2026-07-30T12:53:17.991703Z. */
export function blockTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Block volume classes by IOPS, as the block API names them. */
export function blockVolumeType(perfIops: number): string {
  return perfIops >= 15_000 ? 'sbs_15k' : 'sbs_5k';
}

export function renderBlockVolume(volume: BlockVolumeRecord): Record<string, unknown> {
  return {
    id: volume.id,
    name: volume.name,
    type: blockVolumeType(volume.perfIops),
    size: volume.size,
    project_id: volume.projectId,
    created_at: blockTime(volume.createdAt),
    updated_at: blockTime(volume.updatedAt),
    references: volume.attachment
      ? [{
          id: volume.attachment.referenceId,
          product_resource_type: 'instance_server',
          product_resource_id: volume.attachment.serverId,
          created_at: blockTime(volume.attachment.at),
          type: 'exclusive',
          status: volume.attachment.detachAt === undefined ? 'attached' : 'detaching',
        }]
      : [],
    parent_snapshot_id: volume.parentSnapshotId,
    status: volume.attachment ? 'in_use' : 'available',
    tags: volume.tags,
    specs: { perf_iops: volume.perfIops, class: 'sbs' },
    last_detached_at: volume.lastDetachedAt === null ? null : blockTime(volume.lastDetachedAt),
    kms_key_id: null,
    zone: volume.zone,
  };
}

export function renderLocalVolume(volume: LocalVolumeRecord, store: Store, boot: boolean | undefined): Record<string, unknown> {
  const server = volume.serverId ? store.servers.get(volume.serverId) : undefined;
  const rendered: Record<string, unknown> = {};
  if (boot !== undefined) rendered.boot = boot;
  Object.assign(rendered, {
    id: volume.id,
    name: volume.name,
    volume_type: 'l_ssd',
    export_uri: null,
    organization: volume.project,
    project: volume.project,
    server: server ? { id: server.id, name: server.name } : null,
    size: volume.size,
    state: volume.state,
    creation_date: instanceTime(volume.createdAt),
    modification_date: instanceTime(volume.modifiedAt),
    tags: volume.tags,
    zone: volume.zone,
  });
  return rendered;
}

function renderServerVolumes(server: ServerRecord, store: Store): Record<string, unknown> {
  const volumes: Record<string, unknown> = {};
  for (const [slot, id] of Object.entries(server.volumeSlots)) {
    const local = store.localVolumes.get(id);
    if (local) {
      volumes[slot] = renderLocalVolume(local, store, false);
    } else {
      // SBS volumes show as a stub in the server: the block API holds their details.
      volumes[slot] = { boot: false, volume_type: 'sbs_volume', id, state: 'available', zone: server.zone };
    }
  }
  return volumes;
}

export function renderServer(server: ServerRecord, store: Store): Record<string, unknown> {
  const { lifecycle } = server;
  return {
    id: server.id,
    name: server.name,
    arch: server.arch,
    commercial_type: server.commercialType,
    boot_type: server.bootType,
    organization: server.project,
    project: server.project,
    hostname: server.name,
    image: {
      id: server.image.id,
      name: server.image.name,
      organization: PUBLIC_IMAGES_ORGANIZATION,
      project: PUBLIC_IMAGES_ORGANIZATION,
      root_volume: server.image.rootVolumeType === 'sbs_snapshot'
        ? { volume_type: 'sbs_snapshot', id: server.image.rootSnapshotId, size: 0, name: '' }
        : { id: server.image.rootSnapshotId, name: `snapshot-${server.image.rootSnapshotId}`, volume_type: 'l_ssd', size: 10_000_000_000 },
      extra_volumes: {},
      public: true,
      arch: server.image.arch,
      creation_date: server.image.creationDate,
      modification_date: server.image.creationDate,
      default_bootscript: null,
      from_server: '',
      state: 'available',
      tags: [],
      zone: server.zone,
    },
    volumes: renderServerVolumes(server, store),
    tags: server.tags,
    state: lifecycle.state,
    protected: false,
    state_detail: lifecycle.detail,
    public_ip: null,
    public_ips: [],
    mac_address: server.macAddress,
    routed_ip_enabled: true,
    ipv6: null,
    extra_networks: [],
    dynamic_ip_required: server.dynamicIpRequired,
    enable_ipv6: server.enableIpv6,
    private_ip: null,
    creation_date: instanceTime(server.createdAt),
    modification_date: instanceTime(lifecycle.modifiedAt),
    bootscript: null,
    security_group: { id: server.securityGroupId, name: 'Default security group' },
    location: lifecycle.placed ? server.placement : null,
    maintenances: [],
    allowed_actions: lifecycle.state === 'stopping' && lifecycle.detail === 'terminating' ? [] : allowedActions(lifecycle.state),
    placement_group: null,
    private_nics: [],
    zone: server.zone,
    filesystems: [],
    end_of_service: false,
    dns: `${server.id}.pub.instances.scw.cloud`,
  };
}

/** The 202 answer of POST /servers/{id}/action (recorded: a fake, already-pending task). */
export function renderTask(serverId: string, zone: string, now: number): Record<string, unknown> {
  return {
    task: {
      id: '00000000-0000-0000-0000-000000000000',
      description: 'fake task',
      status: 'pending',
      href_from: `/servers/${serverId}/action`,
      href_result: `/servers/${serverId}`,
      started_at: instanceTime(now),
      terminated_at: null,
      progress: 0,
      zone,
    },
  };
}
