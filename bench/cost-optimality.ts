// Fleet €/hour of the planner against the exact optimum on small scenarios.
// Run: npm exec tsx bench/cost-optimality.ts   (writes bench/results/cost-optimality.md)
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { plan } from '../watcher/provisioner/planner.ts';
import { optimalPacking } from '../watcher/provisioner/optimum.ts';
import { SCENARIOS } from './scenarios/index.ts';

const TARGET = 1.02;
const rows: string[] = [];
let worst = 0;
for (const s of SCENARIOS) {
  const t0 = performance.now();
  const heuristic = plan(s.input);
  const ms = performance.now() - t0;
  const t1 = performance.now();
  const exact = plan(s.input, { solver: optimalPacking });
  const exactMs = performance.now() - t1;
  const ratio = heuristic.hourlyPriceEur / exact.hourlyPriceEur;
  worst = Math.max(worst, ratio);
  const types = (p: typeof heuristic): string => p.nodeClaims.map((n) => n.offering.commercialType).sort().join(' + ');
  const errors = heuristic.podErrors.length;
  console.log(`${s.name.padEnd(28)} planner €${heuristic.hourlyPriceEur.toFixed(4)}/h  optimum €${exact.hourlyPriceEur.toFixed(4)}/h  ratio ${ratio.toFixed(4)}  planner ${ms.toFixed(1)} ms  exact ${exactMs.toFixed(1)} ms${errors ? `  (${errors} pod errors)` : ''}`);
  console.log(`  planner: ${types(heuristic)}`);
  console.log(`  optimum: ${types(exact)}`);
  rows.push(`| ${s.name} | ${s.description} | ${heuristic.hourlyPriceEur.toFixed(4)} | ${exact.hourlyPriceEur.toFixed(4)} | ${ratio.toFixed(4)} | ${ms.toFixed(1)} | ${exactMs.toFixed(1)} | ${types(heuristic)} |`);
}
const md = [
  '# Fleet €/hour: planner vs exact optimum',
  '',
  'Recorded catalog (scaleway/catalog/catalog.json), shortage offers excluded. Rerun: `npm exec tsx bench/cost-optimality.ts`.',
  `Target: ratio ≤ ${TARGET}. Worst ratio: ${worst.toFixed(4)}.`,
  '',
  '| scenario | pods | planner €/h | optimum €/h | ratio | planner ms | exact ms | planner types |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/cost-optimality.md', import.meta.url), md);
console.log(`worst ratio ${worst.toFixed(4)} (target ≤ ${TARGET}); wrote bench/results/cost-optimality.md`);
if (worst > TARGET) process.exitCode = 1;
