// What one call into workflow code costs the worker's workflow thread. The
// SDK runs workflow code in a V8 context (node:vm) and passes a timeout on
// every call in (its deadlock detector, 5 s), and Node starts a watchdog
// thread for each call that has one. An activation is at least three calls
// (activate, unblock conditions, conclude) and a provisioning about ten
// activations, so this is the cost that bounds how many provisionings one
// workflow thread moves a second, and it grows with the machine's load (a
// thread has to be scheduled for each call). Both figures are measured side
// by side in one run: run it idle and under load to see the spread.
//
// Run: npm run bench:workflow-call [-- --calls 5000 --rounds 3]
import vm from 'node:vm';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const { values: args } = parseArgs({ options: { calls: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '3' } } });
const calls = Number(args.calls);
const rounds = Number(args.rounds);

// As the SDK's reusable context: one context, microtasks run after each evaluation.
const context = vm.createContext({}, { microtaskMode: 'afterEvaluate' });
const script = new vm.Script('globalThis.n = (globalThis.n ?? 0) + 1');

function measure(timeout: number | undefined): { wallUs: number; cpuUs: number } {
  const options = timeout === undefined ? {} : { timeout };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) script.runInContext(context, options);
  const wallUs = ((performance.now() - t0) * 1000) / calls;
  const cpu = process.cpuUsage(cpu0);
  return { wallUs, cpuUs: (cpu.user + cpu.system) / calls };
}

console.log(`${calls} calls into one V8 context per figure, ${rounds} rounds, alternating`);
console.log('| round | no timeout: wall µs / CPU µs per call | 5 s timeout (the SDK\'s): wall µs / CPU µs per call | ratio (wall) |');
console.log('|---|---|---|---|');
for (let r = 1; r <= rounds; r++) {
  const plain = measure(undefined);
  const watched = measure(5_000);
  console.log(`| ${r} | ${plain.wallUs.toFixed(1)} / ${plain.cpuUs.toFixed(1)} | ${watched.wallUs.toFixed(1)} / ${watched.cpuUs.toFixed(1)} | ${(watched.wallUs / plain.wallUs).toFixed(0)}× |`);
}
