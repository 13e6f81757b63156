/**
 * An episode's attempts: p-retry re-plays a failed attempt with exponential
 * backoff and jitter, unless the failure is fatal, says `retryable: false`, or
 * the run is stopping. Every attempt shares the episode id; only a successful
 * attempt persists anything (the worker guarantees it), so the episode is
 * written and merged at most once.
 */
import { setMaxListeners } from 'node:events';
import pRetry, { AbortError } from 'p-retry';
import { epochMs } from './episode-clock.js';
import type { EpisodeFailed, EpisodeOutcome } from './messages.js';

export interface AttemptOptions {
  /** Re-plays after the first attempt. */
  retries: number;
  /** The first backoff in ms; it doubles each time, times a random 1..2. */
  retryDelayMs: number;
  signal?: AbortSignal;
  /** Resolves with the start time once the attempt may start (the run's rate limit). */
  gate?: () => Promise<number>;
  /** Called once, when the first attempt starts. */
  onFirstStart?: (startedAt: number) => void;
  /** Called when a failed attempt will be retried. */
  onRetry?: (error: string) => void;
}

/** p-retry's longest backoff between two attempts. */
const maxBackoffMs = (retryDelayMs: number): number => Math.max(retryDelayMs, 60_000);

/**
 * The longest an episode's attempts can take: every attempt timing out, and each backoff at its
 * largest (p-retry's: the first delay × 2^n × 2 for randomize's top factor, capped). Undefined
 * when an attempt has no timeout: nothing bounds it.
 */
export function worstPlayMs(timeoutMs: number, retries: number, retryDelayMs: number): { ms: number; backoffMs: number } | undefined {
  if (timeoutMs <= 0) return undefined;
  let backoffMs = 0;
  for (let n = 0; n < retries; n++) backoffMs += Math.min(retryDelayMs * 2 ** n * 2, maxBackoffMs(retryDelayMs));
  return { ms: timeoutMs * (retries + 1) + backoffMs, backoffMs };
}

class AttemptFailed extends Error {
  constructor(readonly outcome: EpisodeFailed) {
    super(outcome.error.message);
  }
}

const describe = (o: EpisodeFailed): string => `${o.error.code}: ${o.error.message}`;

/** What p-retry does with `retries: 0`: refuses to start once the signal fired, else makes the one attempt. */
async function firstOnly(once: (attemptNumber: number) => Promise<EpisodeOutcome>, signal: AbortSignal | undefined): Promise<EpisodeOutcome> {
  signal?.throwIfAborted();
  return once(1);
}

/**
 * Plays `attempt(0)`, `attempt(1)`, ... until one succeeds or retrying stops;
 * the outcome carries the attempt log. Undefined when the run stopped before the first attempt began.
 */
export async function playAttempts(attempt: (n: number) => Promise<EpisodeOutcome>, options: AttemptOptions): Promise<EpisodeOutcome | undefined> {
  let startedAt: number | undefined;
  let last: EpisodeFailed | undefined;
  const errors: string[] = [];
  // p-retry throws a success away when the signal fired during the attempt: that success has persisted, so it is kept.
  let succeeded: EpisodeOutcome | undefined;
  let playMs = 0;
  const once = async (attemptNumber: number): Promise<EpisodeOutcome> => {
    // The clock of the rate gate and the episode traces, with or without --rate.
    const at = options.gate ? await options.gate() : epochMs();
    if (startedAt === undefined) {
      if (options.signal?.aborted) throw new AbortError('stopped before the episode started');
      startedAt = at;
      options.onFirstStart?.(at);
    }
    const outcome = await attempt(attemptNumber - 1);
    playMs += outcome.playMs ?? 0;
    if (outcome.ok) return (succeeded = outcome);
    last = outcome;
    errors.push(describe(outcome));
    const final = outcome.error.fatal || outcome.error.retryable === false || options.signal?.aborted;
    throw final ? new AbortError(new AttemptFailed(outcome)) : new AttemptFailed(outcome);
  };
  let outcome: EpisodeOutcome;
  // Every episode in its backoff listens on the run's one signal, hundreds at once with agents in flight: not a leak,
  // and Node's warning past 10 listeners would print from a library that promises to print nothing.
  if (options.signal && options.retries > 0) setMaxListeners(0, options.signal);
  try {
    // Without retries p-retry only adds its per-call cost: one attempt, the same outcomes.
    outcome = options.retries === 0 ? await firstOnly(once, options.signal) : await pRetry(once, {
      retries: options.retries,
      factor: 2,
      minTimeout: options.retryDelayMs,
      maxTimeout: maxBackoffMs(options.retryDelayMs),
      randomize: true,
      signal: options.signal,
      shouldRetry: () => !options.signal?.aborted,
      onFailedAttempt: ({ retriesLeft }) => {
        if (retriesLeft > 0 && !options.signal?.aborted && last) options.onRetry?.(describe(last));
      },
    });
  } catch {
    // p-retry awaits a running attempt even when the signal fires, so `succeeded` or `last` is its final word.
    if (succeeded) outcome = succeeded;
    else if (last) outcome = last;
    else return undefined;
  }
  return {
    ...outcome,
    attempts: errors.length + (outcome.ok ? 1 : 0),
    ...(errors.length ? { attemptErrors: errors } : {}),
    started_at: new Date(startedAt!).toISOString(),
    playMs,
  };
}
