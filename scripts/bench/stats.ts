import { readFileSync } from 'node:fs';
/** Percentile of a list of numbers (nearest rank), 0 for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The middle value (the mean of the two middle ones for an even count), NaN for an empty list. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The machine's CPU time so far, in ticks: all of it and what the host took for others (steal), from /proc/stat; undefined off Linux. */
export function cpuTimes(): { total: number; steal: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { total: fields.slice(0, 8).reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/**
 * The share of CPU time a virtual machine's host gave to others between two
 * readings: on a shared host, the reason two runs of the same code differ.
 */
export function stealPercent(from: ReturnType<typeof cpuTimes>, to: ReturnType<typeof cpuTimes>): number | undefined {
  if (!from || !to || to.total === from.total) return undefined;
  return round((100 * (to.steal - from.steal)) / (to.total - from.total));
}
