/**
 * The one way an episode is played, for local runs (src/run/scheduler.ts) and
 * queue workers (src/queue/worker.ts) alike: a Piscina pool of
 * workers/episode-worker.ts threads, and an episode's attempts on it
 * (src/run/attempts.ts: ctx, timeout, retries with backoff). Sharing it keeps the
 * two run modes from drifting apart.
 */
import { Piscina } from 'piscina';
import { playAttempts } from './attempts.js';
import type { AttemptOptions } from './attempts.js';
import { episodeId } from '../core/episode.js';
import type { EpisodeOutcome, EpisodeTask } from './messages.js';
import { siblingModule, workerExecArgv } from './module-file.js';
import { lockTurnsWorkerData } from '../store/local-turns.js';
import { readyCounter, threadsReady } from './thread-ready.js';

export type EpisodePool = Piscina<EpisodeTask, EpisodeOutcome> & {
  /** Resolves once every thread has loaded the episode worker (a thread that fails to start rejects it). */
  ready(): Promise<void>;
};

/** The worker file next to this module, in src/ under tsx or dist/ when built. */
function workerFile(): string {
  return siblingModule(import.meta.url, '../../workers/episode-worker').href;
}

/**
 * Threads worth starting for `episodes` episodes: never more than there are episodes to play, since a thread
 * costs its start-up (about 0.1 s of CPU, loading the worker's modules) whether or not it plays.
 */
export function poolThreads(threads: number, episodes?: number): number {
  return episodes === undefined ? threads : Math.max(1, Math.min(threads, episodes));
}

/**
 * `threads` threads (fewer when `episodes`, the most this pool will play, is smaller), each playing up to
 * ⌈concurrency / threads⌉ episodes at once (episodes mostly wait).
 */
export function episodePool(requested: number, concurrency: number, episodes?: number): EpisodePool {
  const threads = poolThreads(requested, episodes);
  const counter = readyCounter();
  const pool = new Piscina<EpisodeTask, EpisodeOutcome>({
    filename: workerFile(),
    execArgv: workerExecArgv(),
    workerData: { ...lockTurnsWorkerData(), ...counter },
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: Math.max(1, Math.ceil(concurrency / threads)),
    idleTimeout: 1_000,
    // Nothing reads the pool's wait/run histograms: recording them costs the main thread per episode.
    recordTiming: false,
  });
  const ready = (): Promise<void> => {
    let onError: (err: unknown) => void = () => {};
    const failed = new Promise<never>((_, reject) => pool.once('error', (onError = reject)));
    // Neither an Atomics wait nor threads with no task keep the process alive: a timer does, until they are up.
    const alive = setInterval(() => {}, 60_000);
    return Promise.race([threadsReady(counter, threads), failed]).finally(() => {
      clearInterval(alive);
      pool.off('error', onError);
    });
  };
  return Object.assign(pool, { ready });
}

/** Plays the episode's attempts on the pool; a thread that dies fails its attempt (E_WORKER), retried like any failure. */
export function playOnPool(pool: EpisodePool, task: Omit<EpisodeTask, 'attempt'>, options: AttemptOptions): Promise<EpisodeOutcome | undefined> {
  return playAttempts(
    (attempt) =>
      pool.run({ ...task, attempt }).catch(
        (err: Error): EpisodeOutcome => ({
          ok: false,
          episode_id: episodeId(task.runId, task.domain, task.index),
          domain: task.domain,
          index: task.index,
          ms: 0,
          error: { code: 'E_WORKER', message: `worker thread failed: ${err.message}`, fatal: false },
        }),
      ),
    options,
  );
}
