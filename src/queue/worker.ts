/**
 * `ace-orch worker`: claims episodes from the pg-boss queue, plays them on a
 * local Piscina pool and commits them under their claims. Up to `concurrency`
 * episodes play at once, and up to as many more wait for their group commit.
 * When the signal aborts it claims nothing more, finishes what it holds, and
 * returns.
 */
import { hostname } from 'node:os';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type PgBoss from 'pg-boss';
import { episodePool, playOnPool } from '../run/episode-pool.js';
import { describeError } from '../core/errors.js';
import { createPool } from '../store/pg/connect.js';
import { episodeId, episodeRecordOf } from '../core/episode.js';
import { attemptFields, createStopFlag } from '../run/messages.js';
import type { EpisodeOutcome, EpisodeTask } from '../run/messages.js';
import { DEFAULT_LOCK_OPTIONS } from '../store/lock-options.js';
import { PgStore } from '../store/pg/pg-store.js';
import type { WriterId } from '../store/pg/pg-store.js';
import { storeUrlIn } from '../store/pg/url.js';
import { ClaimCommitter, failUnderClaim } from './claim-commit.js';
import type { ClaimOutcome } from './claim-commit.js';
import { EPISODE_QUEUE, openQueue } from './jobs.js';
import type { EpisodeJob } from './jobs.js';

export interface WorkerOptions {
  queue: string;
  threads: number;
  /** Episodes playing at once (as many again may wait for their commit). @default threads */
  concurrency: number;
  /** Recorded with every episode this worker commits. @default os.hostname() and pid */
  id?: Partial<WriterId>;
  /** How long to wait before looking again at an empty queue. @default 250 */
  pollMs?: number;
  signal: AbortSignal;
  onEvent?: (event: WorkerEvent) => void;
}

export type WorkerEvent =
  | { type: 'started'; worker: WriterId }
  | { type: 'claimed'; episode_id: string }
  /** `requeued`: committing failed (the server or the link); pg-boss queues the episode again. */
  | { type: 'episode'; episode_id: string; outcome: ClaimOutcome | 'failed' | 'requeued'; error?: string }
  | { type: 'warning'; message: string };

export interface WorkerTotals {
  committed: number;
  claimLost: number;
  failed: number;
  requeued: number;
}

