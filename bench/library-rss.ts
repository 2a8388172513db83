// The RSS each process starts from: Node with the process's compiled modules
// loaded and nothing run, after garbage collection. It is the floor under the
// worker's and the watcher's figures in the side-by-side benchmark (they add
// their caches, connections and in-flight work on top of it), measured the way
// the image runs them (bench/karpenter/production-build.ts, NODE_ENV=production).
//
//   npm run bench:library-rss [-- --runs 3]
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { buildProduction } from './karpenter/production-build.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Math.max(1, Number(args.runs));

/** What each process imports before it does anything (its entry point's static imports, without the entry point's side effects). */
const PROCESSES: Record<string, { modules: string[]; packages: string[] }> = {
  'bare Node': { modules: [], packages: [] },
  watcher: {
    modules: ['watcher/watcher.js', 'watcher/leader-election.js', 'runtime/observability-server.js', 'runtime/temporal-connection.js', 'runtime/payload-codec.js', 'kube/rest.js', 'kube/credentials.js', 'scaleway/cloud.js'],
    // Loaded on the first watch (kube/watch-config.ts): every watcher that leads has it.
    packages: ['undici'],
  },
  worker: {
    modules: ['worker/worker.js', 'runtime/temporal-runtime.js', 'runtime/observability-server.js', 'kube/rest.js', 'kube/credentials.js', 'scaleway/cloud.js'],
    packages: [],
  },
};

function measure(dist: string, modules: string[], packages: string[]): { rss: number; heap: number } {
  const imports = [...modules.map((m) => pathToFileURL(join(dist, m)).href), ...packages];
  const script = `
    for (const m of ${JSON.stringify(imports)}) await import(m);
    for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 200)); }
    const u = process.memoryUsage();
    console.log(JSON.stringify({ rss: u.rss, heap: u.heapUsed }));`;
  // Packages resolve from the repository's node_modules, as the compiled processes' do.
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: join(dist, '..'), env: { ...process.env, NODE_ENV: 'production' }, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { rss: number; heap: number };
}

const build = buildProduction();
const mib = (bytes: number): string => (bytes / 1048576).toFixed(0);
console.log(`\nNode ${process.version}, ${runs} run(s) each, median\n`);
console.log('| process | RSS MiB | V8 heap used MiB |');
console.log('|---|---|---|');
for (const [name, { modules, packages }] of Object.entries(PROCESSES)) {
  const samples = Array.from({ length: runs }, () => measure(build.dist, modules, packages)).sort((a, b) => a.rss - b.rss);
  const median = samples[Math.floor(samples.length / 2)] as { rss: number; heap: number };
  console.log(`| ${name} | ${mib(median.rss)} | ${mib(median.heap)} |`);
}
