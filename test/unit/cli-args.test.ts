// The CLI's entry point as a process: bad arguments and bad configuration give
// a message that says what is wrong and exit 2; an unreachable service exits 1;
// help and --version exit 0. `replay` runs on the workflow code the image uses
// (a prebuilt bundle named by WORKFLOW_BUNDLE_PATH) as well as on the checkout's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { bundleWorkflowCode } from '@temporalio/worker';
import { REPO, runCli, type CliRun } from './cli-process.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const HISTORIES = join(REPO, 'test', 'fixtures', 'histories');
const SCW = { SCW_ACCESS_KEY: TEST_CREDENTIALS.accessKey, SCW_SECRET_KEY: TEST_CREDENTIALS.secretKey, SCW_DEFAULT_PROJECT_ID: TEST_CREDENTIALS.projectId };

describe('scw-karpenter arguments and exits', () => {
  it('prints its version and its help, exit 0', async () => {
    const version = await runCli(['--version']);
    assert.deepEqual(version, { code: 0, stdout: `scw-karpenter ${VERSION}\n`, stderr: '' });
    const help = await runCli(['help']);
    assert.equal(help.code, 0);
    for (const command of ['watcher', 'worker', 'catalog', 'status NODECLAIM', 'gc --dry-run', 'gc --trigger', 'replay FILE']) assert.ok(help.stdout.includes(command), command);
    for (const command of ['catalog', 'status', 'gc', 'replay']) {
      const own = await runCli([command, '--help']);
      assert.equal(own.code, 0, command);
      assert.match(own.stdout, new RegExp(`^usage: scw-karpenter ${command}`), command);
    }
  });

  it('refuses an unknown command, naming it, exit 2', async () => {
    const run = await runCli(['stauts', 'x']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^scw-karpenter: unknown command stauts\nusage:/);
    assert.equal(run.stdout, '');
    // A name of Object.prototype is not a command either.
    assert.equal((await runCli(['toString'])).code, 2);
  });

  it('refuses bad options and arguments with the command\'s usage, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['status'], /^scw-karpenter status: which NodeClaim\?\nusage: scw-karpenter status NODECLAIM/],
      [['status', 'a', 'b'], /one NodeClaim at a time/],
      [['status', 'a', '--output', 'yaml'], /--output must be table or json, got yaml/],
      [['status', 'a', '--colour'], /Unknown option '--colour'[\s\S]*usage: scw-karpenter status/],
      [['catalog', '--zone', 'mars-1'], /unknown zone mars-1: Scaleway sells Instances in fr-par-1/],
      [['catalog', '--json', '--output', 'table'], /--json and --output table disagree/],
      [['catalog', 'fr-par-2'], /Unexpected argument 'fr-par-2'/],
      [['gc'], /gc releases nothing by itself: the worker's Temporal Schedule scw-karpenter-gc-sandbox runs garbage collection/],
      [['gc', '--dry-run', '--trigger'], /--dry-run or --trigger, not both/],
      [['replay'], /which histories\?/],
      [['replay', '/nonexistent/history.json'], /reading history \/nonexistent\/history.json: .*ENOENT/],
    ];
    // Side by side: each is a process of its own.
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    for (const [i, [args, message]] of cases.entries()) {
      const run = runs[i] as CliRun;
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(' '));
      assert.equal(run.stdout, '', args.join(' '));
    }
  });

  it('refuses bad configuration, naming the variable, exit 2', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['catalog'], {}, /SCW_ACCESS_KEY: missing; set .*SCW_SECRET_KEY: missing/],
      [['catalog'], { ...SCW, SCW_ACCESS_KEY: 'AKIA123' }, /SCW_ACCESS_KEY: must be an access key/],
      [['status', 'a'], { TEMPORAL_UI_URL: 'not a url' }, /TEMPORAL_UI_URL must be an http\(s\) URL/],
      [['status', 'a'], { TEMPORAL_ADDRESS: 'no-port' }, /TEMPORAL_ADDRESS must be host:port/],
      [['gc', '--dry-run'], { ...SCW, GC_GRACE_PERIOD: 'soon' }, /GC_GRACE_PERIOD must be a duration/],
      [['gc', '--dry-run'], { ...SCW, CLUSTER_NAME: 'Not_A_Label' }, /CLUSTER_NAME must be a DNS label/],
      [['gc', '--dry-run'], SCW, /gc --dry-run reads the cluster's NodeClaims and bootstrap tokens: set KUBECONFIG/],
      [['replay', join(HISTORIES, readdirSync(HISTORIES)[0] ?? '')], { PAYLOAD_CODEC_KEY: 'c2hvcnQ=' }, /PAYLOAD_CODEC_KEY must be the base64 of 32 random bytes/],
    ];
    const runs = await Promise.all(cases.map(([args, env]) => runCli(args, env)));
    for (const [i, [args, env, message]] of cases.entries()) {
      const run = runs[i] as CliRun;
      assert.equal(run.code, 2, `${args.join(' ')} ${JSON.stringify(env)}: ${run.stderr}`);
      assert.match(run.stderr, message, `${args.join(' ')} ${JSON.stringify(env)}`);
    }
  });

  it('exits 1 with the address when Temporal does not answer', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const run = await runCli(['status', 'a'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`connecting to Temporal at 127\\.0\\.0\\.1:${port}`));
  });

  it('runs from a checkout through bin/scw-karpenter, from any directory, on the repo\'s Node', async () => {
    const { stdout } = await promisify(execFile)(join(REPO, 'bin', 'scw-karpenter'), ['--version'], { cwd: tmpdir(), env: { PATH: '/usr/bin:/bin' } });
    assert.equal(stdout, `scw-karpenter ${VERSION}\n`);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    assert.deepEqual(pkg.bin, { 'scw-karpenter': 'bin/scw-karpenter' });
  });
});

describe('scw-karpenter replay', () => {
  const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).map((f) => join(HISTORIES, f));
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'scwk-cli-replay-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('replays the recorded histories on the checkout\'s workflows, as JSON', async () => {
    const run = await runCli(['replay', '--output', 'json', ...files]);
    assert.equal(run.code, 0, run.stderr);
    const reports = JSON.parse(run.stdout) as { workflowId: string; replays: boolean }[];
    assert.equal(reports.length, files.length);
    assert.ok(reports.every((r) => r.replays), run.stdout);
  });

  it('replays on a prebuilt bundle when WORKFLOW_BUNDLE_PATH names one, as in the image', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: join(REPO, 'workflows', 'index.ts'),
      failureConverterPath: join(REPO, 'runtime', 'failure-converter.ts'),
      logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const bundle = join(dir, 'workflow-bundle.js');
    writeFileSync(bundle, code);
    const run = await runCli(['replay', ...files], { WORKFLOW_BUNDLE_PATH: bundle });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^${files.length} replayed, 0 failed$`, 'm'));
    // The bundle is what ran: a bundle that is not there fails the replay.
    const missing = await runCli(['replay', ...files], { WORKFLOW_BUNDLE_PATH: join(dir, 'missing.js') });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /missing\.js/);
  });
});
