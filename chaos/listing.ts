// Reads what exists at the end of a run, for chaos/checks.ts: the simulator's
// servers and SBS volumes in every zone, the product's bootstrap tokens, the
// NodeClaims, every workflow execution and every Event.
import type { Client } from '@temporalio/client';
import type { KubeRest } from '../kube/rest.ts';
import { clusterPath } from '../kube/objects.ts';
import { NODECLAIM_GVR } from '../kube/api/constants.ts';
import { NODECLAIM_UID_LABEL } from '../bootstrap/kubeadm-token.ts';
import type { Simulator } from '../scaleway/simulator/index.ts';
import type { EventFacts, Listing, NodeClaimFacts, NodeFacts, ServerFacts, TokenFacts, VolumeFacts, WorkflowFacts } from './checks.ts';

interface RawNodeClaim {
  metadata: { name: string; uid: string; creationTimestamp?: string; deletionTimestamp?: string };
  status?: { providerID?: string; conditions?: { type: string; status: string; reason?: string }[] };
}

interface RawSecret {
  metadata: { name: string; labels?: Record<string, string> };
}

interface RawEvent {
  involvedObject: { kind?: string; name?: string; uid?: string };
  type?: string;
  reason?: string;
  message?: string;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

export function readCloud(sim: Simulator): { servers: ServerFacts[]; volumes: VolumeFacts[] } {
  // Without a zone: every zone the simulator serves.
  const servers = sim.servers().map((s) => ({
    id: text(s.id),
    zone: text(s.zone),
    name: text(s.name),
    state: text(s.state),
    tags: Array.isArray(s.tags) ? s.tags.map(text) : [],
  }));
  const volumes = sim.volumes().map((v) => ({ id: text(v.id), zone: text(v.zone), name: text(v.name), status: text(v.status) }));
  return { servers, volumes };
}

export function nodeClaimFacts(raw: RawNodeClaim): NodeClaimFacts {
  return {
    name: raw.metadata.name,
    uid: raw.metadata.uid,
    providerID: raw.status?.providerID,
    createdAt: Date.parse(raw.metadata.creationTimestamp ?? '') || Date.now(),
    deletingSince: raw.metadata.deletionTimestamp ? Date.parse(raw.metadata.deletionTimestamp) : undefined,
    conditions: (raw.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason })),
  };
}

export async function readNodeClaims(kube: KubeRest): Promise<NodeClaimFacts[]> {
  const list = await kube.get<{ items: RawNodeClaim[] }>(clusterPath(NODECLAIM_GVR));
  return list.items.map(nodeClaimFacts);
}

export async function readNodes(kube: KubeRest): Promise<NodeFacts[]> {
  const list = await kube.get<{ items: { metadata: { name: string }; spec?: { providerID?: string } }[] }>('/api/v1/nodes');
  return list.items.map((n) => ({ name: n.metadata.name, providerID: n.spec?.providerID }));
}

export async function readTokens(kube: KubeRest): Promise<TokenFacts[]> {
  const list = await kube.get<{ items: RawSecret[] }>(`/api/v1/namespaces/kube-system/secrets?fieldSelector=${encodeURIComponent('type=bootstrap.kubernetes.io/token')}`);
  return list.items.map((s) => ({ name: s.metadata.name, nodeClaimUid: s.metadata.labels?.[NODECLAIM_UID_LABEL] }));
}

export async function readEvents(kube: KubeRest): Promise<{ facts: EventFacts[]; text: string }> {
  const list = await kube.get<{ items: RawEvent[] }>('/api/v1/events');
  const facts = list.items.map((e) => ({
    involvedKind: e.involvedObject.kind ?? '',
    involvedName: e.involvedObject.name ?? '',
    involvedUid: e.involvedObject.uid,
    type: e.type ?? '',
    reason: e.reason ?? '',
  }));
  return { facts, text: JSON.stringify(list.items) };
}

export async function readWorkflows(client: Client): Promise<WorkflowFacts[]> {
  const out: WorkflowFacts[] = [];
  for await (const execution of client.workflow.list()) {
    out.push({ workflowId: execution.workflowId, runId: execution.runId, status: execution.status.name });
  }
  return out;
}

export async function readListing(opts: { sim: Simulator; kube: KubeRest; client: Client; clusterName: string }): Promise<{ listing: Listing; eventsText: string }> {
  const { servers, volumes } = readCloud(opts.sim);
  const [nodeClaims, nodes, tokens, events, workflows] = await Promise.all([readNodeClaims(opts.kube), readNodes(opts.kube), readTokens(opts.kube), readEvents(opts.kube), readWorkflows(opts.client)]);
  return {
    listing: { clusterName: opts.clusterName, now: Date.now(), servers, volumes, tokens, nodeClaims, nodes, workflows, events: events.facts },
    eventsText: events.text,
  };
}
