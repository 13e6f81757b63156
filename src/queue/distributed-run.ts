/**
 * `run --queue`: enqueues a run's episodes on pg-boss, follows their commits
 * in the store while workers on any host play them, then writes the manifest
 * (with the host and worker of every episode) and audits the run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { newRunId } from '../run/coordinator.js';
import type { RunEvent, RunResult } from '../run/coordinator.js';
import { episodeId } from '../core/episode.js';
import { BadInputError } from '../core/errors.js';
import { closeRun, openRun, runningManifest } from '../run/run-frame.js';
import { roundRobin } from '../run/scheduler.js';
import { runEpisodeEntries } from '../store/pg/pg-store.js';
import type { PgStore } from '../store/pg/pg-store.js';
import { parsePgUrl } from '../store/pg/url.js';
import type { AttemptFields, EpisodeEntry, ExperimentConfig, LockStats, MergeTiming, RunManifest } from '../core/types.js';
import { summarizeMerges } from '../core/stats.js';
import type { CompletedOutput } from './claim-commit.js';
import { EPISODE_QUEUE, openQueue, parseQueueUrl } from './jobs.js';
import type { EpisodeJob } from './jobs.js';
import { startLocalWorkers } from './local-workers.js';

export interface DistributedRunOptions {
  experiment: ExperimentConfig;
  store: PgStore;
  queue: string;
  /** Local workers to start for convenience. @default 0 */
  workers?: number;
  /** Episodes each local worker holds at once. @default experiment.threads */
  concurrency?: number;
  /** A claim not committed within this many seconds expires and the episode goes to another worker. @default 60 */
  claimSeconds?: number;
  /** True when `experiment.cap` is only the default: the store's recorded cap applies (see RunOptions). @default false */
  capFromStore?: boolean;
  signal?: AbortSignal;
  /** started, warning, progress (polled from the store and queue), stopping. */
  onEvent?: (event: RunEvent) => void;
  /** The caller's warnings about this run, emitted once the queue and store have been checked. @default [] */
  warnings?: string[];
}

/** Same server, port and database: the claim check and the merge must share one transaction. */
function sameDatabase(a: string, b: string): boolean {
  const x = new URL(a);
  const y = new URL(b);
  return x.hostname === y.hostname && (x.port || '5432') === (y.port || '5432') && x.pathname === y.pathname;
}

