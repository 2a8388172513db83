// Standalone Scaleway API simulator:
//   npm run simulator -- --port 4599 --profile recorded --scale 0.05
//   --host 0.0.0.0 to be reached from other containers (docker-compose.yml); default 127.0.0.1.
// Flags win over env (SCW_SIM_PORT, SCW_SIM_HOST, SCW_SIM_PROFILE, SCW_SIM_SCALE, SCW_SIM_STOCK_POLICY).
// Prints `SCW_API_URL=<url>` on stdout once listening; stops on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { startSimulator } from './simulator.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    profile: { type: 'string' },
    scale: { type: 'string' },
    'stock-policy': { type: 'string' },
    'no-latency': { type: 'boolean' },
  },
});

const port = Number(values.port ?? process.env.SCW_SIM_PORT ?? 0);
const profile = values.profile ?? process.env.SCW_SIM_PROFILE ?? 'recorded';
const timeScale = Number(values.scale ?? process.env.SCW_SIM_SCALE ?? 1);
const stockPolicy = values['stock-policy'] ?? process.env.SCW_SIM_STOCK_POLICY ?? 'shortage';

if (profile !== 'instant' && profile !== 'recorded') throw new Error(`--profile must be instant or recorded, got ${profile}`);
if (stockPolicy !== 'shortage' && stockPolicy !== 'injected-only') throw new Error(`--stock-policy must be shortage or injected-only, got ${stockPolicy}`);
if (!Number.isInteger(port) || port < 0) throw new Error(`--port must be a port number, got ${values.port ?? process.env.SCW_SIM_PORT}`);

const host = values.host ?? process.env.SCW_SIM_HOST;
const sim = await startSimulator({ port, ...(host ? { host } : {}), profile, timeScale, stockPolicy, requestLatency: values['no-latency'] !== true });
console.log(`SCW_API_URL=${sim.url}`);
console.error(`scaleway simulator: profile ${profile} x${timeScale}, stock policy ${stockPolicy}, admin API at ${sim.url}/_sim`);

const stop = (): void => {
  sim.close().then(() => process.exit(0), (error: unknown) => {
    console.error('scaleway simulator: close failed', error);
    process.exit(1);
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
