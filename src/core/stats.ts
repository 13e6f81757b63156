/** Lock-contention summaries. Pure. */
import type { LockStats, MergeTiming, Percentiles } from './types.js';

/**
 * The p-th percentile of an ascending list, interpolating linearly between
 * the two nearest ranks (numpy's default), so the median of an even count is
 * the mean of the middle two. The one percentile of the project: lock
 * timings, bench figures and `compare`'s medians all use it.
 */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const at = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

const ms = (x: number): number => Math.round(x * 1000) / 1000;

/** p50, p99 and max of `values`, in milliseconds to the microsecond. */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: ms(quantile(sorted, 50)), p99: ms(quantile(sorted, 99)), max: ms(sorted.at(-1) ?? 0) };
}

export function summarizeMerges(merges: readonly MergeTiming[]): LockStats {
  return {
    count: merges.length,
    waitMs: percentiles(merges.map((m) => m.waitMs)),
    holdMs: percentiles(merges.map((m) => m.holdMs)),
    retries: merges.reduce((n, m) => n + m.retries, 0),
    // A group commit's timing is reported to each episode it carried: count its bytes, refusals and reclaims once.
    bytes: Math.round(merges.reduce((n, m) => n + m.bytes / (m.batch ?? 1), 0)),
    refused: Math.round(merges.reduce((n, m) => n + m.refused / (m.batch ?? 1), 0)),
    foreignWrites: Math.round(merges.reduce((n, m) => n + m.foreignWrites / (m.batch ?? 1), 0)),
    reclaimed: Math.round(merges.reduce((n, m) => n + m.reclaimed / (m.batch ?? 1), 0)),
    merges: Math.round(merges.reduce((n, m) => n + 1 / (m.batch ?? 1), 0)),
  };
}
