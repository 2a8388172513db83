// The real parts a benchmark runs on, started side by side in one folder: a
// control plane with its scheduler and controllers, a Temporal dev server (in
// memory unless `persist`: then on a SQLite file, as npm start runs it), and the
// Scaleway simulator on its recorded profile at real speed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../sandbox/control-plane.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../sandbox/temporal-dev-server.ts';
import { startSimulator, type Simulator } from '../scaleway/simulator/index.ts';

export async function startBenchStack(dir: string, options: { persist?: boolean } = {}): Promise<[ControlPlane, TemporalDevServer, Simulator]> {
  mkdirSync(join(dir, 'kube'));
  mkdirSync(join(dir, 'temporal'));
  return Promise.all([
    startControlPlane({ dir: join(dir, 'kube'), withControllers: true }),
    startTemporalDevServer({ dir: join(dir, 'temporal'), headless: true, persist: options.persist === true }),
    startSimulator({ profile: 'recorded', timeScale: 1 }),
  ]);
}
