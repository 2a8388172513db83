// The Markdown report of the side-by-side benchmark: per burst size, ours against
// Karpenter with both figures and the ratio ours/Karpenter; where ours spends the time
// to the create call, stage by stage, and which stage holds each missed target; what one
// provisioning costs (workflow tasks, history, activities, Scaleway and apiserver calls);
// and the mixed scenarios' fleet €/hour against Karpenter's and the exact optimum.
import { cpus, totalmem } from 'node:os';
import type { RoundResult } from './round.ts';
import { pct, sec, sortedCopy } from '../stats.ts';

export type ScenarioOptimum = { scenario: string } & ({ eurPerHour: number; types: string } | { error: string });

export interface ReportInput {
  command: string;
  karpenterVersion: string;
  buildSeconds: number | undefined;
  stack: string;
  persist: boolean;
  results: RoundResult[];
  optima: ScenarioOptimum[];
  failures: string[];
  startedAt: Date;
}

const OPTIMUM_TARGET = 1.02;
const mib = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / 2 ** 20).toFixed(0) : 'n/a');
const peak = (xs: number[]): number => (xs.length ? Math.max(...xs) : NaN);
const ratio = (ours: number, theirs: number): string => (Number.isFinite(ours) && Number.isFinite(theirs) && theirs > 0 ? (ours / theirs).toFixed(2) : 'n/a');
const pooled = (rs: RoundResult[], pick: (r: RoundResult) => number[] | undefined): number[] => sortedCopy(rs.flatMap((r) => pick(r) ?? []));
const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const fixed = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

interface SideSummary {
  rounds: number;
  claimP50: number; claimP99: number;
  createP50: number; createP99: number;
  providerIdP50: number; providerIdP99: number;
  nodeClaims: number; fleet: number; types: string;
  neverNominated: number; exact: number; bySlot: number;
  rss: number; cpu: number; temporalRss: number; temporalCpu: number;
  incomplete: number;
}

function summarize(rs: RoundResult[]): SideSummary {
  const claim = pooled(rs, (r) => r.toClaim);
  const create = pooled(rs, (r) => r.toCreate);
  const pid = pooled(rs, (r) => r.toProviderId);
  return {
    rounds: rs.length,
    claimP50: pct(claim, 50), claimP99: pct(claim, 99),
    createP50: pct(create, 50), createP99: pct(create, 99),
    providerIdP50: pct(pid, 50), providerIdP99: pct(pid, 99),
    nodeClaims: mean(rs.map((r) => r.nodeClaims)),
    fleet: mean(rs.map((r) => r.fleetEurPerHour)),
    types: [...new Set(rs.map((r) => r.instanceTypes))].join(' / '),
    neverNominated: rs.reduce((s, r) => s + r.neverNominated, 0),
    exact: rs.reduce((s, r) => s + r.mappedExactly, 0),
    bySlot: rs.reduce((s, r) => s + r.mappedBySlot, 0),
    rss: peak(rs.map((r) => r.peakRssBytes)),
    cpu: mean(rs.map((r) => r.cpuSeconds)),
    temporalRss: peak(rs.map((r) => r.temporalPeakRssBytes)),
    temporalCpu: mean(rs.map((r) => r.temporalCpuSeconds)),
    incomplete: rs.filter((r) => !r.completed).length,
  };
}

const STAGES = [
  ['toClaim', 'batching + planning + NodeClaim POST (Unschedulable → NodeClaim seen)'],
  ['claimToStart', 'workflow start (NodeClaim seen → WorkflowExecutionStarted)'],
  ['startToFirstTask', 'first task (WorkflowExecutionStarted → first WorkflowTaskStarted)'],
  ['firstTaskToCreate', 'local activities (first WorkflowTaskStarted → createServer arrives)'],
] as const;
type StageKey = (typeof STAGES)[number][0];

interface StageSummary {
  pods: number;
  p50: Record<StageKey, number>;
  p99: Record<StageKey, number>;
}

function stageSummary(rs: RoundResult[]): StageSummary {
  const p50 = {} as Record<StageKey, number>;
  const p99 = {} as Record<StageKey, number>;
  for (const [key] of STAGES) {
    const xs = pooled(rs, (r) => r.stages?.[key]);
    p50[key] = pct(xs, 50);
    p99[key] = pct(xs, 99);
  }
  return { pods: pooled(rs, (r) => r.stages?.toClaim).length, p50, p99 };
}

