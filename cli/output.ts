// What every subcommand shares: results on stdout (a table or JSON), progress
// and errors on stderr, and exit codes a script can test.

/** 0 done; 1 the operation failed (an API unreachable, a history that no longer replays); 2 bad usage or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** An error whose message is the whole story for the user, with the exit code it stands for. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failed) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);

/** A progress line on stderr, so stdout stays the result (pipeable, `--json` parseable). */
export function progress(message: string): void {
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

export const json = (value: unknown): string => JSON.stringify(value, null, 2);
