// What the simulated kubelet reads of the Scaleway simulator: its servers, their
// cloud-init (over the API, as a server's metadata service would hand it), and the
// facts of their commercial types. One wiring for the sandbox product and the chaos suite.
import type { Simulator } from '../scaleway/simulator/index.ts';
import { TEST_CREDENTIALS } from '../scaleway/simulator/testing.ts';
import type { KubeletSimulatorOptions } from './kubelet-simulator.ts';

export function simulatorServers(sim: Simulator): Pick<KubeletSimulatorOptions, 'listServers' | 'cloudInit' | 'typeFacts'> {
  return {
    listServers: () => Promise.resolve(sim.servers().map((s) => ({
      id: String(s.id),
      name: String(s.name),
      zone: String(s.zone),
      state: String(s.state),
      commercialType: String(s.commercial_type),
    }))),
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
