// `scw-karpenter`: the image's one entry point and the operator's CLI.
//   scw-karpenter watcher | worker          the two Deployments' processes
//   scw-karpenter catalog [--zone Z] [--json] GPU offerings with live price and stock
//   scw-karpenter replay FILE...            replay exported workflow histories
import { CliError } from './output.ts';
import { packageVersion } from './version.ts';

const USAGE = `usage: scw-karpenter <command>
  watcher                    run the watcher (the watcher Deployment's command)
  worker                     run the Temporal worker (the worker Deployment's command)
  catalog [--zone Z]... [--json]
                             GPU offerings per zone: live €/hour, availability, GPUs, vCPUs, memory
  replay FILE...             replay exported histories (temporal workflow show -w ID --output json > FILE)
  --version                  print the version`;

const [command, ...rest] = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));

switch (command) {
  case 'watcher':
    await import('../watcher/main.ts');
    break;
  case 'worker':
    await import('../worker/main.ts');
    break;
  case 'catalog': {
    const { runCatalog } = await import('./catalog.ts');
    try {
      process.exitCode = await runCatalog(rest);
    } catch (err) {
      process.stderr.write(`scw-karpenter catalog: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = err instanceof CliError ? err.exitCode : 1;
    }
    break;
  }
  case 'replay':
    process.argv = [process.argv[0] ?? 'node', 'replay', ...rest];
    await import('./replay.ts');
    break;
  case '--version':
  case 'version':
    process.stdout.write(`scw-karpenter ${packageVersion()}\n`);
    break;
  case undefined:
  case '--help':
  case 'help':
    process.stdout.write(`${USAGE}\n`);
    break;
  default:
    process.stderr.write(`scw-karpenter: unknown command ${command}\n${USAGE}\n`);
    process.exitCode = 2;
}
