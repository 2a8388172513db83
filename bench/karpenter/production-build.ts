// Ours as production runs it, for the RSS and CPU figures: the image's entry point
// (`node dist/cli/main.js worker|watcher`, NODE_ENV=production) with its prebuilt workflow
// bundle (WORKFLOW_BUNDLE_PATH: no webpack in the worker at start), instead of npm start's
// TypeScript through tsx. Built the way tools/image/build.sh builds the image's app layer,
// into .sandbox/bench-dist/ (ignored by git) under the repository, so that the compiled code
// resolves its packages from the repository's node_modules.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentEndpoints, componentEnv, type ComponentProcess, type LaunchComponent, type ProductProcessesOptions } from '../../sandbox/product-processes.ts';
import { startProcess } from '../../sandbox/processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, '.sandbox', 'bench-dist');
/** tsconfig.build.json's product folders: their JSON assets are read by URL at run time. */
const PRODUCT_DIRS = ['workflows', 'activities', 'watcher', 'worker', 'runtime', 'scaleway', 'kube', 'bootstrap', 'cli'];

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (relative(ROOT, path) !== join('scaleway', 'simulator')) out.push(...jsonFiles(path));
    } else if (name.endsWith('.json')) out.push(path);
  }
  return out;
}

export interface ProductionBuild {
  dist: string;
  bundle: string;
  seconds: number;
}

/** Compiles the product and bundles its workflows, as the image does. */
export function buildProduction(): ProductionBuild {
  const started = Date.now();
  rmSync(OUT, { recursive: true, force: true });
  const dist = join(OUT, 'dist');
  try {
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });
  } catch (err) {
    // tsc emits even with type errors (a tree mid-change); the run says so and goes on if the entry point is there.
    if (!existsSync(join(dist, 'cli', 'main.js'))) throw err;
    console.warn('[bench] tsc reported type errors; running the compiled output anyway');
  }
  for (const dir of PRODUCT_DIRS) {
    for (const file of jsonFiles(join(ROOT, dir))) {
      const target = join(dist, relative(ROOT, file));
      mkdirSync(join(target, '..'), { recursive: true });
      cpSync(file, target);
    }
  }
  writeFileSync(join(OUT, 'package.json'), `${JSON.stringify({ name: 'scw-karpenter', private: true, type: 'module' }, null, 2)}\n`);
  execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/image/bundle-workflows.ts'), dist], { stdio: 'inherit', cwd: ROOT });
  return { dist, bundle: join(dist, 'workflow-bundle.js'), seconds: (Date.now() - started) / 1000 };
}

/** What a measuring run adds to the image's processes; none of it changes what they do. */
export interface Diagnostics {
  /** V8 CPU profiles of each process, one file per thread (main, workflow threads), written at exit into `<dir>/<component>/`. */
  cpuProfileDir?: string | undefined;
  /** LOG_LEVEL for both (`debug`: the SDK's per-activity start and completion lines, for a timeline). */
  logLevel?: string | undefined;
}

/** A launcher for startProductComponents: the compiled entry point in a child process, with the image's environment. */
export function launchCompiled(options: ProductProcessesOptions, build: ProductionBuild, diagnostics: Diagnostics = {}): LaunchComponent<ComponentProcess> {
  return (launch) => {
    const { component } = launch;
    const env = {
      ...componentEnv(options, component, launch.identity.kubeconfig, launch.ports),
      NODE_ENV: 'production',
      WORKFLOW_BUNDLE_PATH: build.bundle,
      ...(diagnostics.logLevel ? { LOG_LEVEL: diagnostics.logLevel } : {}),
    };
    const profile = diagnostics.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(diagnostics.cpuProfileDir, component)}`] : [];
    const child = startProcess(component, process.execPath, [...profile, join(build.dist, 'cli', 'main.js'), component], join(options.dir, `${component}.log`), env);
    return { component, process: child, stop: () => child.stop(), ...componentEndpoints(launch) };
  };
}
