// A minimal cron matcher for budget schedules. Upstream parses them with
// robfig/cron's ParseStandard in UTC, so we accept the same standard syntax:
// five fields (minute hour day-of-month month day-of-week) with `*`, `?`, lists,
// ranges, steps (`*/15`, `1-5/2`, `10/5`), month and weekday names (jan, mon-fri),
// and the macros @yearly/@annually/@monthly/@weekly/@daily/@midnight/@hourly.
// Not supported (rejected): seconds fields, `L`, `W`, `#`, `TZ=`/`CRON_TZ=`
// prefixes, and @every.

interface Field {
  readonly allowed: ReadonlySet<number>;
  /** Written as `*` or `?`: robfig treats such a day field as "no restriction" when combining day-of-month with day-of-week. */
  readonly star: boolean;
}

export interface CronSchedule {
  readonly minute: Field;
  readonly hour: Field;
  readonly dayOfMonth: Field;
  readonly month: Field;
  readonly dayOfWeek: Field;
}

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface Bounds {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Value of names[0]. */
  readonly namesFrom?: number;
}

const FIELDS: readonly Bounds[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { name: 'day of week', min: 0, max: 6, names: WEEKDAYS, namesFrom: 0 },
];

function value(text: string, b: Bounds, schedule: string): number {
  const lower = text.toLowerCase();
  const named = b.names?.indexOf(lower) ?? -1;
  const n = named >= 0 ? named + (b.namesFrom ?? 0) : /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(n) || n < b.min || n > b.max) throw new Error(`invalid cron schedule "${schedule}": ${b.name} "${text}" is not in ${b.min}-${b.max}`);
  return n;
}

function parseField(text: string, b: Bounds, schedule: string): Field {
  const allowed = new Set<number>();
  let star = false;
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (range === undefined || range === '' || extra !== undefined) throw new Error(`invalid cron schedule "${schedule}": bad ${b.name} "${part}"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^[0-9]+$/.test(stepText) || Number(stepText) === 0) throw new Error(`invalid cron schedule "${schedule}": bad step in ${b.name} "${part}"`);
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (range === '*' || range === '?') {
      [from, to] = [b.min, b.max];
      if (stepText === undefined) star = true;
    } else if (range.includes('-')) {
      const [lo, hi, more] = range.split('-');
      if (lo === undefined || hi === undefined || more !== undefined) throw new Error(`invalid cron schedule "${schedule}": bad ${b.name} range "${range}"`);
      [from, to] = [value(lo, b, schedule), value(hi, b, schedule)];
      if (from > to) throw new Error(`invalid cron schedule "${schedule}": ${b.name} range "${range}" runs backwards`);
    } else {
      from = value(range, b, schedule);
      // robfig: "N/step" means N through the maximum.
      to = stepText === undefined ? from : b.max;
    }
    for (let v = from; v <= to; v += step) allowed.add(v);
  }
  return { allowed, star };
}

export function parseCron(schedule: string): CronSchedule {
  const trimmed = schedule.trim();
  const expanded = trimmed.startsWith('@') ? MACROS[trimmed.toLowerCase()] : trimmed;
  if (expanded === undefined) throw new Error(`invalid cron schedule "${schedule}": unknown macro (supported: ${Object.keys(MACROS).join(', ')})`);
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) throw new Error(`invalid cron schedule "${schedule}": expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`);
  const [minute, hour, dayOfMonth, month, dayOfWeek] = parts.map((p, i) => parseField(p, FIELDS[i]!, schedule)) as [Field, Field, Field, Field, Field];
  return { minute, hour, dayOfMonth, month, dayOfWeek };
}

/** Whether the schedule fires at the minute containing `at` (UTC). */
export function cronMatches(cron: CronSchedule, at: Date): boolean {
  if (!cron.minute.allowed.has(at.getUTCMinutes()) || !cron.hour.allowed.has(at.getUTCHours()) || !cron.month.allowed.has(at.getUTCMonth() + 1)) return false;
  const dom = cron.dayOfMonth.allowed.has(at.getUTCDate());
  const dow = cron.dayOfWeek.allowed.has(at.getUTCDay());
  // As robfig/cron (and Vixie cron): when both day fields are restricted, either may match.
  return cron.dayOfMonth.star || cron.dayOfWeek.star ? dom && dow : dom || dow;
}

const MINUTE_MS = 60_000;

/**
 * Whether a window of `durationMs` opened by the schedule covers `now`: the
 * schedule fired at some minute t with now − duration < t ≤ now (upstream's
 * Budget.IsActive: the next hit after now − duration is not after now).
 */
export function cronWindowActive(cron: CronSchedule, durationMs: number, now: Date): boolean {
  const start = now.getTime() - durationMs;
  for (let t = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS; t > start; t -= MINUTE_MS) {
    if (cronMatches(cron, new Date(t))) return true;
  }
  return false;
}