/** Resolves when `p` does or the signal aborts, leaving no listener behind on the signal. */
async function untilOrAbort(p: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return void (await p);
  if (signal.aborted) return;
  let onAbort = (): void => {};
  try {
    await Promise.race([p, new Promise<void>((resolve) => signal.addEventListener('abort', (onAbort = () => resolve()), { once: true }))]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export async function runDistributed(o: DistributedRunOptions): Promise<RunResult> {
  const { store } = o;
  const queueTarget = parseQueueUrl(o.queue);
  const storeTarget = parsePgUrl(store.root);
  if (!sameDatabase(queueTarget.connectionString, storeTarget.connectionString)) {
    throw new BadInputError(`--queue ${queueTarget.masked} and --store ${storeTarget.masked} must name the same PostgreSQL database: an episode's job completes in its merge's transaction`);
  }
  const emit = o.onEvent ?? (() => {});
  const experiment = await openRun(store, o.experiment, o.capFromStore ?? false, (message) => emit({ type: 'warning', message }));
  for (const message of o.warnings ?? []) emit({ type: 'warning', message });
  const { boss } = await openQueue(o.queue);
  const runId = newRunId();
  const assignments = roundRobin(experiment.domains, experiment.episodes);
  const total = assignments.length;
  const manifest = runningManifest(runId, experiment, 'locked', 'batched', { queue: queueTarget.masked });
  const workers = o.workers ? startLocalWorkers(o.queue, o.workers, experiment.threads, o.concurrency ?? experiment.threads) : null;
  // The run's jobs read once per poll, each count a filter over them.
  const countSql = `SELECT (SELECT count(*) FROM ${store.t.episodes} WHERE run_id = $1)::int AS done,
    count(*) FILTER (WHERE state = 'failed')::int AS failed,
    count(*) FILTER (WHERE state = 'active')::int AS active,
    count(*) FILTER (WHERE retry_count > 0)::int AS retried
    FROM "${queueTarget.schema}".job WHERE name = $2 AND data->>'runId' = $1`;
  const started = performance.now();
  let progress = { done: 0, failed: 0, active: 0, retried: 0 };
  // Set when every local worker has exited before the run's end: nobody here plays the rest.
  let workersExit: string | undefined;
  void workers?.exited.then((code) => (workersExit = code));
  let workersGone: string | undefined;
  // Set once more than --max-failures episodes failed: nothing more is handed out; claimed ones finish.
  let tooManyFailed: string | undefined;
  // What is committed is the truth: workers on other hosts report nothing to us.
  const poll = async (): Promise<void> => {
    progress = (await store.query<{ done: number; failed: number; active: number; retried: number }>(countSql, [runId, EPISODE_QUEUE])).rows[0]!;
    emit({ type: 'progress', done: progress.done + progress.failed, failed: progress.failed, inFlight: progress.active, retried: progress.retried, total });
  };
  const withdraw = () => store.query(`DELETE FROM "${queueTarget.schema}".job WHERE name = $1 AND state IN ('created', 'retry') AND data->>'runId' = $2`, [EPISODE_QUEUE, runId]);
  try {
    await store.writeManifest(manifest);
    const jobs = assignments.map((a) => ({
      name: EPISODE_QUEUE,
      data: { storeSchema: store.schema, runId, domain: a.domain, index: a.index, seed: experiment.seed, cap: experiment.cap, episodeMs: experiment.episodeMs, modules: experiment.modules ?? [], timeoutMs: experiment.episodeTimeoutMs ?? 0, retries: experiment.retries ?? 0, retryDelayMs: experiment.retryDelayMs ?? 1000 } satisfies EpisodeJob,
      expireInSeconds: o.claimSeconds ?? 60,
      retryLimit: 20,
      retryDelay: 0,
    }));
    // Local workers get their episodes once all of them claim: the first one up would otherwise take a full batch while the others start.
    if (workers) await untilOrAbort(workers.claiming, o.signal);
    // Stopped while they started: nothing is queued, so no worker can claim an episode of this run.
    if (!o.signal?.aborted) {
      for (let i = 0; i < jobs.length; i += 1000) await boss.insert(jobs.slice(i, i + 1000));
      // Only now are they queued: saying so before the insert would be untrue if it failed.
      emit({ type: 'started', runId, total });
    }
    while (!o.signal?.aborted) {
      await poll();
      // Before the end check, as a local run does: the run that crossed --max-failures stopped, even on its last episode.
      if (experiment.maxFailures !== undefined && progress.failed > experiment.maxFailures) {
        tooManyFailed = `more than ${experiment.maxFailures} episodes failed (--max-failures)`;
        break;
      }
      if (progress.done + progress.failed >= total) break;
      if (workersExit !== undefined) {
        workersGone = `all ${o.workers} local workers exited (code ${workersExit}) with ${total - progress.done - progress.failed} episodes unplayed`;
        break;
      }
      await untilOrAbort(workers ? Promise.race([sleep(500), workers.exited]) : sleep(500), o.signal);
    }
    // Episodes already claimed finish on their workers, as in a local run in-flight ones finish their writes: the run
    // waits for them, so that its manifest and audit count what they commit. A claim that expires meanwhile sends its
    // job back to the queue, where it is withdrawn at the next look, so the wait ends within the longest live claim.
    // After a --max-failures stop an interrupt ends the wait; after an interrupt, a second one ends the process (the CLI's).
    const drainClaimed = async (abortable: boolean): Promise<void> => {
      for (;;) {
        await withdraw();
        await poll();
        if (progress.active === 0 || (abortable && o.signal?.aborted)) break;
        await sleep(500);
      }
    };
    if (o.signal?.aborted) {
      emit({ type: 'stopping', reason: String(o.signal.reason ?? 'interrupted'), inFlight: 'on-workers' });
      // Unclaimed episodes of this run are withdrawn (drainClaimed's first step); claimed ones finish on their workers.
      await drainClaimed(false);
    } else if (workersGone) {
      // Left queued, they would be played by whichever worker comes next, into a run already closed.
      await withdraw();
    } else if (tooManyFailed) {
      emit({ type: 'stopping', reason: tooManyFailed, inFlight: 'on-workers' });
      await drainClaimed(true);
    }
  } finally {
    await workers?.stop();
    await boss.stop({ graceful: false, wait: true, close: true });
  }
  const seconds = (performance.now() - started) / 1000;
  const entries: EpisodeEntry[] = await runEpisodeEntries(store, runId);
  const committed = new Set(entries.map((e) => e.episode_id));
  // An episode whose attempts all failed: its job failed for good, with the episode's error as output.
  const failedJobs = await store.query<{ domain: string; index: number; output: { code?: string; message?: string; worker?: string; host?: string; entry?: AttemptFields } | null }>(
    `SELECT data->>'domain' AS domain, (data->>'index')::int AS index, output FROM "${queueTarget.schema}".job WHERE name = $1 AND state = 'failed' AND data->>'runId' = $2`,
    [EPISODE_QUEUE, runId],
  );
  for (const { domain, index, output } of failedJobs.rows) {
    const id = episodeId(runId, domain, index);
    if (committed.has(id)) continue;
    const error = output?.code ? `${output.code}: ${output.message}` : (output?.message ?? 'its job failed (see the workers\' logs)');
    entries.push({ episode_id: id, domain, index, status: 'failed', error, ...output?.entry, ...(output?.host ? { host: output.host } : {}), ...(output?.worker ? { worker: output.worker } : {}) });
  }
  // Every hand-out after the first started the episode's play again, on a model perhaps: counted per episode.
  const handedOut = await store.query<{ domain: string; index: number; n: number }>(
    `SELECT data->>'domain' AS domain, (data->>'index')::int AS index, retry_count AS n FROM "${queueTarget.schema}".job WHERE name = $1 AND data->>'runId' = $2 AND retry_count > 0`,
    [EPISODE_QUEUE, runId],
  );
  const again = new Map(handedOut.rows.map((j) => [episodeId(runId, j.domain, j.index), j.n]));
  for (const e of entries) if (again.has(e.episode_id)) e.handed_out = again.get(e.episode_id)!;
  for (const e of entries) manifest.domains[e.domain]![e.status === 'ok' ? 'completed' : 'failed']++;
  const contention = await queueContention(store, queueTarget.schema, runId);
  Object.assign(manifest, {
    status: o.signal?.aborted ? 'interrupted' : workersGone || tooManyFailed ? 'stopped' : 'complete',
    finished_at: new Date().toISOString(),
    episodes: entries.sort((a, b) => (a.episode_id < b.episode_id ? -1 : 1)),
    timings: { seconds: Math.round(seconds * 1000) / 1000, episodesPerSec: Math.round((committed.size / seconds) * 10) / 10 },
    ...(Object.keys(contention).length ? { contention } : {}),
    ...(o.signal?.aborted ? { stop_reason: String(o.signal.reason) } : workersGone || tooManyFailed ? { stop_reason: workersGone ?? tooManyFailed } : {}),
  } satisfies Partial<RunManifest>);
  const report = await closeRun(store, manifest);
  return { manifest, report };
}

/**
 * The run's lock contention per domain, from its completed jobs' outputs: each job carries the timings of the
 * batch that committed it (src/queue/claim-commit.ts), counted per episode as a local run counts them. Jobs a
 * worker of an earlier version completed carry none.
 */
async function queueContention(store: PgStore, queueSchema: string, runId: string): Promise<Record<string, LockStats>> {
  let done: { domain: string; output: CompletedOutput | null }[];
  try {
    done = (
      await store.query<{ domain: string; output: CompletedOutput | null }>(
        `SELECT data->>'domain' AS domain, output FROM "${queueSchema}".job WHERE name = $1 AND state = 'completed' AND data->>'runId' = $2`,
        [EPISODE_QUEUE, runId],
      )
    ).rows;
  } catch {
    // Statistics only: a run closes without them rather than stay `running`.
    return {};
  }
  const byDomain = new Map<string, MergeTiming[]>();
  for (const { domain, output } of done) {
    const m = output?.merges?.[domain];
    if (!m) continue;
    const list = byDomain.get(domain) ?? [];
    // This run's episodes in the batch: a worker's batch may carry other runs' episodes of the same domain.
    list.push({ waitMs: m.waitMs, holdMs: m.holdMs, retries: 0, bytes: m.bytes, changed: m.changed, refused: 0, foreignWrites: 0, reclaimed: 0, batch: m.runs?.[runId] ?? m.batch });
    byDomain.set(domain, list);
  }
  return Object.fromEntries([...byDomain].map(([d, merges]) => [d, summarizeMerges(merges)]));
}
