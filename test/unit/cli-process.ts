// Runs the CLI as a user does: a separate process of cli/main.ts, with an
// environment made for the test (nothing inherited but PATH, and a HOME of its
// own so no user's ~/.kube/config, Scaleway or Temporal profile is read).
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(REPO, 'cli', 'main.ts');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

let emptyHome: string | undefined;
/** A HOME with nothing in it, made once per test file. */
export const isolatedHome = (): string => (emptyHome ??= mkdtempSync(join(tmpdir(), 'scwk-cli-home-')));

export function runCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { cwd: REPO, env: { PATH: process.env.PATH, HOME: isolatedHome(), ...env }, timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 },
      (err, stdout, stderr) => {
        // A non-zero exit is a result here; a kill (timeout) or a spawn failure is not.
        if (err && typeof err.code !== 'number') reject(new Error(`scw-karpenter ${args.join(' ')}: ${err.message}\n${stderr}`));
        else resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
  });
}
