// Kubernetes resource quantities (`500m`, `16Gi`, `1.5`, `2e3`) as numbers:
// cores for CPU, bytes for memory and storage, counts for the rest.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E))?$/;

export function parseQuantity(text: string | number): number {
  if (typeof text === 'number') return text;
  const match = QUANTITY.exec(text.trim());
  if (!match) throw new Error(`invalid quantity "${text}"`);
  const [, number, binary, exponent, decimal] = match;
  const value = Number(number);
  if (binary) return value * (BINARY[binary] ?? 1);
  if (exponent) return value * 10 ** Number(exponent.slice(1));
  return value * (DECIMAL[decimal ?? ''] ?? 1);
}

/** Formats a CPU amount in cores as Kubernetes does: whole cores, else millicores. */
export function formatCpu(cores: number): string {
  return Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`;
}

/** Formats bytes as Ki, the unit the kubelet reports memory in. */
export function formatBytesKi(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}
