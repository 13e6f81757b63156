/**
 * Plays a list of episodes on one Piscina pool, at most `concurrency` in
 * flight (p-queue gives the backpressure), spread over `threads` threads that
 * each run up to ⌈concurrency / threads⌉ at once. Used by the coordinator
 * directly, and by each shard process of a multi-process run.
 */
import PQueue from 'p-queue';
import { epochMs } from './episode-clock.js';
import { episodePool, playOnPool } from './episode-pool.js';
import type { EpisodePool } from './episode-pool.js';
import { createStopFlag, mergeTiming, raiseStopFlag } from './messages.js';
import type { Assignment, EpisodeOutcome, EpisodeTask, ShardJob } from './messages.js';
import { AceError, BadInputError, LockTimeoutError, describeError } from '../core/errors.js';
import { GroupCommitter } from '../store/committer.js';
import { openStore } from '../store/open.js';

/** A shard's job, plus how to report back. */
export interface ScheduleOptions extends ShardJob {
  /** Started by the caller (episodePool) for this experiment, so its threads boot during the caller's preparation; scheduleEpisodes destroys it when done. @default a new pool */
  pool?: EpisodePool;
  /** Aborting stops scheduling; in-flight episodes finish and write. */
  signal?: AbortSignal;
  /** Aborting (Ctrl-C, SIGTERM) also fires in-flight episodes' `ctx.signal`; episodes that complete still write. */
  cancel?: AbortSignal;
  /** The run's rate limit: resolves with the granted start time. @default no limit */
  gate?: () => Promise<number>;
  onStart?: (assignment: Assignment) => void;
  /** The episode's play ended, ok or not, after it started: its slot is free now; its commit may be pending. */
  onPlayed?: (assignment: Assignment) => void;
  /** A failed attempt of this episode will be re-played. */
  onRetry?: (assignment: Assignment, error: string) => void;
  onOutcome: (outcome: EpisodeOutcome) => void;
}

/** Round-robin over domains, so every domain's playbook sees concurrent writers from the start. */
export function roundRobin(domains: readonly string[], episodes: number): Assignment[] {
  const out: Assignment[] = [];
  for (let index = 0; index < episodes; index++) for (const domain of domains) out.push({ domain, index });
  return out;
}

/** Resolves once every scheduled episode has finished, or scheduling stopped and in-flight ones finished. */
export async function scheduleEpisodes(options: ScheduleOptions): Promise<void> {
  const { experiment } = options;
  const concurrency = experiment.concurrency ?? experiment.threads;
  const pool = options.pool ?? episodePool(experiment.threads, concurrency, options.assignments.length);
  const queue = new PQueue({ concurrency });
  // Non-blocking fsyncs (file store): this thread's event loop hands the next episodes to the worker threads meanwhile.
  // Shared commits: this process's committer folds the other processes' pending batches, and theirs fold its.
  const store = await openStore(options.store, { cap: experiment.cap, lock: options.lock, asyncIo: true, shareCommits: options.commit === 'shared' });
  const committer = new GroupCommitter(store);
  // Commits still pending; settled ones leave, so a long run does not keep one promise per episode.
  const commits = new Set<Promise<void>>();
  const stopFlag = createStopFlag();
  const stop = (): void => queue.clear();
  // Worker threads fire the ctx.signal of the episodes they are playing, and of any they start after.
  const cancel = (): void => raiseStopFlag(stopFlag);
  options.signal?.addEventListener('abort', stop);
  options.cancel?.addEventListener('abort', cancel);
  if (options.cancel?.aborted) cancel();
  try {
    const taskOf = (a: Assignment): Omit<EpisodeTask, 'attempt'> => ({
      store: options.store,
      runId: options.runId,
      domain: a.domain,
      index: a.index,
      seed: experiment.seed,
      cap: experiment.cap,
      lock: options.lock,
      episodeMs: experiment.episodeMs,
      modules: experiment.modules ?? [],
      mode: options.mode,
      commit: options.commit,
      timeoutMs: experiment.episodeTimeoutMs ?? 0,
      stopFlag,
    });
    // Rate-limited: the first starts are granted once every thread is up, has loaded the domain modules and opened
    // the store. Granted while threads still booted and imported a model client, the first second's episodes began
    // their model calls late, in the same second as the next second's: twice the rate, seen by the model API.
    if (options.gate && options.assignments.length) {
      // A thread that cannot start fails its episodes (E_WORKER), as without --rate; it does not end the run here.
      await pool.ready().catch(() => {});
      const first = { ...taskOf(options.assignments[0]!), attempt: 0 };
      await Promise.all(pool.threads.map(() => pool.run(first, { name: 'warmup' }).catch(() => {})));
    }
    for (const a of options.assignments) {
      if (options.signal?.aborted) break;
      const task = taskOf(a);
      void queue.add(async () => {
        if (options.signal?.aborted) return;
        let began = 0;
        let beganEpoch = 0;
        const played = await playOnPool(pool, task, {
          retries: experiment.retries ?? 0,
          retryDelayMs: experiment.retryDelayMs ?? 1000,
          signal: options.signal,
          gate: options.gate,
          onFirstStart: () => {
            began = performance.now();
            beganEpoch = epochMs();
            options.onStart?.(a);
          },
          onRetry: (error) => options.onRetry?.(a, error),
        });
        if (began > 0) options.onPlayed?.(a);
        if (!played) return;
        // The episode's time spans all its attempts and backoffs: what it held a slot for. Its trace starts with its
        // first attempt too (the worker stamped the last one's), so retries' backoff is not read as worker start-up.
        const retried = (played.attempts ?? 1) > 1 && played.clock;
        const outcome = { ...played, ms: performance.now() - began, ...(retried ? { clock: { ...played.clock!, start: beganEpoch } } : {}) };
        if (outcome.ok && outcome.deltas) {
          // The thread is free for the next episode while its deltas join the domain's next group commit.
          const commit = commitThenReport(committer, outcome, (o) => options.onOutcome(acknowledged(o))).finally(() => commits.delete(commit));
          commits.add(commit);
        } else options.onOutcome(acknowledged(outcome));
      });
    }
    await queue.onIdle();
    await Promise.all([...commits]);
  } finally {
    options.signal?.removeEventListener('abort', stop);
    options.cancel?.removeEventListener('abort', cancel);
    await pool.destroy();
    await store.close();
  }
}

/** Stamps the moment the episode is acknowledged, in the process that ran it. */
function acknowledged(outcome: EpisodeOutcome): EpisodeOutcome {
  return outcome.clock ? { ...outcome, clock: { ...outcome.clock, acked: epochMs() } } : outcome;
}

async function commitThenReport(committer: GroupCommitter, outcome: EpisodeOutcome & { ok: true }, report: (o: EpisodeOutcome) => void): Promise<void> {
  const { deltas, record, ...done } = outcome;
  try {
    const r = await committer.submit(done.domain, deltas!, record);
    report({ ...done, merge: mergeTiming(r, r.batch) });
  } catch (err) {
    report({
      ok: false,
      episode_id: done.episode_id,
      domain: done.domain,
      index: done.index,
      ms: done.ms,
      ...(done.clock ? { clock: done.clock } : {}),
      error: { code: err instanceof AceError ? err.code : 'E_COMMIT', message: describeError(err), fatal: err instanceof BadInputError || err instanceof LockTimeoutError },
    });
  }
}
