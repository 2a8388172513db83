// runtime/config.ts against what the README promises: every setting of the
// "## Configuration" table (parsed from README.md) has the default the table
// says, every setting config.ts declares is in the table, the defaults are the
// constants of the code they set, and a bad value stops the process with a
// message that names its variable.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  describeConfig,
  garbageCollectionSettings,
  leaderElectionDurations,
  loadConfig,
  loadScalewaySettings,
  loadSettings,
  observabilityPorts,
  watcherTunables,
  workerTunables,
  type Settings,
} from '../../runtime/config.ts';
import { scalewayConfigPath } from '../../runtime/scaleway-profile.ts';
import { DEFAULT_TEMPORAL_ADDRESS, DEFAULT_TEMPORAL_NAMESPACE, loadTemporalSettings } from '../../runtime/temporal-connection.ts';
import { DEFAULT_BATCH_IDLE_MS, DEFAULT_BATCH_MAX_MS } from '../../watcher/provisioner/batcher.ts';
import { DISRUPTION_INTERVAL_MS } from '../../watcher/disruption/controller.ts';
import { DEFAULT_LEASE_NAME, LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS } from '../../watcher/leader-election.ts';
import { RESYNC_MS } from '../../watcher/watcher.ts';
import { WORKER_CAPACITY } from '../../worker/worker.ts';
import { TASK_QUEUE } from '../../workflows/contract.ts';
import { TEST_CREDENTIALS } from '../../scaleway/simulator/testing.ts';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const CONFIG_SOURCE = readFileSync(fileURLToPath(new URL('../../runtime/config.ts', import.meta.url)), 'utf8');

const homes: string[] = [];
after(() => {
  for (const dir of homes) rmSync(dir, { recursive: true, force: true });
});
/** A HOME of its own: no user's Scaleway or Temporal profile is read. */
function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'scwk-config-'));
  homes.push(dir);
  return dir;
}
const CREDENTIALS = { SCW_ACCESS_KEY: TEST_CREDENTIALS.accessKey, SCW_SECRET_KEY: TEST_CREDENTIALS.secretKey, SCW_DEFAULT_PROJECT_ID: TEST_CREDENTIALS.projectId };

interface DocumentedRow {
  /** The Names cell as written, e.g. "BATCH_IDLE_DURATION / BATCH_MAX_DURATION". */
  cell: string;
  /** Its names, `A / _B` and `A, _B` expanded. */
  names: string[];
  /** The Default cell split by " / ", e.g. ["`1s`", "`10s`"]; one per name, or one for all. */
  defaults: string[];
}

/** The rows of README "## Configuration". A `_B` after A is the longest prefix of A that makes a known setting, plus _B. */
function documentedRows(readme: string, known: (name: string) => boolean): DocumentedRow[] {
  const section = /^## Configuration\n([\s\S]*?)^## /m.exec(readme)?.[1];
  assert.ok(section, 'README has a "## Configuration" section');
  const rows = section.split('\n').filter((l) => l.startsWith('|')).slice(2);
  assert.ok(rows.length > 10, `the Configuration table has rows (${rows.length})`);
  return rows.map((row) => {
    const [, cell = '', defaultCell = ''] = row.split('|').map((c) => c.trim());
    const parts = cell.split(/\s*(?:\/|,)\s*/).filter(Boolean);
    const first = parts[0] ?? '';
    const names = parts.map((part) => {
      if (!part.startsWith('_')) return part;
      const segments = first.split('_');
      for (let n = segments.length - 1; n > 0; n--) {
        const candidate = `${segments.slice(0, n).join('_')}${part}`;
        if (known(candidate)) return candidate;
      }
      return part;
    });
    return { cell, names, defaults: defaultCell.split(' / ') };
  });
}

