// What the activities run against, built once per worker process.
import type { Client } from '@temporalio/client';
import type { ScalewayCloud } from '../scaleway/cloud.ts';
import type { CatalogCache, ImageCache, UnavailableOfferings } from '../scaleway/caches.ts';
import type { ServerStateReads } from '../scaleway/server-state-reads.ts';
import type { KubeRest } from '../kube/rest.ts';
import type { SharedReads } from './shared-reads.ts';

export interface ActivityDeps {
  cloud: ScalewayCloud;
  kube: KubeRest;
  catalog: CatalogCache;
  images: ImageCache;
  unavailable: UnavailableOfferings;
  /** Servers' states while activities wait on them: one read per zone per tick for every waiting activity. */
  serverStates: ServerStateReads;
  /** Tags every resource, so garbage collection can tell this cluster's servers from any other's. */
  clusterName: string;
  /** Used to stop a provisioning workflow before terminating its NodeClaim. */
  temporal: Client;
  /** NodeClaim and NodeClass reads shared by concurrent activities (activities/shared-reads.ts); none: each reads its own. */
  reads?: SharedReads;
  /** How often waits poll Scaleway and the apiserver. */
  pollIntervalMs: number;
  now: () => Date;
}

export { TAG_PREFIX } from '../kube/api/constants.ts';
import { TAG_CLUSTER, TAG_MANAGED, TAG_NODECLAIM, TAG_NODECLAIM_UID, TAG_NODEPOOL } from '../kube/api/constants.ts';

/** The tags on every server (and its root volume) made for a NodeClaim: find-before-create and garbage collection read them. */
export function resourceTags(clusterName: string, nodeClaim: { name: string; uid: string }, nodePool: string | undefined): string[] {
  return [
    TAG_MANAGED,
    `${TAG_CLUSTER}=${clusterName}`,
    ...(nodePool ? [`${TAG_NODEPOOL}=${nodePool}`] : []),
    `${TAG_NODECLAIM}=${nodeClaim.name}`,
    nodeClaimUidTag(nodeClaim.uid),
  ];
}

/**
 * The name of a NodeClaim's SBS root volume. Volume templates take no tags, so
 * the name is how the volume is found once its server is gone.
 */
export const rootVolumeName = (clusterName: string, nodeClaim: { uid: string }): string => `scw-karpenter-${clusterName}-${nodeClaim.uid}`;

/** The one tag that identifies a NodeClaim's resources. */
export const nodeClaimUidTag = (uid: string): string => `${TAG_NODECLAIM_UID}=${uid}`;

/**
 * The tags that make a server this cluster's and this NodeClaim's: every lookup and release matches all
 * three together (the API's `tags` filter keeps servers carrying every one), so a server of another
 * cluster or one tagged by hand with just the UID is never taken for ours.
 */
export const ownershipTags = (clusterName: string, uid: string): string[] => [
  TAG_MANAGED,
  `${TAG_CLUSTER}=${clusterName}`,
  nodeClaimUidTag(uid),
];
