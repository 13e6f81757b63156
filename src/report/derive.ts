/** Numbers the page derives from a source: chart rows, lock tables, failures. Pure. */
import { domainSpread } from '../core/compare.js';
import type { LockStats } from '../core/types.js';
import type { LostBar, RunView, SourceView } from './model.js';

/** Lost observations per domain for each mode (the median over repeats, as the terminal table's middle value). */
export function modeBars(source: SourceView): LostBar[] {
  if (!source.modes) return [];
  const { comparison, domains } = source.modes;
  return domains.flatMap((domain) => Object.entries(comparison.modes).map(([mode, { runs }]) => ({ domain, group: mode, lost: domainSpread(runs, domain, 'lost').median })));
}

/** Lost observations per domain for A and B of a saved-report diff. */
export function diffBars(source: SourceView): LostBar[] {
  if (!source.diff) return [];
  return source.diff.rows.flatMap((r) => [
    { domain: r.domain, group: 'A', lost: r.lost[0] ?? 0 },
    { domain: r.domain, group: 'B', lost: r.lost[1] ?? 0 },
  ]);
}

/** Several sources side by side: each source's loss table, one bar per domain and source. */
export function sourceBars(sources: readonly SourceView[]): LostBar[] {
  const withLoss = sources.filter((s) => s.loss);
  const domains = [...new Set(withLoss.flatMap((s) => s.loss!.rows.map((r) => r.domain)))];
  return domains.flatMap((domain) => withLoss.map((s) => ({ domain, group: s.label, lost: s.loss!.rows.find((r) => r.domain === domain)?.lost ?? 0 })));
}

export interface LockRow {
  domain: string;
  stats: LockStats;
  /** Episodes per lock acquisition. */
  meanBatch: number;
  /** Largest batch seen in the episodes' traces; null without traces. */
  maxBatch: number | null;
}

export function lockRows(run: RunView): LockRow[] {
  return Object.entries(run.contention).map(([domain, stats]) => {
    const batches = run.episodes.filter((e) => e.domain === domain && e.trace?.lock).map((e) => e.trace!.lock!.batch);
    const merges = stats.merges ?? stats.count;
    return { domain, stats, meanBatch: merges ? stats.count / merges : 0, maxBatch: batches.length ? Math.max(...batches) : null };
  });
}

export interface LockSample {
  domain: string;
  kind: 'wait' | 'hold';
  ms: number;
}

/** Every traced merge's lock wait and hold, for the distribution chart. */
export function lockSamples(run: RunView): LockSample[] {
  return run.episodes.flatMap((e) =>
    e.trace?.lock
      ? [
          { domain: e.domain, kind: 'wait' as const, ms: e.trace.lock.wait_ms },
          { domain: e.domain, kind: 'hold' as const, ms: e.trace.lock.hold_ms },
        ]
      : [],
  );
}

export interface FailureRow {
  episode: string;
  domain: string;
  index: number;
  status: string;
  code: string;
  message: string;
  /** Attempts the episode took, when the manifest records them. */
  attempts: number | null;
}

/** Episodes that failed or whose fate is unknown, and those that needed more than one attempt. */
export function failureRows(run: RunView): FailureRow[] {
  return run.episodes
    .map((e) => ({ e, attempts: typeof (e as { attempts?: unknown }).attempts === 'number' ? ((e as { attempts?: number }).attempts as number) : null }))
    .filter(({ e, attempts }) => e.status !== 'ok' || (attempts ?? 1) > 1)
    .map(({ e, attempts }) => {
      // An episode done after retries has no error of its own: its last failed attempt's says why it was retried.
      const tried = (e as { attempt_errors?: unknown }).attempt_errors;
      const lastTry = Array.isArray(tried) && typeof tried.at(-1) === 'string' ? (tried.at(-1) as string) : undefined;
      const error = e.error ?? lastTry ?? '';
      // Errors are recorded as `E_CODE: message`.
      const m = /^([A-Z][A-Z0-9_]+): (.*)$/s.exec(error);
      const message = m ? m[2]! : error;
      return { episode: e.episode_id, domain: e.domain, index: e.index, status: e.status, code: m ? m[1]! : '', message: e.error === undefined && lastTry ? `${message} (its last failed attempt)` : message, attempts };
    });
}
