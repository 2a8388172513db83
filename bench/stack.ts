// The real parts a benchmark runs on, started side by side in one folder: a
// control plane with its scheduler and controllers, an in-memory Temporal dev
// server, and the Scaleway simulator on its recorded profile at real speed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../sandbox/control-plane.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../sandbox/temporal-dev-server.ts';
import { startSimulator, type Simulator } from '../scaleway/simulator/index.ts';

export async function startBenchStack(dir: string): Promise<[ControlPlane, TemporalDevServer, Simulator]> {
  mkdirSync(join(dir, 'kube'));
  mkdirSync(join(dir, 'temporal'));
  return Promise.all([
    startControlPlane({ dir: join(dir, 'kube'), withControllers: true }),
    startTemporalDevServer({ dir: join(dir, 'temporal'), headless: true, persist: false }),
    startSimulator({ profile: 'recorded', timeScale: 1 }),
  ]);
}