export async function runWorker(options: WorkerOptions): Promise<WorkerTotals> {
  const emit = options.onEvent ?? (() => {});
  const { boss, target, created } = await openQueue(options.queue, {}, (err) => emit({ type: 'warning', message: `queue: ${describeError(err)}` }));
  // A --queue whose ?schema= no run has used: this worker would wait there for ever, beside the run's queue.
  if (created) emit({ type: 'warning', message: `queue ${target.masked}: its schema ${target.schema} did not exist, so no run has queued episodes there yet; created it and waiting (a run's --queue must name the same ?schema=)` });
  const writer: WriterId = { host: options.id?.host ?? hostname(), worker: options.id?.worker ?? `${hostname()}:${process.pid}` };
  // The local runs' pool and attempt path: the threads play a claimed episode and write nothing (batched
  // commit hands back its record and deltas), so only this thread's claim check decides what commits.
  const pool = episodePool(options.threads, options.concurrency);
  // Never raised: SIGTERM lets held episodes finish, so their ctx.signal fires only on --episode-timeout.
  const stopFlag = createStopFlag();
  const committers = new Map<string, { store: PgStore; committer: ClaimCommitter }>();
  const committerFor = (job: EpisodeJob) => {
    const key = `${job.storeSchema}\0${job.cap}`;
    let c = committers.get(key);
    if (!c) {
      const store = new PgStore(storeUrlIn(target, job.storeSchema), { cap: job.cap });
      c = { store, committer: new ClaimCommitter(store, boss, target.schema, writer) };
      committers.set(key, c);
    }
    return c;
  };
  const totals: WorkerTotals = { committed: 0, claimLost: 0, failed: 0, requeued: 0 };
  // As in a local run, a slot is an episode playing: once played, it waits for its group commit without one.
  const playing = new Set<Promise<void>>();
  const settling = new Set<Promise<void>>();
  /** Tracked promises never reject: the loop races and awaits them, and a rejection must not stop the worker or its pool. */
  const track = (set: Set<Promise<void>>, p: Promise<void>): void => {
    const held = p.catch((err: unknown) => emit({ type: 'warning', message: `internal error: ${describeError(err)}` })).finally(() => set.delete(held));
    set.add(held);
  };

  // A job whose store cannot even be set up (a bad storeSchema) fails on the queue's own connection, for good:
  // re-queued, it would fail the same way on every worker.
  let queuePool: ReturnType<typeof createPool> | undefined;
  const failBroken = async (job: PgBoss.JobWithMetadata<EpisodeJob>, id: string, err: unknown): Promise<void> => {
    const error = { code: 'E_SETUP', message: `the episode's store cannot be set up: ${describeError(err)}` };
    queuePool ??= createPool(target.connectionString, 1);
    const c = await queuePool.connect();
    let outcome: 'failed' | 'claim-lost';
    try {
      await c.query('BEGIN');
      outcome = await failUnderClaim(c, boss, target.schema, { jobId: job.id, retryCount: job.retryCount }, { ...error, ...writer }, true);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
    totals[outcome === 'failed' ? 'failed' : 'claimLost']++;
    emit({ type: 'episode', episode_id: id, outcome, ...(outcome === 'failed' ? { error: `${error.code}: ${error.message}` } : {}) });
  };

  /** Commits a played episode, or fails its job, under the claim; never rejects. */
  const settle = async (job: PgBoss.JobWithMetadata<EpisodeJob>, id: string, played: EpisodeOutcome | undefined): Promise<void> => {
    const claim = { jobId: job.id, retryCount: job.retryCount };
    let committer: ClaimCommitter | undefined;
    try {
      committer = committerFor(job.data).committer;
      if (played?.ok && played.record && played.deltas) {
        const outcome = await committer.submit({ ...claim, domain: job.data.domain, record: episodeRecordOf(played.record), deltas: played.deltas, entry: attemptFields(played) });
        totals[outcome === 'committed' ? 'committed' : 'claimLost']++;
        emit({ type: 'episode', episode_id: id, outcome });
      } else {
        // The episode's attempts are spent: it fails for good, as in a local run.
        const error = played && !played.ok ? played.error : { code: 'E_EPISODE', message: 'the episode was not played' };
        const outcome = await committer.fail(claim, error, true, played ? attemptFields(played) : undefined);
        totals[outcome === 'failed' ? 'failed' : 'claimLost']++;
        emit({ type: 'episode', episode_id: id, outcome, ...(outcome === 'failed' ? { error: `${error.code}: ${error.message}` } : {}) });
      }
    } catch (err) {
      // Committing failed (the server or the link): pg-boss queues the episode again, on this worker or another.
      totals.requeued++;
      await committer?.fail(claim, { code: 'E_COMMIT', message: describeError(err) }, false).catch(() => {});
      emit({ type: 'episode', episode_id: id, outcome: 'requeued', error: describeError(err) });
    }
  };

  const play = async (job: PgBoss.JobWithMetadata<EpisodeJob>): Promise<void> => {
    const { runId, domain, index } = job.data;
    const id = episodeId(runId, domain, index);
    emit({ type: 'claimed', episode_id: id });
    let store: PgStore;
    try {
      store = committerFor(job.data).store;
    } catch (err) {
      track(settling, failBroken(job, id, err));
      return;
    }
    const task: Omit<EpisodeTask, 'attempt'> = {
      store: store.root,
      runId,
      domain,
      index,
      seed: job.data.seed,
      cap: job.data.cap,
      lock: DEFAULT_LOCK_OPTIONS,
      episodeMs: job.data.episodeMs,
      modules: job.data.modules,
      mode: 'locked',
      commit: 'batched',
      timeoutMs: job.data.timeoutMs ?? 0,
      stopFlag,
    };
    // Never rejects: a thread that dies fails the attempt (E_WORKER, src/run/episode-pool.ts).
    const played = await playOnPool(pool, task, { retries: job.data.retries ?? 0, retryDelayMs: job.data.retryDelayMs ?? 1000 });
    track(settling, settle(job, id, played));
  };

  try {
    // Threads still starting would hold claims whose clock runs: claim once they can play.
    await pool.ready();
    emit({ type: 'started', worker: writer });
    while (!options.signal.aborted) {
      const room = options.concurrency - playing.size;
      // Played episodes waiting to commit still hold their claims: at most `concurrency` of them too.
      if (room <= 0 || settling.size >= options.concurrency) {
        await Promise.race([...playing, ...settling]);
        // Episodes finish in bursts (a round of plays ends together): let the rest of this burst free
        // its slots too, so one fetch claims them all instead of one query per freed slot.
        await nextTurn();
        continue;
      }
      let jobs: PgBoss.JobWithMetadata<EpisodeJob>[];
      try {
        jobs = await boss.fetch<EpisodeJob>(EPISODE_QUEUE, { batchSize: room, includeMetadata: true });
      } catch (err) {
        // The server or the link is gone for now: report, wait, and try again; claims held meanwhile may expire.
        emit({ type: 'warning', message: `claiming from ${target.masked} failed: ${describeError(err)}; retrying` });
        jobs = [];
      }
      for (const job of jobs) track(playing, play(job));
      if (jobs.length === 0) await sleep(options.pollMs ?? 250, undefined, { signal: options.signal }).catch(() => {});
    }
    await Promise.all(playing);
    await Promise.all(settling);
  } finally {
    await pool.destroy();
    for (const { store } of committers.values()) await store.close();
    await queuePool?.end();
    await boss.stop({ graceful: false, wait: true, close: true });
  }
  return totals;
}
