// What every subcommand shares: results on stdout (a table or JSON), progress
// and errors on stderr, and exit codes a script can test.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** 0 done; 1 the operation failed (an API unreachable, a history that no longer replays, no such NodeClaim); 2 bad usage or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** An error whose message is the whole story for the user, with the exit code it stands for. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failed) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);

/** A configuration loader's refusal (it names the variable) as a usage error: exit 2, as for a bad flag. */
export function configOrUsageError<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    throw usageError(err instanceof Error ? err.message : String(err));
  }
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The options every result-printing command takes. */
export const COMMON_OPTIONS = {
  output: { type: 'string', short: 'o' },
  progress: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

/** parseArgs, strict, with the command's usage appended to any complaint (exit 2). */
export function parseCommandArgs<O extends ParseArgsOptionsConfig>(args: string[], options: O, usage: string, allowPositionals = false) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (err) {
    throw usageError(`${errorText(err)}\n${usage}`);
  }
}

export type OutputFormat = 'table' | 'json';

/** `--output table|json` (`-o`); `--json` is catalog's older spelling of `--output json`. */
export function outputFormat(value: string | undefined, jsonFlag = false): OutputFormat {
  if (value === undefined) return jsonFlag ? 'json' : 'table';
  if (value !== 'table' && value !== 'json') throw usageError(`--output must be table or json, got ${value}`);
  if (jsonFlag && value !== 'json') throw usageError(`--json and --output ${value} disagree`);
  return value;
}

/** Reports what a long operation is doing. Lines go to stderr, so stdout stays the result. */
export type Progress = (message: string) => void;

/**
 * Progress lines when someone watches (stderr is a terminal) or asked for them
 * (--progress); silent otherwise, so a script's or CI's stderr holds only the
 * warnings and errors. Never on stdout: `--output json | jq` stays parseable.
 */
export function progressReporter(requested: boolean | undefined, stderr: Pick<NodeJS.WriteStream, 'write' | 'isTTY'> = process.stderr): Progress {
  if (!requested && !stderr.isTTY) return () => {};
  return (message) => {
    stderr.write(`${message}\n`);
  };
}

/** A warning the user must see whatever the progress setting: a zone not read, a result incomplete. */
export function warn(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: string[]): string => r.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** `Label:  value` lines, labels aligned: one object's fields, as `kubectl describe` prints them. */
export function fields(entries: [label: string, value: string | number | undefined][]): string {
  const shown = entries.filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '');
  const width = Math.max(0, ...shown.map(([label]) => label.length + 1));
  return shown.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`).join('\n');
}

export const json = (value: unknown): string => JSON.stringify(value, null, 2);
