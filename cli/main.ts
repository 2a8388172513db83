// `scw-karpenter`: the image's one entry point and the operator's CLI.
//   scw-karpenter watcher | worker          the two Deployments' processes
//   scw-karpenter catalog | status | gc | replay   the operator's commands
// Results go to stdout, progress and errors to stderr; exit codes in output.ts.
import { CliError, errorText, EXIT } from './output.ts';
import { packageVersion } from './version.ts';

export const USAGE = `usage: scw-karpenter <command> [options]   (scw-karpenter <command> --help for its options)
  watcher                    run the watcher (the watcher Deployment's command)
  worker                     run the Temporal worker (the worker Deployment's command)
  catalog [--zone Z]... [--all] [--output table|json]
                             GPU offerings per zone: live €/hour, availability, GPUs, vCPUs, memory
  status NODECLAIM [--output table|json]
                             a NodeClaim's provisioning: current step, attempts, last failure,
                             conditions and the Temporal Web UI link
  gc --dry-run [--output table|json]
                             what garbage collection would release now, and why (changes nothing)
  gc --trigger               start one run of the cluster's garbage collection Schedule now
  replay FILE... [--output table|json]
                             replay exported histories (temporal workflow show -w ID --output json > FILE)
  --version                  print the version
Progress goes to stderr when it is a terminal, or with --progress.
Exit codes: 0 done, 1 the operation failed, 2 bad usage or configuration.`;

/** The operator's commands: each parses its own arguments and returns an exit code, or throws a CliError. */
const COMMANDS: Record<string, () => Promise<(args: string[]) => Promise<number>>> = {
  catalog: async () => (await import('./catalog.ts')).runCatalog,
  status: async () => (await import('./status.ts')).runStatus,
  gc: async () => (await import('./gc.ts')).runGc,
  replay: async () => (await import('./replay.ts')).runReplay,
};

// `npm run x -- args` and `npx scw-karpenter -- args` may pass the separator on.
const [command, ...rest] = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));

async function runCommand(name: string, load: () => Promise<(args: string[]) => Promise<number>>): Promise<never> {
  let code: number;
  try {
    code = await (await load())(rest);
  } catch (err) {
    process.stderr.write(`scw-karpenter ${name}: ${errorText(err)}\n`);
    code = err instanceof CliError ? err.exitCode : EXIT.failed;
  }
  // Temporal's native runtime and keep-alive sockets would hold the process open: exit, once what
  // was written to stdout and stderr has been handed over (a pipe may be written asynchronously).
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
  process.exit(code);
}

const operatorCommand = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
if (operatorCommand && command) {
  await runCommand(command, operatorCommand);
} else {
  switch (command) {
    case 'watcher':
      await import('../watcher/main.ts');
      break;
    case 'worker':
      await import('../worker/main.ts');
      break;
    case '--version':
    case 'version':
      process.stdout.write(`scw-karpenter ${packageVersion()}\n`);
      break;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      break;
    default:
      process.stderr.write(`scw-karpenter: unknown command ${command}\n${USAGE}\n`);
      process.exitCode = EXIT.usage;
  }
}
