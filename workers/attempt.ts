/**
 * One attempt at playing an episode, inside a worker thread: the run's stop
 * flag, the attempt's timeout, and the race that abandons a late play.
 *
 * Why a race and not a flag: the caller persists only the value this function
 * returns, and it returns (or throws) exactly once. When the timeout wins, the
 * play's promise is left behind with a no-op handler; if it settles later its
 * value reaches nobody, so no episode file and no merge can come of it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DomainPlay, EpisodeContext } from '../src/domains/domain.js';
import { EpisodeTimeoutError } from '../src/core/errors.js';

const stops = new Map<string, AbortController>();

// In Node since 16; TypeScript types it from lib es2024 on, and this project targets es2023.
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

/**
 * A signal that fires when this run is stopped: the scheduler sets the shared flag and notifies
 * it. A flag rather than a message, so a thread that picks up its first task after the stop
 * still sees it. One waiter per run and thread.
 */
export function runStopSignal(runId: string, flag: Int32Array): AbortSignal {
  let controller = stops.get(runId);
  if (!controller) {
    const c = new AbortController();
    const wait = waitAsync(flag, 0, 0);
    if (wait.async) void (wait.value as Promise<string>).then(() => c.abort('run stopped'));
    else c.abort('run stopped');
    stops.set(runId, c);
    controller = c;
  }
  return controller.signal;
}

/**
 * Runs `play` with `episodeMs` of think time, settling with its result, or
 * rejecting with EpisodeTimeoutError once `timeoutMs` (0: never) has passed.
 */
export async function raceTimeout(
  play: (ctx: Pick<EpisodeContext, 'signal'>) => DomainPlay | Promise<DomainPlay>,
  opts: { runStop: AbortSignal; timeoutMs: number; episodeMs: number },
): Promise<DomainPlay> {
  const timeout = new AbortController();
  const signal = AbortSignal.any([opts.runStop, timeout.signal]);
  const attempt = (async () => {
    const result = await play({ signal });
    if (opts.episodeMs > 0) await sleep(opts.episodeMs);
    return result;
  })();
  if (opts.timeoutMs <= 0) return attempt;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timeout.abort(new EpisodeTimeoutError(opts.timeoutMs));
      reject(new EpisodeTimeoutError(opts.timeoutMs));
    }, opts.timeoutMs);
  });
  // An abandoned play may still reject later; that rejection is expected and goes nowhere.
  attempt.catch(() => {});
  try {
    return await Promise.race([attempt, expired]);
  } finally {
    clearTimeout(timer);
  }
}
