// The process's one logger: JSON lines (or text for a terminal) on stdout,
// filtered by level, with child loggers that bind fields. Lines about a
// NodeClaim carry `nodeClaim`, `nodePool`, `workflowId`, `serverId` and `zone`
// fields, so a log query finds every line of one node's life. Values under a
// secret-looking key are replaced before a line is written.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'text';
export type LogFields = Record<string, unknown>;

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggingSettings {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go (tests capture them); stdout by default. */
  write?: (line: string) => void;
}

const settings: Required<LoggingSettings> = { level: 'info', format: 'json', write: (line) => process.stdout.write(`${line}\n`) };

/** Sets the level, format and sink of every logger of the process, those made earlier included. */
export function configureLogging(options: Partial<LoggingSettings>): void {
  if (options.level !== undefined) settings.level = options.level;
  if (options.format !== undefined) settings.format = options.format;
  if (options.write !== undefined) settings.write = options.write;
}

export function loggingSettings(): Readonly<Required<LoggingSettings>> {
  return settings;
}

export function isLevelEnabled(level: LogLevel): boolean {
  return SEVERITY[level] >= SEVERITY[settings.level];
}

/** Keys whose values are never written: credentials, tokens, keys, user data (which holds a join token). */
const SECRET_KEY = /secret|password|passwd|token|apikey|api_key|accesskey|access_key|privatekey|private_key|authorization|credential|userdata|user_data|cloudinit|cloud_init/i;
/** Keys that name a secret-ish thing without being one. */
const NOT_SECRET = /^(secretName|tokenName|tokenId|secretRef|existingSecret)$/;
export const REDACTED = '[redacted]';

function clean(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...(value.cause !== undefined && depth < 4 ? { cause: clean(value.cause, depth + 1, seen) } : {}) };
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > 6) return '[…]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1, seen));
  const out: LogFields = {};
  for (const [key, v] of Object.entries(value)) {
    if (SECRET_KEY.test(key) && !NOT_SECRET.test(key)) out[key] = REDACTED;
    else {
      const c = clean(v, depth + 1, seen);
      if (c !== undefined) out[key] = c;
    }
  }
  return out;
}

/** Fields as they will be written: errors as {name, message}, dates ISO, secrets replaced. */
export function sanitizeFields(fields: LogFields): LogFields {
  return clean(fields, 0, new WeakSet()) as LogFields;
}

const RESERVED = new Set(['level', 'time', 'logger', 'message']);

function textValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

export class Logger {
  constructor(readonly name: string, private readonly bound: LogFields = {}) {}

  /** A logger that adds these fields to every line (a NodeClaim's, a controller's name). */
  child(fields: LogFields & { logger?: string }): Logger {
    const { logger, ...rest } = fields;
    return new Logger(typeof logger === 'string' ? logger : this.name, { ...this.bound, ...rest });
  }

  debug(message: string, fields?: LogFields): void {
    this.write('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.write('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.write('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.write('error', message, fields);
  }

  log(level: LogLevel, message: string, fields?: LogFields): void {
    this.write(level, message, fields);
  }

  private write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (!isLevelEnabled(level)) return;
    const all = sanitizeFields({ ...this.bound, ...fields });
    // A field may not overwrite the line's own keys: it is kept beside them.
    for (const key of Object.keys(all)) {
      if (RESERVED.has(key)) {
        all[`field.${key}`] = all[key];
        delete all[key];
      }
    }
    const time = new Date().toISOString();
    let line: string;
    if (settings.format === 'json') {
      line = JSON.stringify({ level, time, logger: this.name, message, ...all });
    } else {
      const extra = Object.entries(all).map(([k, v]) => `${k}=${textValue(v)}`).join(' ');
      line = `${time} ${level.toUpperCase().padEnd(5)} ${this.name}: ${message}${extra ? ` ${extra}` : ''}`;
    }
    try {
      settings.write(line);
    } catch {
      // A closed stdout must not take the process down with it.
    }
  }
}

/** The root logger; components take a child: `log.child({ logger: 'watcher.provisioner' })`. */
export const log = new Logger('scw-karpenter');

/** The message of anything thrown, for a log line's `error` field. */
export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
