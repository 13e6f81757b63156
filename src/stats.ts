/** Lock-contention summaries. Pure. */
import type { LockStats } from './types.js';
import type { MergeTiming } from './messages.js';

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const ms = (x: number): number => Math.round(x * 1000) / 1000;

function spread(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: ms(percentile(sorted, 50)), p99: ms(percentile(sorted, 99)), max: ms(sorted.at(-1) ?? 0) };
}

export function summarizeMerges(merges: readonly MergeTiming[]): LockStats {
  return {
    count: merges.length,
    waitMs: spread(merges.map((m) => m.waitMs)),
    holdMs: spread(merges.map((m) => m.holdMs)),
    retries: merges.reduce((n, m) => n + m.retries, 0),
    bytes: merges.reduce((n, m) => n + m.bytes, 0),
    refused: merges.reduce((n, m) => n + m.refused, 0),
    reclaimed: merges.reduce((n, m) => n + m.reclaimed, 0),
  };
}
