// What the simulated kubelet reads of the Scaleway simulator: its servers, their
// cloud-init (over the API, as a server's metadata service would hand it), and the
// facts of their commercial types. One wiring for the sandbox product and the chaos suite.
import type { Simulator } from '../scaleway/simulator/index.ts';
import { TEST_CREDENTIALS } from '../scaleway/simulator/testing.ts';
import type { KubeletSimulatorOptions } from './kubelet-simulator.ts';

/** The size of a server's root volume (slot 0): a local volume's own, or its SBS volume's from the block API. */
function rootVolumeBytes(server: Record<string, unknown>, blockSizes: ReadonlyMap<string, number>): number | undefined {
  const volumes = server.volumes as Record<string, { id?: unknown; size?: unknown; volume_type?: unknown } | undefined> | undefined;
  const root = volumes?.['0'];
  if (!root) return undefined;
  if (typeof root.size === 'number' && root.size > 0) return root.size;
  return typeof root.id === 'string' ? blockSizes.get(root.id) : undefined;
}

export function simulatorServers(sim: Simulator): Pick<KubeletSimulatorOptions, 'listServers' | 'cloudInit' | 'typeFacts'> {
  return {
    listServers: () => {
      const blockSizes = new Map(sim.volumes().flatMap((v) => (typeof v.id === 'string' && typeof v.size === 'number' ? [[v.id, v.size] as const] : [])));
      return Promise.resolve(sim.servers().map((s) => ({
        id: String(s.id),
        name: String(s.name),
        zone: String(s.zone),
        state: String(s.state),
        commercialType: String(s.commercial_type),
        rootVolumeBytes: rootVolumeBytes(s, blockSizes),
      })));
    },
    cloudInit: async (server) => {
      const res = await fetch(`${sim.url}/instance/v1/zones/${server.zone}/servers/${server.id}/user_data/cloud-init`, { headers: { 'X-Auth-Token': TEST_CREDENTIALS.secretKey } });
      return res.ok ? res.text() : undefined;
    },
    typeFacts: (type) => {
      const facts = sim.catalog.facts(type);
      return facts ? { ncpus: facts.ncpus, ramBytes: facts.ram, gpus: facts.gpu } : undefined;
    },
  };
}
