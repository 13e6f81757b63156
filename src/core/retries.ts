/**
 * What a run's retries came to, from its manifest's episodes. Pure. Runs cost money per attempt:
 * the summary says how many attempts were played again, what the failed ones failed with, and
 * how many failures look like the model's rate limit, which `--rate` prevents instead of retrying.
 */
import type { EpisodeEntry } from './types.js';

export interface RetrySummary {
  /** Attempts played again after a failed one. */
  replayed: number;
  /** Episodes with more than one attempt. */
  episodes: number;
  /** Of those, episodes that then succeeded. */
  recovered: number;
  /** Failed attempts by error code (`E_TIMEOUT`, ...), most frequent first. */
  byCode: { code: string; count: number }[];
  /** Failed attempts whose message reads as a rate limit (HTTP 429, "rate limit"). */
  rateLimited: number;
}

const RATE_LIMITED = /\b429\b|rate.?limit|too many requests/i;

/** Null when no episode was attempted more than once. */
export function summarizeRetries(episodes: readonly Pick<EpisodeEntry, 'status' | 'attempts' | 'attempt_errors'>[]): RetrySummary | null {
  const retried = episodes.filter((e) => (e.attempts ?? 1) > 1);
  if (retried.length === 0) return null;
  const codes = new Map<string, number>();
  let rateLimited = 0;
  for (const e of episodes) {
    for (const error of e.attempt_errors ?? []) {
      const code = /^([A-Z][A-Z0-9_]*):/.exec(error)?.[1] ?? 'other';
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (RATE_LIMITED.test(error)) rateLimited++;
    }
  }
  return {
    replayed: retried.reduce((n, e) => n + (e.attempts ?? 1) - 1, 0),
    episodes: retried.length,
    recovered: retried.filter((e) => e.status === 'ok').length,
    byCode: [...codes].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
    rateLimited,
  };
}
