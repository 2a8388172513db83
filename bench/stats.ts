// Percentiles as bench/provisioning-latency.ts computes them (nearest rank), moved here to share.
export const pct = (sorted: readonly number[], p: number): number =>
  (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN);
export const sortedCopy = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
export const sec = (ms: number): string => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : 'n/a');
