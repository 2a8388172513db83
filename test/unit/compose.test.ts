// docker-compose.yml must start: no Docker engine runs on the CI machines, so
// what can be checked without one is checked here. Each app service's
// environment passes the project's own config validation (its SCW_ACCESS_KEY
// once failed the key pattern), the addresses it names are services of the
// file, the files its commands run exist, the simulator's command is one the
// simulator takes (it is started here with those flags), and the CRDs k3s is
// given are files it will apply.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../runtime/config.ts';
import { REPO } from './cli-process.ts';

interface Service {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
}

const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const APP_SERVICES = ['worker', 'watcher'];
const home = mkdtempSync(join(tmpdir(), 'scwk-compose-'));
after(() => rmSync(home, { recursive: true, force: true }));

/** `host:container[:ro]` volume entries of a service, as [host path relative to the repo, container path]. */
const mounts = (service: Service): [string, string][] => (service.volumes ?? []).filter((v) => v.startsWith('.')).map((v) => {
  const [host = '', container = ''] = v.split(':');
  return [posix.normalize(host), container];
});

describe('docker-compose.yml', () => {
  it('has the Temporal, k3s, simulator, worker and watcher services', () => {
    assert.deepEqual(Object.keys(services).sort(), ['k3s', 'simulator', 'temporal', 'watcher', 'worker']);
  });

  for (const name of APP_SERVICES) {
    it(`gives the ${name} an environment that passes loadConfig`, () => {
      const env = services[name]?.environment;
      assert.ok(env, `${name} has an environment`);
      // Only the service's own variables (and a HOME without profiles): nothing of this machine's.
      const config = loadConfig({ ...env, HOME: home });
      assert.equal(config.scaleway.accessKey, env.SCW_ACCESS_KEY);
      assert.equal(config.temporal.connection.address, env.TEMPORAL_ADDRESS);
      // The addresses are services of this file, on the ports they listen on.
      assert.equal(config.temporal.connection.address, 'temporal:7233');
      assert.ok(services.temporal?.ports?.some((p) => p.endsWith(':7233')));
      const api = new URL(config.scaleway.apiUrl ?? '');
      assert.ok(services[api.hostname], `SCW_API_URL's host ${api.hostname} is a service`);
      const simulator = services[api.hostname]?.command ?? [];
      assert.equal(simulator[simulator.indexOf('--port') + 1], api.port, 'the simulator listens on the port SCW_API_URL names');
    });

    it(`runs the ${name}'s entry point, on a kubeconfig that reaches k3s`, () => {
      const service = services[name] ?? {};
      const [runner, tsx, file] = service.command ?? [];
      assert.deepEqual([runner, tsx], ['npx', 'tsx']);
      assert.ok(file && existsSync(join(REPO, file)), `${file} exists`);
      // The entrypoint waits for k3s's kubeconfig on the shared folder and writes the copy KUBECONFIG names.
      const script = service.entrypoint?.join(' ') ?? '';
      const kubeconfig = service.environment?.KUBECONFIG ?? '';
      assert.ok(script.includes(`> ${kubeconfig}`), `the entrypoint writes ${kubeconfig}: ${script}`);
      const sandbox = mounts(service).find(([, container]) => container === '/sandbox');
      const k3sOutput = mounts(services.k3s ?? {}).find(([, container]) => container === '/output');
      assert.ok(sandbox && k3sOutput && sandbox[0] === k3sOutput[0], 'the app\'s /sandbox is k3s\'s /output folder');
      const k3sCommand = services.k3s?.command ?? [];
      assert.equal(k3sCommand[k3sCommand.indexOf('--write-kubeconfig') + 1], '/output/kubeconfig.yaml');
      assert.ok(script.includes('/sandbox/kubeconfig.yaml'));
      // k3s's certificate must name the host the copy points at.
      assert.match(script, /https:\/\/k3s:6443/);
      assert.equal(k3sCommand[k3sCommand.indexOf('--tls-san') + 1], 'k3s');
      // `$$` is compose's escape for a literal `$`: the script ends by running the command.
      assert.match(script, /exec "\$\$@"/);
    });
  }

  it('gives k3s the project\'s CRDs under names it accepts', () => {
    const crds = mounts(services.k3s ?? {}).filter(([, container]) => container.startsWith('/var/lib/rancher/k3s/server/manifests/'));
    assert.deepEqual(crds.map(([host]) => host).sort(), ['deploy/crds/karpenter.scaleway.com_scalewaynodeclasses.yaml', 'deploy/crds/karpenter.sh_nodeclaims.yaml', 'deploy/crds/karpenter.sh_nodepools.yaml']);
    for (const [host, container] of crds) {
      assert.ok(existsSync(join(REPO, host)), host);
      // An AddOn takes its file's base name: a lowercase RFC 1123 subdomain, so no `_`.
      assert.match(posix.basename(container, '.yaml'), /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, container);
    }
  });

  it('starts the simulator with the flags its command gives', async () => {
    const [runner, tsx, file, ...args] = services.simulator?.command ?? [];
    assert.deepEqual([runner, tsx], ['npx', 'tsx']);
    assert.ok(file && existsSync(join(REPO, file)));
    // Port 0 here (4510 may be taken); every other flag as written.
    const flags = args.map((a, i) => (args[i - 1] === '--port' ? '0' : a));
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, file), ...flags], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        let errors = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /SCW_API_URL=(\S+)/.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        child.stderr.on('data', (chunk: Buffer) => {
          errors += chunk.toString();
        });
        child.on('exit', (code) => reject(new Error(`the simulator exited (${code}) with: ${flags.join(' ')}\n${errors}`)));
      });
      const host = args[args.indexOf('--host') + 1];
      assert.equal(host, '0.0.0.0', 'the simulator must listen beyond its own container');
      assert.equal(new URL(url).hostname, host);
      const answer = await fetch(url.replace('0.0.0.0', '127.0.0.1') + '/instance/v1/zones/fr-par-2/products/servers', { headers: { 'X-Auth-Token': services.worker?.environment?.SCW_SECRET_KEY ?? '' } });
      assert.equal(answer.status, 200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
