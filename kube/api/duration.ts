// Durations as the CRDs write them: a run of <integer><unit> with units s, m, h
// (e.g. "1h30m", "720h"), or "Never" where the field allows it.

const DURATION = /^(?:[0-9]+(?:s|m|h))+$/;
const PART = /([0-9]+)(s|m|h)/g;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds in `text`; Infinity for "Never". Throws on anything else. */
export function parseDuration(text: string): number {
  if (text === 'Never') return Number.POSITIVE_INFINITY;
  if (!DURATION.test(text)) throw new Error(`invalid duration "${text}": expected e.g. 90s, 15m, 1h30m or Never`);
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return ms;
}

export function isDuration(text: string, { allowNever = false } = {}): boolean {
  return (allowNever && text === 'Never') || DURATION.test(text);
}
