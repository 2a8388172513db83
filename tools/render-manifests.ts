// Renders the plain manifests of deploy/ from the Helm chart, so `kubectl apply
// --server-side -f deploy/crds -f deploy/` installs what `helm install` would
// (release scw-karpenter in namespace scw-karpenter, the chart's defaults, plus
// the Namespace itself). deploy/crds is the one copy of the CRDs: both charts
// link to it. `npm run manifests` writes; `--check` fails when deploy/ is stale.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const CHART_DIR = join(root, 'charts', 'scw-karpenter');
export const CRD_CHART_DIR = join(root, 'charts', 'scw-karpenter-crd');
export const DEPLOY_MANIFEST = join(root, 'deploy', 'scw-karpenter.yaml');
export const RELEASE = { name: 'scw-karpenter', namespace: 'scw-karpenter' } as const;

/** The pinned helm, built by tools/install-tools.sh on first use. */
export function helmPath(): string {
  const bin = execFileSync('bash', [join(root, 'tools', 'install-tools.sh'), 'helm'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return join(bin, 'helm');
}

/** Runs helm; its symlink notices ("found symbolic link in path", the charts' link to deploy/crds) are dropped. */
export function helm(args: string[], helmBin = helmPath()): string {
  return execFileSync(helmBin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

const HEADER = `# Rendered from charts/scw-karpenter by \`npm run manifests\` (tools/render-manifests.ts): do not edit.
# Release ${RELEASE.name} in namespace ${RELEASE.namespace}, the chart's default values, plus the Namespace.
# Install: kubectl apply --server-side -f deploy/crds -f deploy/
# then create the Secret ${RELEASE.name}-scaleway (README "Install in your cluster").
`;

export function renderDeployManifests(helmBin = helmPath()): string {
  const out = helm(['template', RELEASE.name, CHART_DIR, '--namespace', RELEASE.namespace, '--set', 'createNamespace=true'], helmBin);
  return HEADER + out;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const rendered = renderDeployManifests();
  if (process.argv.includes('--check')) {
    const current = readFileSync(DEPLOY_MANIFEST, 'utf8');
    if (current !== rendered) {
      console.error(`${DEPLOY_MANIFEST} is stale: run npm run manifests`);
      process.exit(1);
    }
    console.log(`${DEPLOY_MANIFEST} is up to date`);
  } else {
    writeFileSync(DEPLOY_MANIFEST, rendered);
    console.log(`wrote ${DEPLOY_MANIFEST}`);
  }
}
