/**
 * The run's progress line: episodes done of total, in flight, failed,
 * retried, the rate and an ETA. Pure: counters and a clock in, a string out;
 * `commands/run.ts` decides where (and how often) it goes.
 */

/** What the progress line counts; the run command updates it from run events. */
export interface ProgressState {
  total: number;
  done: number;
  inFlight: number;
  failed: number;
  retried: number;
  /**
   * What `retried` counts: attempts played again (a local run), or, in a queued run, episodes the queue handed
   * out again (a claim that expired, a commit that failed; its workers' own retries are not seen here). @default 'retried'
   */
  retriedAs?: 'retried' | 'handed out again';
  /** ms since the run started. */
  elapsedMs: number;
}

export function emptyProgress(total: number): ProgressState {
  return { total, done: 0, inFlight: 0, failed: 0, retried: 0, elapsedMs: 0 };
}

/** `1h02m`, `3m05s`, `42s`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function progressLine(p: ProgressState): string {
  const width = 20;
  const filled = p.total ? Math.round((p.done / p.total) * width) : width;
  const rate = p.elapsedMs > 0 ? p.done / (p.elapsedMs / 1000) : 0;
  const eta = rate > 0 ? formatDuration(((p.total - p.done) / rate) * 1000) : '?';
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} done, ${p.inFlight} in flight, ` +
    `${p.failed} failed, ${p.retried} ${p.retriedAs ?? 'retried'}, ${rate.toFixed(1)}/s, ETA ${p.done === p.total ? '0s' : eta}`
  );
}

/** For `--progress lines`: the done count at which the next log line is due (every `percent`% of total). */
export function nextLineAt(done: number, total: number, percent = 10): number {
  const step = Math.max(1, Math.ceil((total * percent) / 100));
  return (Math.floor(done / step) + 1) * step;
}
