// The invariants a chaos run must end with, as pure functions of a listing of
// what exists (every zone's servers and volumes, the bootstrap tokens, the
// Nodes, the NodeClaims, the workflows, the Events), so that each rule is unit-tested on
// hand-made listings. chaos/listing.ts reads the listing from the live stack.
import { TAG_PREFIX } from '../kube/api/constants.ts';

export interface ServerFacts {
  id: string;
  zone: string;
  name: string;
  state: string;
  tags: readonly string[];
}

export interface VolumeFacts {
  id: string;
  zone: string;
  name: string;
  status: string;
}

/** A kube-system bootstrap-token Secret made by the product (labelled with its NodeClaim's UID). */
export interface TokenFacts {
  name: string;
  nodeClaimUid: string | undefined;
}

export interface ConditionFacts {
  type: string;
  status: string;
  reason?: string | undefined;
}

export interface NodeClaimFacts {
  name: string;
  uid: string;
  providerID?: string | undefined;
  /** ms since the epoch */
  createdAt: number;
  deletingSince: number | undefined;
  conditions: readonly ConditionFacts[];
}

export interface NodeFacts {
  name: string;
  providerID: string | undefined;
}

export interface WorkflowFacts {
  workflowId: string;
  runId: string;
  /** Temporal's status name: RUNNING, COMPLETED, FAILED, TIMED_OUT, TERMINATED, CANCELLED, CONTINUED_AS_NEW. */
  status: string;
}

export interface EventFacts {
  involvedKind: string;
  involvedName: string;
  involvedUid: string | undefined;
  type: string;
  reason: string;
}

export interface Listing {
  clusterName: string;
  now: number;
  servers: readonly ServerFacts[];
  volumes: readonly VolumeFacts[];
  tokens: readonly TokenFacts[];
  nodeClaims: readonly NodeClaimFacts[];
  nodes: readonly NodeFacts[];
  workflows: readonly WorkflowFacts[];
  events: readonly EventFacts[];
}

/** How long a NodeClaim may take, from the NodeClass's timeouts, plus the suite's margin. */
export interface Deadlines {
  /** creation to Ready (launch + registration + initialization + margin) */
  readyMs: number;
  /** deletion requested to gone */
  deletionMs: number;
}

export type ViolationKind = 'leaked-server' | 'leaked-volume' | 'leaked-token' | 'leaked-node' | 'duplicate-server' | 'stuck-nodeclaim' | 'silent-failure';

export interface Violation {
  kind: ViolationKind;
  subject: string;
  detail: string;
}

const UID_TAG = `${TAG_PREFIX}/nodeclaim-uid=`;
const FAILED = new Set(['FAILED', 'TIMED_OUT']);
const WORKFLOW_ID = /^(provision|terminate)\/([^/]+)\/([^/]+)$/;

export function serverNodeClaimUid(server: Pick<ServerFacts, 'tags'>): string | undefined {
  return server.tags.find((tag) => tag.startsWith(UID_TAG))?.slice(UID_TAG.length);
}

/** The root volume's name carries the NodeClaim UID (`scw-karpenter-<cluster>-<uid>`); the create call cannot tag it. */
export function volumeNodeClaimUid(volume: Pick<VolumeFacts, 'name'>, clusterName: string): string | undefined {
  const prefix = `scw-karpenter-${clusterName}-`;
  return volume.name.startsWith(prefix) ? volume.name.slice(prefix.length) : undefined;
}

const isTrue = (claim: NodeClaimFacts, type: string): boolean => claim.conditions.some((c) => c.type === type && c.status === 'True');

