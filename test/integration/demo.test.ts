// `npm run demo` end to end, as a newcomer runs it: a child process that starts
// the whole sandbox in a temp folder, applies examples/scalewaynodeclass.yaml,
// nodepool-gpu.yaml and the seed's GPU pod through the apiserver (so the CRDs
// in deploy/crds accept them); the provisioner makes the pod's NodeClaim, the
// demo waits for it to be Ready and the pod to run, and prints a summary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Upper bound on the Scaleway calls of one L4 provisioning: server types and
 * availability read ahead by the watcher and the worker (3 pages each per zone
 * per process), local images, createServer, setServerUserData, the poweron
 * action, getServerUserData (the simulated kubelet reading its cloud-init, as a
 * real server does), and the listServers polls of the boot (one per 500 ms
 * poll interval; a GPU server runs 17.6 s x scale after poweron). Only the
 * polls grow with time, so a slow, loaded machine stays far under 60. More
 * means a loop or a retry storm, which is what the bound catches.
 */
const MAX_SCALEWAY_CALLS = 60;

describe('npm run demo', () => {
  it('the example YAMLs parse into Kubernetes objects', () => {
    for (const file of ['scalewaynodeclass.yaml', 'nodepool-gpu.yaml', 'pod-gpu-l4.yaml', 'nodeclaim-l4.yaml', 'nodeclaim-h100-sxm.yaml']) {
      const docs = parseAllDocuments(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8'));
      assert.equal(docs.length, 1, file);
      const doc = docs[0];
      assert.ok(doc);
      assert.deepEqual(doc.errors, [], file);
      const obj = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string } };
      assert.ok(obj.apiVersion && obj.kind && obj.metadata?.name, `${file}: apiVersion, kind, metadata.name`);
    }
  });

  it("runs the seed's GPU pod on an L4 node made for it and prints the summary", () => {
    const run = spawnSync('npm', ['run', 'demo', '--', '--time-scale', '0.02'], { cwd: repoRoot, encoding: 'utf8', timeout: 240_000 });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.error, undefined, `could not run npm run demo: ${String(run.error)}`);
    assert.equal(run.status, 0, `npm run demo exited ${run.status} (signal ${run.signal}):\n${output}`);

    // The examples were accepted by the apiserver (the demo applied them).
    assert.match(output, /applied examples\/scalewaynodeclass\.yaml: ScalewayNodeClass gpu/);
    assert.match(output, /applied examples\/nodepool-gpu\.yaml: NodePool scaleway-gpu/);
    assert.match(output, /applied examples\/pod-gpu-l4\.yaml: Pod gpu-test/);
    const made = /the provisioner made NodeClaim (scaleway-gpu-[a-z0-9-]+) for pod gpu-test/.exec(output);
    assert.ok(made, 'the provisioner made a NodeClaim of the pool for the pod');
    const claim = made[1] ?? '';
    // Progress lines as the conditions change.
    assert.match(output, new RegExp(`${claim}: Launched=True `));
    assert.match(output, new RegExp(`${claim}: Ready=True `));

    assert.match(output, new RegExp(`pod gpu-test runs on NodeClaim ${claim}, which is Ready`));
    assert.match(output, /time to pod Running +\d+\.\d s/);
    for (const type of ['Launched', 'Registered', 'Initialized', 'Ready']) assert.match(output, new RegExp(`time to ${type} +\\d+\\.\\d s`), type);
    assert.match(output, /instance type +L4-1-24G\n/);
    assert.match(output, /zone +fr-par-2\n/);
    assert.match(output, /providerID +scaleway:\/\/instance\/fr-par-2\/[0-9a-f-]{36}\n/);

    const calls = /Scaleway calls +(\d+) in total/.exec(output);
    assert.ok(calls, 'the Scaleway calls line');
    const total = Number(calls[1]);
    assert.ok(total > 0 && total <= MAX_SCALEWAY_CALLS, `${total} Scaleway calls, expected 1..${MAX_SCALEWAY_CALLS}`);
    assert.match(output, / 1 +createServer\n/, 'exactly one server created');

    assert.match(output, new RegExp(`Temporal Web UI +http://127\\.0\\.0\\.1:\\d+/namespaces/default/workflows/provision%2F${claim}%2F[0-9a-f-]{36}\n`));
  });
});
