// Real parts for integration tests: each suite asks for the pieces it needs and
// gets them in a temp folder, stopped in `after` even when a test fails (and
// killed on process exit as a last resort, see sandbox/processes.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { startTemporalDevServer, type TemporalDevServer } from '../../sandbox/temporal-dev-server.ts';
import { startControlPlane, type ControlPlane } from '../../sandbox/control-plane.ts';

// Cleanups run once, when the test file ends: `after` registered here at import
// time belongs to the file's root test, whereas one registered inside a
// `before` hook would run as soon as that hook returns.
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Registers work to undo when the test file ends, last registered first. */
export function onTeardown(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `scwk-${prefix}-`));
  onTeardown(() => {
    if (!process.env.SCWK_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export async function useTemporal(): Promise<TemporalDevServer> {
  const server = await startTemporalDevServer({ dir: tempDir('temporal'), headless: true, persist: false });
  onTeardown(() => server.stop());
  console.log(`[stack] temporal dev server ${server.address}: ${server.version}`);
  return server;
}

export async function useControlPlane(opts: { withControllers?: boolean } = {}): Promise<ControlPlane> {
  const cp = await startControlPlane({ dir: tempDir('kube'), withControllers: opts.withControllers ?? false });
  onTeardown(() => cp.stop());
  for (const [tool, version] of Object.entries(cp.versions)) console.log(`[stack] ${tool}: ${version}`);
  return cp;
}