export function checkListing(listing: Listing, deadlines: Deadlines): Violation[] {
  const violations: Violation[] = [];
  const live = new Map(listing.nodeClaims.map((claim) => [claim.uid, claim]));

  // Servers: each belongs to a NodeClaim that still exists, and no NodeClaim has two.
  const serversByUid = new Map<string, ServerFacts[]>();
  for (const server of listing.servers) {
    const uid = serverNodeClaimUid(server);
    const subject = `server ${server.zone}/${server.id} (${server.name}, ${server.state})`;
    if (uid === undefined) {
      violations.push({ kind: 'leaked-server', subject, detail: 'no nodeclaim-uid tag' });
      continue;
    }
    if (!live.has(uid)) violations.push({ kind: 'leaked-server', subject, detail: `its NodeClaim (uid ${uid}) is gone` });
    serversByUid.set(uid, [...(serversByUid.get(uid) ?? []), server]);
  }
  for (const [uid, servers] of serversByUid) {
    if (servers.length < 2) continue;
    const claim = live.get(uid);
    violations.push({
      kind: 'duplicate-server',
      subject: `NodeClaim ${claim?.name ?? '(gone)'} (uid ${uid})`,
      detail: `${servers.length} servers: ${servers.map((s) => `${s.zone}/${s.id}`).join(', ')}`,
    });
  }

  for (const volume of listing.volumes) {
    const uid = volumeNodeClaimUid(volume, listing.clusterName);
    const subject = `volume ${volume.zone}/${volume.id} (${volume.name}, ${volume.status})`;
    if (uid === undefined) violations.push({ kind: 'leaked-volume', subject, detail: 'not named after a NodeClaim of this cluster' });
    else if (!live.has(uid)) violations.push({ kind: 'leaked-volume', subject, detail: `its NodeClaim (uid ${uid}) is gone` });
  }

  for (const token of listing.tokens) {
    const claim = token.nodeClaimUid === undefined ? undefined : live.get(token.nodeClaimUid);
    const subject = `Secret kube-system/${token.name}`;
    if (!claim) violations.push({ kind: 'leaked-token', subject, detail: `its NodeClaim (uid ${token.nodeClaimUid ?? 'none'}) is gone` });
    // The token is deleted once the node has joined: a copy in the user data must not stay valid.
    else if (isTrue(claim, 'Registered')) violations.push({ kind: 'leaked-token', subject, detail: `NodeClaim ${claim.name} registered and its bootstrap token still exists` });
  }

  // A Node of ours whose NodeClaim is gone: its server is gone too, so it can only be a leftover object
  // that keeps the scheduler (and the planner's view of free room) wrong.
  const claimProviderIds = new Set(listing.nodeClaims.flatMap((c) => (c.providerID ? [c.providerID] : [])));
  const claimNames = new Set(listing.nodeClaims.map((c) => c.name));
  for (const node of listing.nodes) {
    if (!node.providerID?.startsWith('scaleway://')) continue;
    if (!claimProviderIds.has(node.providerID) && !claimNames.has(node.name)) {
      violations.push({ kind: 'leaked-node', subject: `Node ${node.name} (${node.providerID})`, detail: 'no NodeClaim has its providerID or name' });
    }
  }

  for (const claim of listing.nodeClaims) {
    const subject = `NodeClaim ${claim.name} (uid ${claim.uid})`;
    if (claim.deletingSince !== undefined) {
      const for_ = listing.now - claim.deletingSince;
      if (for_ > deadlines.deletionMs) violations.push({ kind: 'stuck-nodeclaim', subject, detail: `being deleted for ${Math.round(for_ / 1000)} s (limit ${deadlines.deletionMs / 1000} s)${conditionSummary(claim)}` });
    } else if (!isTrue(claim, 'Ready')) {
      const age = listing.now - claim.createdAt;
      if (age > deadlines.readyMs) violations.push({ kind: 'stuck-nodeclaim', subject, detail: `not Ready after ${Math.round(age / 1000)} s (limit ${deadlines.readyMs / 1000} s)${conditionSummary(claim)}` });
    }
  }

  // A failed workflow must have told the user: a False condition with a reason on its NodeClaim, or a Warning Event.
  const claimsByUid = new Map(listing.nodeClaims.map((claim) => [claim.uid, claim]));
  for (const workflow of listing.workflows) {
    if (!FAILED.has(workflow.status)) continue;
    const match = WORKFLOW_ID.exec(workflow.workflowId);
    if (!match) continue;
    const [, , name, uid] = match;
    const claim = uid === undefined ? undefined : claimsByUid.get(uid);
    const told = (claim?.conditions.some((c) => c.status === 'False' && Boolean(c.reason)) ?? false)
      || listing.events.some((e) => e.type === 'Warning' && e.involvedKind === 'NodeClaim' && (e.involvedUid === uid || (e.involvedUid === undefined && e.involvedName === name)));
    if (!told) {
      violations.push({ kind: 'silent-failure', subject: `workflow ${workflow.workflowId} run ${workflow.runId}`, detail: `${workflow.status.toLowerCase()} with no False condition on the NodeClaim and no Warning Event` });
    }
  }
  return violations;
}

function conditionSummary(claim: NodeClaimFacts): string {
  const shown = claim.conditions.filter((c) => c.status !== 'True').map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`);
  return shown.length > 0 ? `; ${shown.join(', ')}` : '';
}

/** Counts per kind, every kind present (zeros included) for the figures. */
export function countViolations(violations: readonly Violation[]): Record<ViolationKind, number> {
  const counts: Record<ViolationKind, number> = { 'leaked-server': 0, 'leaked-volume': 0, 'leaked-token': 0, 'leaked-node': 0, 'duplicate-server': 0, 'stuck-nodeclaim': 0, 'silent-failure': 0 };
  for (const violation of violations) counts[violation.kind] += 1;
  return counts;
}