/** A default written as one code literal, `1s`; undefined for prose (none, off, in-cluster, from the profile file). */
const literal = (text: string): string | undefined => /^`([^`]*)`$/.exec(text.trim())?.[1];

/** The settings config.ts's schemas declare (the keys of its z.object blocks). */
const DECLARED = new Set([...CONFIG_SOURCE.matchAll(/^ {2}([A-Z][A-Z0-9_]+): /gm)].map((m) => m[1] ?? ''));

/** What the rest of the table is read by (the Scaleway profile, envconfig), and how its default is checked. */
const CHECKS: Record<string, (documented: string) => void> = {
  SCW_ACCESS_KEY: (d) => checkScalewayFromProfileFile(d),
  SCW_SECRET_KEY: (d) => checkScalewayFromProfileFile(d),
  SCW_DEFAULT_PROJECT_ID: (d) => checkScalewayFromProfileFile(d),
  SCW_API_URL: (d) => {
    assert.match(d, /Scaleway's public API/);
    // Unset: the SDK's own default endpoint.
    assert.equal(loadScalewaySettings({ HOME: home(), ...CREDENTIALS }).apiUrl, undefined);
  },
  SCW_CONFIG_PATH: (d) => {
    assert.equal(d, '`$XDG_CONFIG_HOME/scw/config.yaml`, else `~/.config/scw/config.yaml`');
    assert.equal(scalewayConfigPath({ XDG_CONFIG_HOME: '/xdg', HOME: '/home/me' }), '/xdg/scw/config.yaml');
    assert.equal(scalewayConfigPath({ HOME: '/home/me' }), '/home/me/.config/scw/config.yaml');
  },
  SCW_PROFILE: (d) => {
    assert.equal(d, 'the file\'s `active_profile`, else `default`');
    const h = home();
    const path = join(h, '.config', 'scw', 'config.yaml');
    mkdirSync(join(h, '.config', 'scw'), { recursive: true });
    writeFileSync(path, `access_key: ${CREDENTIALS.SCW_ACCESS_KEY}\nsecret_key: ${CREDENTIALS.SCW_SECRET_KEY}\ndefault_project_id: ${CREDENTIALS.SCW_DEFAULT_PROJECT_ID}\nprofiles:\n  prod:\n    access_key: SCWPRODPRODPRODPROD0\n`);
    assert.equal(loadScalewaySettings({ HOME: h }).profile, 'default');
    assert.equal(loadScalewaySettings({ HOME: h }).accessKey, CREDENTIALS.SCW_ACCESS_KEY);
    writeFileSync(path, `active_profile: prod\n${readFileSync(path, 'utf8')}`);
    assert.equal(loadScalewaySettings({ HOME: h }).accessKey, 'SCWPRODPRODPRODPROD0');
  },
  TEMPORAL_ADDRESS: (d) => {
    assert.equal(literal(d), DEFAULT_TEMPORAL_ADDRESS);
    assert.equal(loadTemporalSettings({ HOME: home() }).connection.address, literal(d));
  },
  TEMPORAL_NAMESPACE: (d) => {
    assert.equal(literal(d), DEFAULT_TEMPORAL_NAMESPACE);
    assert.equal(loadTemporalSettings({ HOME: home() }).namespace, literal(d));
  },
  TEMPORAL_API_KEY: (d) => {
    assert.equal(d, 'none');
    assert.equal(loadTemporalSettings({ HOME: home() }).connection.apiKey, undefined);
    const cloud = loadTemporalSettings({ HOME: home(), TEMPORAL_API_KEY: 'secret-key', TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233' });
    assert.equal(cloud.connection.apiKey, 'secret-key');
    assert.ok(cloud.connection.tls, 'an API key turns TLS on');
  },
  ...Object.fromEntries(['TEMPORAL_TLS', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_NAME'].map((name) => [name, (d: string) => {
    assert.equal(d, 'off');
    assert.equal(loadTemporalSettings({ HOME: home() }).connection.tls, undefined);
  }])),
  TEMPORAL_CONFIG_FILE: (d) => {
    assert.equal(literal(d), '~/.config/temporalio/temporal.toml');
    const h = home();
    mkdirSync(join(h, '.config', 'temporalio'), { recursive: true });
    writeFileSync(join(h, '.config', 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "temporal.example:7233"\nnamespace = "from-file"\n');
    const settings = loadTemporalSettings({ HOME: h });
    assert.deepEqual([settings.connection.address, settings.namespace], ['temporal.example:7233', 'from-file']);
    // Environment variables win over the file.
    assert.equal(loadTemporalSettings({ HOME: h, TEMPORAL_NAMESPACE: 'from-env' }).namespace, 'from-env');
  },
  TEMPORAL_PROFILE: (d) => {
    assert.equal(literal(d), 'default');
    const h = home();
    const file = join(h, 'temporal.toml');
    writeFileSync(file, '[profile.default]\naddress = "default.example:7233"\n[profile.prod]\naddress = "prod.example:7233"\n');
    assert.equal(loadTemporalSettings({ HOME: h, TEMPORAL_CONFIG_FILE: file }).connection.address, 'default.example:7233');
    assert.equal(loadTemporalSettings({ HOME: h, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' }).connection.address, 'prod.example:7233');
  },
};

function checkScalewayFromProfileFile(documented: string): void {
  assert.equal(documented, 'from the profile file');
  const h = home();
  mkdirSync(join(h, '.config', 'scw'), { recursive: true });
  const orgId = '11111111-2222-4333-8444-555555555555';
  writeFileSync(join(h, '.config', 'scw', 'config.yaml'), `access_key: ${CREDENTIALS.SCW_ACCESS_KEY}\nsecret_key: ${CREDENTIALS.SCW_SECRET_KEY}\ndefault_organization_id: ${orgId}\n`);
  const fromFile = loadScalewaySettings({ HOME: h });
  assert.deepEqual([fromFile.accessKey, fromFile.secretKey, fromFile.projectId], [CREDENTIALS.SCW_ACCESS_KEY, CREDENTIALS.SCW_SECRET_KEY, orgId], 'no project ID: the organization\'s');
  // Environment variables win over the file.
  assert.equal(loadScalewaySettings({ HOME: h, SCW_DEFAULT_PROJECT_ID: CREDENTIALS.SCW_DEFAULT_PROJECT_ID }).projectId, CREDENTIALS.SCW_DEFAULT_PROJECT_ID);
}

describe('configuration: the README table and runtime/config.ts agree', () => {
  const rows = documentedRows(README, (name) => DECLARED.has(name) || name in CHECKS);
  const defaults: Settings = loadSettings({});

  it('documents every setting config.ts declares', () => {
    const names = new Set(rows.flatMap((r) => r.names));
    assert.ok(DECLARED.size > 30, `settings found in config.ts: ${[...DECLARED].join(', ')}`);
    assert.deepEqual([...DECLARED].filter((n) => !names.has(n)), []);
  });

  for (const row of rows) {
    it(`${row.cell}: ${row.defaults.join(' / ')}`, () => {
      assert.ok(row.defaults.length === row.names.length || row.defaults.length === 1, `${row.names.length} names but ${row.defaults.length} defaults: give one per name, or one for all`);
      for (const [i, name] of row.names.entries()) {
        const documented = (row.defaults.length === 1 ? row.defaults[0] : row.defaults[i]) ?? '';
        const check = CHECKS[name];
        if (check) {
          check(documented);
          continue;
        }
        assert.ok(DECLARED.has(name), `README documents ${name}, which neither config.ts nor the Scaleway and Temporal loaders read`);
        const value = (defaults as Record<string, unknown>)[name];
        // Prose (none, in-cluster, POD_NAMESPACE else kube-system) is a default worked out where the setting is used: unset here.
        assert.equal(value, literal(documented), `${name}: config.ts default ${JSON.stringify(value)}, README says ${documented}`);
      }
    });
  }

  it('has defaults that are the constants of the code they set', () => {
    assert.deepEqual(watcherTunables(defaults), { batchIdleMs: DEFAULT_BATCH_IDLE_MS, batchMaxMs: DEFAULT_BATCH_MAX_MS, disruptionIntervalMs: DISRUPTION_INTERVAL_MS, resyncMs: RESYNC_MS });
    assert.deepEqual(leaderElectionDurations(defaults), { leaseDurationMs: LEASE_DURATION_MS, renewDeadlineMs: RENEW_DEADLINE_MS, retryPeriodMs: RETRY_PERIOD_MS });
    assert.deepEqual(workerTunables(defaults), { pollIntervalMs: 2_000, capacity: WORKER_CAPACITY });
    assert.deepEqual(observabilityPorts(defaults), { metricsPort: 8080, healthPort: 8081 });
    assert.deepEqual(garbageCollectionSettings(defaults), { intervalMs: 60_000, gracePeriodMs: 600_000, dryRun: false });
    assert.equal(defaults.TEMPORAL_TASK_QUEUE, TASK_QUEUE);
    assert.equal(defaults.LEADER_ELECTION_LEASE_NAME, DEFAULT_LEASE_NAME);
  });

  it('reads what is set: Go durations, counts, ports', () => {
    const s = loadSettings({ BATCH_IDLE_DURATION: '500ms', BATCH_MAX_DURATION: '1m30s', POLL_INTERVAL: '250ms', WORKER_MAX_CONCURRENT_ACTIVITIES: '50', METRICS_PORT: '0', HEALTH_PROBE_PORT: '0' });
    assert.equal(watcherTunables(s).batchIdleMs, 500);
    assert.equal(watcherTunables(s).batchMaxMs, 90_000);
    assert.equal(workerTunables(s).pollIntervalMs, 250);
    assert.equal(workerTunables(s).capacity.maxConcurrentActivityTaskExecutions, 50);
    assert.deepEqual(observabilityPorts(s), { metricsPort: 0, healthPort: 0 }, 'two 0 ports are two free ports, not a clash');
  });
});

describe('configuration: a bad value names its variable', () => {
  const base = { HOME: home(), ...CREDENTIALS };
  const cases: [Record<string, string>, RegExp][] = [
    [{ SCW_ACCESS_KEY: 'AKIAIOSFODNN7EXAMPLE' }, /SCW_ACCESS_KEY: must be an access key such as SCWXXXXXXXXXXXXXXXXX/],
    [{ SCW_SECRET_KEY: 'hunter2' }, /SCW_SECRET_KEY: must be a UUID/],
    [{ SCW_DEFAULT_PROJECT_ID: 'my-project' }, /SCW_DEFAULT_PROJECT_ID: must be a UUID/],
    [{ SCW_API_URL: 'simulator.local' }, /SCW_API_URL: must be an http\(s\) URL/],
    // A scheme-less host:port parses as a URL of scheme "simulator:": the scheme is checked.
    [{ SCW_API_URL: 'simulator:4510' }, /SCW_API_URL: must be an http\(s\) URL/],
    [{ SCW_CONFIG_PATH: '/nonexistent/config.yaml' }, /\/nonexistent\/config\.yaml/],
    [{ TEMPORAL_ADDRESS: 'temporal' }, /TEMPORAL_ADDRESS must be host:port/],
    [{ TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' }, /TEMPORAL_CONFIG_FILE: \/nonexistent\/temporal\.toml does not exist/],
    [{ TEMPORAL_UI_URL: 'localhost' }, /TEMPORAL_UI_URL must be an http\(s\) URL/],
    [{ TEMPORAL_UI_URL: 'localhost:8233' }, /TEMPORAL_UI_URL must be an http\(s\) URL/],
    [{ CLUSTER_NAME: 'My_Cluster' }, /CLUSTER_NAME must be a DNS label/],
    [{ LEADER_ELECTION: 'yes' }, /LEADER_ELECTION must be 'true' or 'false'/],
    [{ LEADER_ELECTION_LEASE_DURATION: '15' }, /LEADER_ELECTION_LEASE_DURATION must be a positive duration/],
    [{ LEADER_ELECTION_RENEW_DEADLINE: '20s' }, /LEADER_ELECTION_RENEW_DEADLINE \(20s\) must be shorter than LEADER_ELECTION_LEASE_DURATION/],
    [{ LEADER_ELECTION_RETRY_PERIOD: '10s' }, /LEADER_ELECTION_RETRY_PERIOD \(10s\) must be shorter than LEADER_ELECTION_RENEW_DEADLINE/],
    [{ BATCH_IDLE_DURATION: '0s' }, /BATCH_IDLE_DURATION must be a positive duration/],
    [{ BATCH_IDLE_DURATION: '20s' }, /BATCH_IDLE_DURATION \(20s\) must not exceed BATCH_MAX_DURATION \(10s\)/],
    [{ BATCH_MAX_DURATION: '10 seconds' }, /BATCH_MAX_DURATION must be a positive duration/],
    [{ DISRUPTION_INTERVAL: '-5s' }, /DISRUPTION_INTERVAL must be a positive duration/],
    [{ RESYNC_PERIOD: '1d' }, /RESYNC_PERIOD must be a positive duration/],
    [{ POLL_INTERVAL: 'fast' }, /POLL_INTERVAL must be a positive duration/],
    [{ WORKER_MAX_CONCURRENT_ACTIVITIES: '0' }, /WORKER_MAX_CONCURRENT_ACTIVITIES must be a whole number of at least 1/],
    [{ WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '1.5' }, /WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES must be a whole number/],
    [{ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: 'many' }, /WORKER_MAX_CONCURRENT_WORKFLOW_TASKS must be a whole number/],
    [{ WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS: '-1' }, /WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS must be a whole number/],
    [{ WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS: '' }, /WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS must be a whole number/],
    [{ WORKER_WORKFLOW_THREADS: '0' }, /WORKER_WORKFLOW_THREADS must be a whole number of at least 1/],
    [{ METRICS_PORT: '70000' }, /METRICS_PORT must be a port number/],
    [{ HEALTH_PROBE_PORT: '8080' }, /METRICS_PORT and HEALTH_PROBE_PORT must differ \(both 8080\)/],
    [{ LOG_LEVEL: 'trace' }, /LOG_LEVEL must be debug, info, warn or error/],
    [{ LOG_FORMAT: 'xml' }, /LOG_FORMAT must be json or text/],
    [{ GC_INTERVAL: '60' }, /GC_INTERVAL must be a duration/],
    [{ GC_GRACE_PERIOD: 'never' }, /GC_GRACE_PERIOD must be a duration/],
    [{ GC_DRY_RUN: 'yes' }, /GC_DRY_RUN must be 'true' or 'false'/],
    [{ PAYLOAD_CODEC_REQUIRED: '1' }, /PAYLOAD_CODEC_REQUIRED must be 'true' or 'false'/],
  ];
  for (const [env, message] of cases) {
    it(`${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`, () => {
      assert.throws(() => loadConfig({ ...base, ...env }), (err: Error) => {
        assert.match(err.message, /^invalid configuration: /);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('names every problem at once, and loads a good environment', () => {
    assert.throws(() => loadConfig({ HOME: home(), LOG_LEVEL: 'loud', TEMPORAL_ADDRESS: 'x' }), (err: Error) => {
      for (const name of ['LOG_LEVEL', 'SCW_ACCESS_KEY', 'SCW_SECRET_KEY', 'SCW_DEFAULT_PROJECT_ID', 'TEMPORAL_ADDRESS']) assert.ok(err.message.includes(name), `${name} in: ${err.message}`);
      return true;
    });
    const config = loadConfig({ ...base, TEMPORAL_API_KEY: 'very-secret', TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233' });
    assert.equal(config.scaleway.accessKey, CREDENTIALS.SCW_ACCESS_KEY);
    // The logged config masks the secrets.
    const logged = describeConfig(config);
    assert.equal(logged.SCW_SECRET_KEY, '<redacted>');
    assert.equal(logged.TEMPORAL_API_KEY, '<redacted>');
    assert.ok(!JSON.stringify(logged).includes('very-secret') && !JSON.stringify(logged).includes(CREDENTIALS.SCW_SECRET_KEY));
  });
});
