// `npm start`: the local sandbox on embedded defaults. A real Temporal dev
// server with its Web UI, a real control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) and the Scaleway API simulator, all
// on loopback, until Ctrl-C.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSimulator } from '../scaleway/simulator/index.ts';
import { createKubeRest, loadKubeConfig } from '../kube/rest.ts';
import { startControlPlane } from './control-plane.ts';
import { kubeadmInit } from './kubeadm-init.ts';
import { freePort } from './ports.ts';
import { startTemporalDevServer } from './temporal-dev-server.ts';

const { values: flags } = parseArgs({
  options: {
    dir: { type: 'string', default: '.sandbox' },
    'temporal-port': { type: 'string', default: '7233' },
    'ui-port': { type: 'string', default: '8233' },
    'simulator-port': { type: 'string', default: '4510' },
    /** Scale of the simulator's recorded latencies: 1 is Scaleway's real pace. */
    'time-scale': { type: 'string', default: '0.25' },
    /** Stop once everything is up (a check of the sandbox itself). */
    'exit-when-ready': { type: 'boolean', default: false },
  },
});

const dir = resolve(flags.dir);
const say = (line: string): void => console.log(`[sandbox] ${line}`);
const pidFile = join(dir, 'sandbox.pid');
const otherPid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined;
if (otherPid && isAlive(otherPid)) {
  console.error(`[sandbox] another sandbox (pid ${otherPid}) is running in ${dir}: stop it, or start this one with --dir <another folder>`);
  process.exit(1);
}
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
writeFileSync(pidFile, String(process.pid));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The preferred port if free, else any free one: a second sandbox should still start. */
async function portOr(preferred: string): Promise<number> {
  const { createServer } = await import('node:net');
  const wanted = Number(preferred);
  const free = await new Promise<boolean>((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(wanted, '127.0.0.1', () => probe.close(() => done(true)));
  });
  return free ? wanted : freePort();
}

const stops: (() => Promise<void>)[] = [];
async function shutdown(code: number): Promise<never> {
  say('stopping');
  for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error(err));
  rmSync(pidFile, { force: true });
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));

try {
  say(`state and logs in ${dir}`);
  say('starting the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)');
  const controlPlane = await startControlPlane({ dir: join(dir, 'kube'), withControllers: true });
  stops.push(() => controlPlane.stop());
  for (const [tool, version] of Object.entries(controlPlane.versions)) say(`  ${tool}: ${version}`);
  await kubeadmInit(createKubeRest(loadKubeConfig(controlPlane.kubeconfig)), { server: controlPlane.server, caFile: controlPlane.pki.caCert });

  say('starting the Temporal dev server');
  mkdirSync(join(dir, 'temporal'));
  const temporal = await startTemporalDevServer({
    dir: join(dir, 'temporal'),
    port: await portOr(flags['temporal-port']),
    uiPort: await portOr(flags['ui-port']),
  });
  stops.push(() => temporal.stop());
  say(`  ${temporal.version}`);

  const simulator = await startSimulator({ port: await portOr(flags['simulator-port']), profile: 'recorded', timeScale: Number(flags['time-scale']) });
  stops.push(() => simulator.close());

  const env = [
    `export KUBECONFIG=${controlPlane.kubeconfig}`,
    `export TEMPORAL_ADDRESS=${temporal.address}`,
    `export TEMPORAL_UI_URL=${temporal.uiUrl}`,
    `export SCW_API_URL=${simulator.url}`,
  ].join('\n');
  writeFileSync(join(dir, 'env'), `${env}\n`);

  console.log(`
  Temporal Web UI   ${temporal.uiUrl}
  Temporal address  ${temporal.address}   (temporal workflow list --address ${temporal.address})
  kubeconfig        ${controlPlane.kubeconfig}   (kubectl --kubeconfig ${controlPlane.kubeconfig} get --raw /version)
  apiserver         ${controlPlane.server}
  Scaleway API      ${simulator.url}   (simulator, recorded latencies x${flags['time-scale']})
  env for a shell   source ${join(dir, 'env')}
`);
  if (flags['exit-when-ready']) await shutdown(0);
  say('ready; Ctrl-C stops everything');
} catch (err) {
  console.error(`[sandbox] failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
}
