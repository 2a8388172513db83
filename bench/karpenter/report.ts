// The Markdown report of the side-by-side benchmark: per burst size, ours against
// Karpenter with both figures and the ratio ours/Karpenter.
import { cpus, totalmem } from 'node:os';
import type { RoundResult } from './round.ts';
import { pct, sec, sortedCopy } from '../stats.ts';

export interface ReportInput {
  command: string;
  karpenterVersion: string;
  buildSeconds: number | undefined;
  stack: string;
  results: RoundResult[];
  failures: string[];
  startedAt: Date;
}

const mib = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / 2 ** 20).toFixed(0) : 'n/a');
const peak = (xs: number[]): number => (xs.length ? Math.max(...xs) : NaN);
const ratio = (ours: number, theirs: number): string => (Number.isFinite(ours) && Number.isFinite(theirs) && theirs > 0 ? (ours / theirs).toFixed(2) : 'n/a');
const pooled = (rs: RoundResult[], pick: (r: RoundResult) => number[]): number[] => sortedCopy(rs.flatMap(pick));
const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

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

export function renderReport(input: ReportInput): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const sizes = [...new Set(input.results.map((r) => r.pods))].sort((a, b) => a - b);
  const summaries = sizes.map((n) => ({
    n,
    k: summarize(input.results.filter((r) => r.pods === n && r.side === 'karpenter')),
    o: summarize(input.results.filter((r) => r.pods === n && r.side === 'ours')),
  }));
  const lines = [
    '# Side by side: scw-karpenter and Karpenter on one control plane',
    '',
    `Date: ${input.startedAt.toISOString()}. Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}.`,
    `Command: \`${input.command}\`. Karpenter ${input.karpenterVersion} (sigs.k8s.io/karpenter/kwok, built by tools/install-karpenter-kwok.sh${input.buildSeconds ? `, ${input.buildSeconds} s to build here` : ''}).`,
    '',
    input.stack,
    '',
    '## Ratios ours / Karpenter',
    '',
    'Latencies pooled over the rounds of a size (p50 / p99 of every pod); NodeClaims and €/hour are means per burst; peak RSS the highest of the rounds; CPU seconds the mean per burst.',
    '',
    '| pods | Unschedulable → NodeClaim p50 | p99 | Unschedulable → create call p50 | p99 | fleet €/hour | NodeClaims | peak RSS | CPU s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...summaries.map(({ n, k, o }) => `| ${n} | ${ratio(o.claimP50, k.claimP50)} (${sec(o.claimP50)} / ${sec(k.claimP50)} s) | ${ratio(o.claimP99, k.claimP99)} (${sec(o.claimP99)} / ${sec(k.claimP99)} s) | ${ratio(o.createP50, k.createP50)} (${sec(o.createP50)} / ${sec(k.createP50)} s) | ${ratio(o.createP99, k.createP99)} (${sec(o.createP99)} / ${sec(k.createP99)} s) | ${ratio(o.fleet, k.fleet)} (${o.fleet.toFixed(2)} / ${k.fleet.toFixed(2)}) | ${o.nodeClaims.toFixed(0)} / ${k.nodeClaims.toFixed(0)} | ${ratio(o.rss, k.rss)} (${mib(o.rss)} / ${mib(k.rss)} MiB) | ${ratio(o.cpu, k.cpu)} (${o.cpu.toFixed(1)} / ${k.cpu.toFixed(1)}) |`),
    '',
    'Targets of issue 10 (ours against Karpenter): €/hour ≤ 1.00×; to NodeClaim p50 and p99 ≤ 1.00×; to create call p50 ≤ Karpenter + 0.5 s, p99 ≤ 1.5×; watcher + worker peak RSS ≤ 1.00× at 1000 pods.',
    '',
    '| pods | €/h ≤ 1× | NodeClaim p50 ≤ 1× | NodeClaim p99 ≤ 1× | create p50 ≤ K + 0.5 s | create p99 ≤ 1.5× | RSS ≤ 1× |',
    '|---|---|---|---|---|---|---|',
    ...summaries.map(({ n, k, o }) => {
      // A side without a finished round has nothing to compare: no mark.
      const ok = (b: boolean): string => (o.rounds === 0 || k.rounds === 0 ? '–' : b ? '✓' : '✗');
      return `| ${n} | ${ok(o.fleet <= k.fleet)} | ${ok(o.claimP50 <= k.claimP50)} | ${ok(o.claimP99 <= k.claimP99)} | ${ok(o.createP50 <= k.createP50 + 500)} | ${ok(o.createP99 <= 1.5 * k.createP99)} | ${ok(o.rss <= k.rss)} |`;
    }),
    '',
    '## Per side',
    '',
    '| pods | side | rounds | → NodeClaim p50 / p99 s | → create call p50 / p99 s | ours: → providerID p50 / p99 s | NodeClaims | fleet €/h | types | pods never nominated | pods mapped exactly / by slot | peak RSS MiB | CPU s | Temporal peak RSS MiB / CPU s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...summaries.flatMap(({ n, k, o }) => [
      ['Karpenter', k] as const, ['scw-karpenter', o] as const,
    ].map(([name, s]) => `| ${n} | ${name} | ${s.rounds}${s.incomplete ? ` (${s.incomplete} incomplete)` : ''} | ${sec(s.claimP50)} / ${sec(s.claimP99)} | ${sec(s.createP50)} / ${sec(s.createP99)} | ${name === 'Karpenter' ? '=' : `${sec(s.providerIdP50)} / ${sec(s.providerIdP99)}`} | ${s.nodeClaims.toFixed(0)} | ${s.fleet.toFixed(3)} | ${s.types} | ${s.neverNominated} | ${s.exact} / ${s.bySlot} | ${mib(s.rss)} | ${s.cpu.toFixed(1)} | ${mib(s.temporalRss)} / ${s.temporalCpu.toFixed(1)} |`)),
    '',
    '## Rounds, in the order they ran',
    '',
    '| # | side | pods | wall s | → NodeClaim p50 / p99 s | → create p50 / p99 s | NodeClaims | €/h | peak RSS MiB | CPU s | note |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...input.results.map((r, i) => `| ${i + 1} | ${r.side} | ${r.pods} | ${r.wallSeconds.toFixed(1)} | ${sec(pct(r.toClaim, 50))} / ${sec(pct(r.toClaim, 99))} | ${sec(pct(r.toCreate, 50))} / ${sec(pct(r.toCreate, 99))} | ${r.nodeClaims} | ${r.fleetEurPerHour.toFixed(3)} | ${mib(r.peakRssBytes)} | ${r.cpuSeconds.toFixed(1)} | ${r.note} |`),
    '',
    ...input.failures.map((f) => `- ${f}`),
    '',
  ];
  return lines.join('\n');
}
