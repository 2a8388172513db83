// `npm run chaos -- --provisionings N --seed S`: N provisionings on the real
// stack with processes killed and faults injected, all from one seed, then
// the invariants. Exits 0 when none is broken, 1 on a violation, 2 when the
// run itself could not be carried out.
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CHAOS_FAULT_KINDS, type ChaosFaultKind, type ChaosRates } from '../scaleway/simulator/faults.ts';
import { formatReport } from './figures.ts';
import { KUBELET_FAULT_KINDS, runChaos, type KubeletFaultKind } from './run.ts';

/** Probability per eligible call. */
export const DEFAULT_RATES: Required<ChaosRates> = {
  // Any call, the shared server-state reads and the GC's listings included.
  server_error: 0.03,
  too_many_requests: 0.01,
  connection_reset: 0.01,
  // createServer only: a short run makes about 20, so each kind comes up a few times.
  lost_create_error: 0.08,
  lost_create_drop: 0.08,
  out_of_stock: 0.1,
  quotas_exceeded: 0.05,
  // poweron; mutating server calls; terminate.
  stuck_starting: 0.15,
  locked: 0.08,
  slow_detach: 0.5,
};
export const DEFAULT_KUBELET_RATES: Record<KubeletFaultKind, number> = { never_joins: 0.07, not_ready: 0.07, no_gpu: 0.07 };

const { values: flags } = parseArgs({
  options: {
    provisionings: { type: 'string', default: '200' },
    seed: { type: 'string' },
    dir: { type: 'string' },
    'time-scale': { type: 'string', default: '0.1' },
    'launch-timeout': { type: 'string', default: '90s' },
    'registration-timeout': { type: 'string', default: '60s' },
    'initialization-timeout': { type: 'string', default: '60s' },
    'settle-max': { type: 'string', default: '300' },
    /** Overrides, e.g. --rates server_error=0.1,locked=0 (kubelet kinds too: never_joins=0). */
    rates: { type: 'string', default: '' },
    'gc-interval': { type: 'string', default: '10s' },
    'gc-grace-period': { type: 'string', default: '30s' },
    /** Keep the run folder even when the run passes. */
    keep: { type: 'boolean', default: false },
  },
});

function parseRates(text: string): { rates: ChaosRates; kubelet: Partial<Record<KubeletFaultKind, number>> } {
  const rates: ChaosRates = { ...DEFAULT_RATES };
  const kubelet: Partial<Record<KubeletFaultKind, number>> = { ...DEFAULT_KUBELET_RATES };
  for (const part of text.split(',').filter(Boolean)) {
    const [kind = '', value = ''] = part.split('=');
    const rate = Number(value);
    if (!(rate >= 0 && rate <= 1)) throw new Error(`--rates ${part}: the rate must be between 0 and 1`);
    if ((CHAOS_FAULT_KINDS as readonly string[]).includes(kind)) rates[kind as ChaosFaultKind] = rate;
    else if ((KUBELET_FAULT_KINDS as readonly string[]).includes(kind)) kubelet[kind as KubeletFaultKind] = rate;
    else throw new Error(`--rates ${part}: unknown kind (${[...CHAOS_FAULT_KINDS, ...KUBELET_FAULT_KINDS].join(', ')})`);
  }
  return { rates, kubelet };
}


const provisionings = Number(flags.provisionings);
const seed = flags.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(flags.seed);
const settleMax = Number(flags['settle-max']);
if (!Number.isInteger(provisionings) || provisionings < 1) throw new Error(`--provisionings must be a positive integer, got ${flags.provisionings}`);
if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${flags.seed}`);
if (!(settleMax > 0)) throw new Error(`--settle-max must be seconds > 0, got ${flags['settle-max']}`);
const { rates, kubelet } = parseRates(flags.rates);
const dir = flags.dir ? resolve(flags.dir) : mkdtempSync(join(tmpdir(), `scwk-chaos-${seed}-`));
mkdirSync(dir, { recursive: true });
// The plan as it happens, on the terminal and in the run folder beside the processes' logs.
const planLog = createWriteStream(join(dir, 'chaos.log'), { flags: 'a' });
const log = (line: string): void => {
  const stamped = `[chaos ${new Date().toISOString().slice(11, 23)}] ${line}`;
  console.log(stamped);
  planLog.write(`${stamped}\n`);
};
log(`seed ${seed} (rerun: npm run chaos -- --provisionings ${provisionings} --seed ${seed}); folder ${dir}`);

// A SIGTERM (a test's timeout, a Ctrl-C) ends the run at once, with every process it started stopped.
const interruption = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => interruption.abort());

try {
  const report = await runChaos({
    provisionings,
    seed,
    dir,
    timeScale: Number(flags['time-scale']),
    timeouts: { launch: flags['launch-timeout'], registration: flags['registration-timeout'], initialization: flags['initialization-timeout'] },
    settleMaxMs: settleMax * 1000,
    rates,
    kubeletRates: kubelet,
    gcInterval: flags['gc-interval'],
    gcGracePeriod: flags['gc-grace-period'],
    log,
    signal: interruption.signal,
    onInterrupted: () => {
      console.error(`[chaos] interrupted; run folder (logs): ${dir}`);
      process.exit(2);
    },
  });
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(formatReport(report));
  if (report.ok && !flags.keep && !process.env.SCWK_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  else console.log(`run folder (logs, report.json): ${dir}`);
  process.exit(report.ok ? 0 : 1);
} catch (err) {
  console.error(`[chaos] the run could not be carried out: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  console.error(`run folder (logs): ${dir}`);
  process.exit(2);
}