/** The stage with the largest figure among `keys`, as "name (x s)". */
function largest(figures: Record<StageKey, number>, keys: readonly StageKey[]): string {
  const best = [...keys].sort((a, b) => (figures[b] || 0) - (figures[a] || 0))[0] ?? 'toClaim';
  return `${STAGES.find(([k]) => k === best)?.[1] ?? best}, ${sec(figures[best])} s`;
}

/** Plain sentences: which stage holds each target missed at this size. */
function holders(n: number, k: SideSummary, o: SideSummary, st: StageSummary): string[] {
  const out: string[] = [];
  const after: StageKey[] = ['claimToStart', 'startToFirstTask', 'firstTaskToCreate'];
  const writes = `ours wrote ${fixed(o.nodeClaims, 0)} NodeClaims to Karpenter's ${fixed(k.nodeClaims, 0)}`;
  if (o.claimP50 > k.claimP50) out.push(`${n} pods, NodeClaim p50 (${sec(o.claimP50)} vs ${sec(k.claimP50)} s, +${sec(o.claimP50 - k.claimP50)} s): held by batching + planning + NodeClaim POSTs, the one stage before the NodeClaim (${writes}).`);
  if (o.claimP99 > k.claimP99) out.push(`${n} pods, NodeClaim p99 (${sec(o.claimP99)} vs ${sec(k.claimP99)} s, +${sec(o.claimP99 - k.claimP99)} s): held by batching + planning + NodeClaim POSTs (${writes}).`);
  const kAfter50 = k.createP50 - k.claimP50;
  const kAfter99 = k.createP99 - k.claimP99;
  if (o.createP50 > k.createP50 + 500) {
    out.push(`${n} pods, create call p50 (${sec(o.createP50)} vs ${sec(k.createP50)} + 0.5 s, over by ${sec(o.createP50 - k.createP50 - 500)} s): ours's stage p50s are ${STAGES.map(([key]) => `${sec(st.p50[key])}`).join(' + ')} s (${STAGES.map(([, what]) => what.split(' (')[0]).join(', ')}); Karpenter takes ${sec(k.claimP50)} s to its NodeClaim and ${sec(kAfter50)} s more to its providerID. Largest after the NodeClaim: ${largest(st.p50, after)}.`);
  }
  if (o.createP99 > 1.5 * k.createP99) {
    out.push(`${n} pods, create call p99 (${sec(o.createP99)} vs 1.5 × ${sec(k.createP99)} s): ours's stage p99s are ${STAGES.map(([key]) => sec(st.p99[key])).join(' / ')} s; Karpenter's ${sec(k.claimP99)} s to the NodeClaim, ${sec(kAfter99)} s more to its providerID. Largest: ${largest(st.p99, STAGES.map(([key]) => key))}.`);
  }
  return out;
}

interface ProvisioningSummary {
  claims: number;
  read: number;
  tasks: number; events: number; bytes: number; activities: number; localActivities: number;
  signals: number; timersFired: number; running: number;
  /** Activities by type per NodeClaim, most first. */
  activityTypes: string;
  scalewayPerClaim: number;
  workerPerClaim: number; watcherPerClaim: number;
  karpenterPerClaim: number;
  byKind: string;
}

/** Activities by type, per NodeClaim with a history, most first: `checkNodeInitialization 2.1, ...`. */
function perClaimByType(ours: RoundResult[]): string {
  const read = sum(ours.map((r) => r.workflows?.read ?? 0));
  const types = new Map<string, number>();
  for (const r of ours) for (const [type, n] of Object.entries(r.workflows?.activityTypes ?? {})) types.set(type, (types.get(type) ?? 0) + n);
  return read === 0 ? '' : [...types].sort((a, b) => b[1] - a[1]).map(([type, n]) => `${type} ${fixed(n / read, 2)}`).join(', ');
}

function provisioningSummary(ours: RoundResult[], theirs: RoundResult[]): ProvisioningSummary {
  const claims = sum(ours.map((r) => r.nodeClaims));
  const wf = (pick: (w: NonNullable<RoundResult['workflows']>) => number[]): number => mean(ours.flatMap((r) => (r.workflows ? pick(r.workflows) : [])));
  const kinds = new Map<string, number>();
  for (const r of ours) for (const [kind, c] of Object.entries(r.scalewayByKind)) kinds.set(kind, (kinds.get(kind) ?? 0) + c);
  const theirClaims = sum(theirs.map((r) => r.nodeClaims));
  return {
    claims,
    read: sum(ours.map((r) => r.workflows?.read ?? 0)),
    tasks: wf((w) => w.workflowTasks), events: wf((w) => w.events), bytes: wf((w) => w.bytes),
    activities: wf((w) => w.activities), localActivities: wf((w) => w.localActivities),
    signals: wf((w) => w.signals), timersFired: wf((w) => w.timersFired),
    running: sum(ours.map((r) => r.workflows?.running ?? 0)),
    activityTypes: perClaimByType(ours),
    scalewayPerClaim: sum(ours.map((r) => r.scalewayCalls)) / claims,
    workerPerClaim: sum(ours.map((r) => r.apiserverCalls.worker)) / claims,
    watcherPerClaim: sum(ours.map((r) => r.apiserverCalls.watcher)) / claims,
    karpenterPerClaim: sum(theirs.map((r) => r.apiserverCalls.karpenter)) / theirClaims,
    byKind: [...kinds].sort((a, b) => b[1] - a[1]).map(([kind, c]) => `${kind} ${(c / claims).toFixed(2)}`).join(', '),
  };
}

