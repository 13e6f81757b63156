/**
 * `ace-orch worker`: claims episodes from the pg-boss queue, plays them on a
 * local Piscina pool and commits them under their claims. Up to `concurrency`
 * episodes are in flight (claimed, playing or committing). When the signal
 * aborts it claims nothing more, finishes what it holds, and returns.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type PgBoss from 'pg-boss';
import { Piscina } from 'piscina';
import { describeError } from '../errors.js';
import { episodeId } from '../episode.js';
import { siblingModule } from '../module-file.js';
import { PgStore } from '../store/pg/pg-store.js';
import type { WriterId } from '../store/pg/pg-store.js';
import { storeUrlIn } from '../store/pg/url.js';
import { ClaimCommitter } from './claim-commit.js';
import type { ClaimOutcome } from './claim-commit.js';
import { EPISODE_QUEUE, openQueue } from './jobs.js';
import type { EpisodeJob } from './jobs.js';
import type { PlayedEpisode, QueueEpisodeTask } from './messages.js';

export interface WorkerOptions {
  queue: string;
  threads: number;
  /** Episodes claimed at once. @default threads */
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
  | { type: 'episode'; episode_id: string; outcome: ClaimOutcome | 'failed'; error?: string }
  | { type: 'warning'; message: string };

export interface WorkerTotals {
  committed: number;
  claimLost: number;
  failed: number;
}

function threadFile(): string {
  return siblingModule(import.meta.url, '../../workers/queue-episode').href;
}

export async function runWorker(options: WorkerOptions): Promise<WorkerTotals> {
  const emit = options.onEvent ?? (() => {});
  const { boss, target } = await openQueue(options.queue, {}, (err) => emit({ type: 'warning', message: `queue: ${describeError(err)}` }));
  const writer: WriterId = { host: options.id?.host ?? hostname(), worker: options.id?.worker ?? `${hostname()}:${process.pid}` };
  // Episodes mostly wait (on model calls, or --episode-ms): each thread interleaves its share of the claims.
  const pool = new Piscina<QueueEpisodeTask, PlayedEpisode>({
    filename: threadFile(),
    minThreads: options.threads,
    maxThreads: options.threads,
    concurrentTasksPerWorker: Math.max(1, Math.ceil(options.concurrency / options.threads)),
    idleTimeout: 1_000,
  });
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
  const totals: WorkerTotals = { committed: 0, claimLost: 0, failed: 0 };
  const inFlight = new Set<Promise<void>>();

  const handle = async (job: PgBoss.JobWithMetadata<EpisodeJob>): Promise<void> => {
    const { store, committer } = committerFor(job.data);
    const id = episodeId(job.data.runId, job.data.domain, job.data.index);
    emit({ type: 'claimed', episode_id: id });
    try {
      const played = await pool.run({ storeUrl: store.root, job: job.data });
      const outcome = await committer.submit({ jobId: job.id, retryCount: job.retryCount, domain: job.data.domain, record: played.record, deltas: played.deltas });
      totals[outcome === 'committed' ? 'committed' : 'claimLost']++;
      emit({ type: 'episode', episode_id: id, outcome });
    } catch (err) {
      totals.failed++;
      // pg-boss retries it (on this worker or another) until the job's retry limit.
      await boss.fail(EPISODE_QUEUE, job.id, { message: describeError(err) }).catch(() => {});
      emit({ type: 'episode', episode_id: id, outcome: 'failed', error: describeError(err) });
    }
  };

  emit({ type: 'started', worker: writer });
  try {
    while (!options.signal.aborted) {
      const room = options.concurrency - inFlight.size;
      if (room <= 0) {
        await Promise.race(inFlight);
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
      for (const job of jobs) {
        const p = handle(job).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (jobs.length === 0) await sleep(options.pollMs ?? 250, undefined, { signal: options.signal }).catch(() => {});
    }
    await Promise.all(inFlight);
  } finally {
    await pool.destroy();
    for (const { store } of committers.values()) await store.close();
    await boss.stop({ graceful: false, wait: true, close: true });
  }
  return totals;
}
