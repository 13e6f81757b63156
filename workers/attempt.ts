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

/** Per run: whether it has stopped, and the controllers of the attempts playing in this thread now. */
interface RunStop {
  stopped: boolean;
  playing: Set<AbortController>;
}

const stops = new Map<string, RunStop>();

// In Node since 16; TypeScript types it from lib es2024 on, and this project targets es2023.
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

/**
 * This run's stop, as the scheduler's shared flag says: the scheduler sets the flag and notifies
 * it. A flag rather than a message, so a thread that picks up its first task after the stop
 * still sees it. One waiter per run and thread; when it fires, it aborts every attempt playing.
 */
export function runStop(runId: string, flag: Int32Array): RunStop {
  let stop = stops.get(runId);
  if (!stop) {
    const s: RunStop = { stopped: false, playing: new Set() };
    const fire = (): void => {
      s.stopped = true;
      for (const c of s.playing) c.abort('run stopped');
    };
    const wait = waitAsync(flag, 0, 0);
    if (wait.async) void (wait.value as Promise<string>).then(fire);
    else fire();
    stops.set(runId, s);
    stop = s;
  }
  return stop;
}

/**
 * Runs `play` with `episodeMs` of think time, settling with its result, or
 * rejecting with EpisodeTimeoutError once `timeoutMs` (0: never) has passed.
 */
export async function raceTimeout(
  play: (ctx: Pick<EpisodeContext, 'signal'>) => DomainPlay | Promise<DomainPlay>,
  opts: { runStop: RunStop; timeoutMs: number; episodeMs: number },
): Promise<DomainPlay> {
  // One controller per attempt, aborted by the run's stop or the timeout: an agent may hang any
  // number of listeners on its signal, and they go away with it. (AbortSignal.any would do the
  // same at several times the cost per episode, which shows with hundreds of episodes a second.)
  const controller = new AbortController();
  const { playing } = opts.runStop;
  if (opts.runStop.stopped) controller.abort('run stopped');
  else playing.add(controller);
  let timer: NodeJS.Timeout | undefined;
  // The deadline is set before the play is called: a synchronous play runs to its end inside that call.
  const started = performance.now();
  const expired =
    opts.timeoutMs > 0
      ? new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            controller.abort(new EpisodeTimeoutError(opts.timeoutMs));
            reject(new EpisodeTimeoutError(opts.timeoutMs));
          }, opts.timeoutMs);
        })
      : null;
  // When the play (and its think time) ended, taken at once: its continuation may run later, behind another
  // episode's synchronous work on this thread, and that delay is not the play's.
  let endedAt = 0;
  const attempt = (async () => {
    const result = await play({ signal: controller.signal });
    if (opts.episodeMs > 0) await sleep(opts.episodeMs);
    endedAt = performance.now();
    return result;
  })();
  try {
    if (!expired) return await attempt;
    // An abandoned play may still reject later, and the timer's rejection may come after the play won the race:
    // both are expected and go nowhere.
    attempt.catch(() => {});
    expired.catch(() => {});
    const result = await Promise.race([attempt, expired]);
    // A play that never yields its thread (a synchronous loop) keeps the timer from firing: it cannot be
    // interrupted, but if it ended past the deadline its value is discarded like any late play's.
    if (endedAt - started >= opts.timeoutMs) throw new EpisodeTimeoutError(opts.timeoutMs);
    return result;
  } finally {
    clearTimeout(timer);
    playing.delete(controller);
  }
}