export function renderReport(input: ReportInput): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const bursts = input.results.filter((r) => r.kind === 'burst');
  const sizes = [...new Set(bursts.map((r) => r.pods))].sort((a, b) => a - b);
  const summaries = sizes.map((n) => {
    const ks = bursts.filter((r) => r.pods === n && r.side === 'karpenter');
    const os = bursts.filter((r) => r.pods === n && r.side === 'ours');
    return { n, ks, os, k: summarize(ks), o: summarize(os), st: stageSummary(os), prov: provisioningSummary(os, ks) };
  });
  const both = (k: SideSummary, o: SideSummary): boolean => k.rounds > 0 && o.rounds > 0;
  const missed = summaries.flatMap(({ n, k, o, st }) => (both(k, o) ? holders(n, k, o, st) : []));

  const scenarioNames = [...new Set(input.results.filter((r) => r.kind === 'scenario').map((r) => r.workload))];
  const scenarioRows = scenarioNames.map((name) => {
    const k = input.results.find((r) => r.workload === name && r.side === 'karpenter');
    const o = input.results.find((r) => r.workload === name && r.side === 'ours');
    const opt = input.optima.find((x) => x.scenario === name);
    const optimum = opt && 'eurPerHour' in opt ? opt.eurPerHour : NaN;
    return { name, k, o, opt, optimum };
  });
  const mark = (b: boolean | undefined): string => (b === undefined ? '–' : b ? '✓' : '✗');
  const EPS = 1e-9;

  const lines = [
    '# Side by side: scw-karpenter and Karpenter on one control plane',
    '',
    `Date: ${input.startedAt.toISOString()}. Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}. Temporal dev server: ${input.persist ? 'persisting to SQLite (as npm start runs it)' : 'in memory'}.`,
    `Command: \`${input.command}\`. Karpenter ${input.karpenterVersion} (sigs.k8s.io/karpenter/kwok, built by tools/install-karpenter-kwok.sh${input.buildSeconds ? `, ${input.buildSeconds} s to build here` : ''}).`,
    '',
    input.stack,
    '',
    '## Bursts: ratios ours / Karpenter',
    '',
    'Latencies pooled over the rounds of a size (p50 / p99 of every pod); NodeClaims and €/hour are means per burst; peak RSS the highest of the rounds; CPU seconds the mean per burst.',
    '',
    '| pods | Unschedulable → NodeClaim p50 | p99 | Unschedulable → create call p50 | p99 | fleet €/hour | NodeClaims | peak RSS | CPU s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...summaries.map(({ n, k, o }) => `| ${n} | ${ratio(o.claimP50, k.claimP50)} (${sec(o.claimP50)} / ${sec(k.claimP50)} s) | ${ratio(o.claimP99, k.claimP99)} (${sec(o.claimP99)} / ${sec(k.claimP99)} s) | ${ratio(o.createP50, k.createP50)} (${sec(o.createP50)} / ${sec(k.createP50)} s) | ${ratio(o.createP99, k.createP99)} (${sec(o.createP99)} / ${sec(k.createP99)} s) | ${ratio(o.fleet, k.fleet)} (${fixed(o.fleet, 2)} / ${fixed(k.fleet, 2)}) | ${fixed(o.nodeClaims, 0)} / ${fixed(k.nodeClaims, 0)} | ${ratio(o.rss, k.rss)} (${mib(o.rss)} / ${mib(k.rss)} MiB) | ${ratio(o.cpu, k.cpu)} (${fixed(o.cpu)} / ${fixed(k.cpu)}) |`),
    '',
    'Targets of issue 10 (ours against Karpenter): €/hour ≤ 1.00×; to NodeClaim p50 and p99 ≤ 1.00×; to create call p50 ≤ Karpenter + 0.5 s, p99 ≤ 1.5×; watcher + worker peak RSS ≤ 1.00× at 1000 pods (marked at every size).',
    '',
    '| pods | €/h ≤ 1× | NodeClaim p50 ≤ 1× | NodeClaim p99 ≤ 1× | create p50 ≤ K + 0.5 s | create p99 ≤ 1.5× | RSS ≤ 1× |',
    '|---|---|---|---|---|---|---|',
    ...summaries.map(({ n, k, o }) => {
      // A side without a finished round has nothing to compare: no mark.
      const ok = (b: boolean): string => mark(both(k, o) ? b : undefined);
      return `| ${n} | ${ok(o.fleet <= k.fleet)} | ${ok(o.claimP50 <= k.claimP50)} | ${ok(o.claimP99 <= k.claimP99)} | ${ok(o.createP50 <= k.createP50 + 500)} | ${ok(o.createP99 <= 1.5 * k.createP99)} | ${ok(o.rss <= k.rss)} |`;
    }),
    '',
    '## Where ours spends the time to the create call',
    '',
    'Per pod, the path from Unschedulable to its NodeClaim\'s createServer call, in four stages. The NodeClaim is as this process\'s watch saw it; the workflow\'s start and first task are the eventTime of WorkflowExecutionStarted and of the first WorkflowTaskStarted in its history, read from Temporal after the round (same machine, same clock); the create call is its arrival at the recording proxy. Each stage\'s p50 and p99 are over the pods on their own, so they do not add up to the total\'s exactly. A workflow start below 0 is one that began before this process\'s watch saw its NodeClaim (the watch trails the POST by a few tens of ms).',
    '',
    `| pods | pods with a history | ${STAGES.map(([, what]) => what.split(' (')[0]).join(' p50 / p99 s | ')} p50 / p99 s | total to create p50 / p99 s |`,
    `|---|---|${STAGES.map(() => '---|').join('')}---|`,
    ...summaries.filter(({ o }) => o.rounds > 0).map(({ n, o, st }) => `| ${n} | ${st.pods} | ${STAGES.map(([key]) => `${sec(st.p50[key])} / ${sec(st.p99[key])}`).join(' | ')} | ${sec(o.createP50)} / ${sec(o.createP99)} |`),
    '',
    missed.length ? 'Which stage holds each missed target:' : (summaries.some(({ k, o }) => both(k, o)) ? 'No latency target missed.' : ''),
    '',
    ...missed.map((m) => `- ${m}`),
    '',
    '## One provisioning, in figures',
    '',
    'Ours, per NodeClaim of the bursts: its provisioning workflow\'s history when it was read, just after the round (every NodeClaim launched; a workflow still running waits on its node and adds a few events later): workflow tasks run, events, bytes (the history\'s protobuf encoding, what the store writes and a replay reads), activities scheduled and local activities (markers). Scaleway: the product SDK\'s calls through the recording proxy in the round\'s window, over its NodeClaims. Apiserver: requests of the worker\'s and the watcher\'s ServiceAccounts (API Priority and Fairness counts per FlowSchema, bench/karpenter/apiserver-calls.ts) over the NodeClaims, watches and list reads of the window included; Karpenter\'s from its client-go counter (client_go_request_total), over its NodeClaims.',
    '',
    '| pods | NodeClaims (histories read) | workflow tasks | history events | history KiB | activities | local activities | Scaleway calls | apiserver calls: worker + watcher | Karpenter apiserver calls per NodeClaim | Scaleway calls by kind, per NodeClaim |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...summaries.filter(({ o }) => o.rounds > 0).map(({ n, prov: p }) => `| ${n} | ${p.claims} (${p.read}) | ${fixed(p.tasks)} | ${fixed(p.events)} | ${fixed(p.bytes / 1024)} | ${fixed(p.activities)} | ${fixed(p.localActivities)} | ${fixed(p.scalewayPerClaim, 2)} | ${fixed(p.workerPerClaim)} + ${fixed(p.watcherPerClaim)} = ${fixed(p.workerPerClaim + p.watcherPerClaim)} | ${fixed(p.karpenterPerClaim)} | ${p.byKind} |`),
    '',
    'What woke the workflows, per NodeClaim with a history: signals (the watcher\'s Node signals), timers fired (a periodic check that ran out, or a backoff), the histories still running when read, and the activities (not local) scheduled, by type.',
    '',
    '| pods | signals | timers fired | still running | activities by type, per NodeClaim |',
    '|---|---|---|---|---|',
    ...summaries.filter(({ o }) => o.rounds > 0).map(({ n, prov: p }) => `| ${n} | ${fixed(p.signals)} | ${fixed(p.timersFired)} | ${p.running} of ${p.read} | ${p.activityTypes} |`),
    '',
    '## Mixed scenarios: fleet €/hour',
    '',
    `One round per side per scenario (bench/karpenter/workloads.ts), each pod selecting its side's NodePool. Optimum: the planner with the exact solver (watcher/provisioner/optimum.ts, as bench/cost-optimality.ts runs it) on the same offers, our NodePool and NodeClass, and the scenario's DaemonSet overhead. Targets: ours ≤ Karpenter's, and ≤ ${OPTIMUM_TARGET} × the optimum.`,
    '',
    '| scenario | pods | ours €/h | Karpenter €/h | optimum €/h | ours / Karpenter | ours / optimum | ≤ K | ≤ 1.02 × opt | ours: NodeClaims (types) | Karpenter: NodeClaims (types) | optimum types | never nominated ours / K |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...scenarioRows.map(({ name, k, o, opt, optimum }) => `| ${name} | ${o?.pods ?? k?.pods ?? ''} | ${o ? o.fleetEurPerHour.toFixed(3) : 'n/a'} | ${k ? k.fleetEurPerHour.toFixed(3) : 'n/a'} | ${Number.isFinite(optimum) ? optimum.toFixed(3) : `n/a${opt && 'error' in opt ? ` (${opt.error})` : ''}`} | ${o && k ? ratio(o.fleetEurPerHour, k.fleetEurPerHour) : 'n/a'} | ${o ? ratio(o.fleetEurPerHour, optimum) : 'n/a'} | ${mark(o && k ? o.fleetEurPerHour <= k.fleetEurPerHour + EPS : undefined)} | ${mark(o && Number.isFinite(optimum) ? o.fleetEurPerHour <= OPTIMUM_TARGET * optimum + EPS : undefined)} | ${o ? `${o.nodeClaims} (${o.instanceTypes})` : ''} | ${k ? `${k.nodeClaims} (${k.instanceTypes})` : ''} | ${opt && 'types' in opt ? opt.types : ''} | ${o?.neverNominated ?? ''} / ${k?.neverNominated ?? ''} |`),
    '',
    ...scenarioRows.map(({ name, o, k }) => [o, k].filter((r) => r && !r.completed).map((r) => `- ${name}, ${r?.side}: ${r?.note}`)).flat(),
    '',
    '## Per side, bursts',
    '',
    '| pods | side | rounds | → NodeClaim p50 / p99 s | → create call p50 / p99 s | ours: → providerID p50 / p99 s | NodeClaims | fleet €/h | types | pods never nominated | pods mapped exactly / by slot | peak RSS MiB | CPU s | Temporal peak RSS MiB / CPU s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...summaries.flatMap(({ n, k, o }) => [
      ['Karpenter', k] as const, ['scw-karpenter', o] as const,
    ].filter(([, s]) => s.rounds > 0).map(([name, s]) => `| ${n} | ${name} | ${s.rounds}${s.incomplete ? ` (${s.incomplete} incomplete)` : ''} | ${sec(s.claimP50)} / ${sec(s.claimP99)} | ${sec(s.createP50)} / ${sec(s.createP99)} | ${name === 'Karpenter' ? '=' : `${sec(s.providerIdP50)} / ${sec(s.providerIdP99)}`} | ${fixed(s.nodeClaims, 0)} | ${fixed(s.fleet, 3)} | ${s.types} | ${s.neverNominated} | ${s.exact} / ${s.bySlot} | ${mib(s.rss)} | ${fixed(s.cpu)} | ${mib(s.temporalRss)} / ${fixed(s.temporalCpu)} |`)),
    '',
    '## Rounds, in the order they ran',
    '',
    '| # | side | workload | pods | wall s | → NodeClaim p50 / p99 s | → create p50 / p99 s | NodeClaims | €/h | peak RSS MiB | CPU s | note |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...input.results.map((r, i) => `| ${i + 1} | ${r.side} | ${r.kind === 'burst' ? 'burst' : r.workload} | ${r.pods} | ${r.wallSeconds.toFixed(1)} | ${sec(pct(r.toClaim, 50))} / ${sec(pct(r.toClaim, 99))} | ${sec(pct(r.toCreate, 50))} / ${sec(pct(r.toCreate, 99))} | ${r.nodeClaims} | ${r.fleetEurPerHour.toFixed(3)} | ${mib(r.peakRssBytes)}${r.peakRssEach ? ` (${r.peakRssEach})` : ''} | ${r.cpuSeconds.toFixed(1)} | ${r.note} |`),
    '',
    ...input.failures.map((f) => `- ${f}`),
    '',
  ];
  return lines.join('\n');
}
