/**
 * `run --queue`: enqueues a run's episodes on pg-boss, follows their commits
 * in the store while workers on any host play them, then writes the manifest
 * (with the host and worker of every episode) and audits the run.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { audit } from '../audit.js';
import { registeredReflection } from '../domains/index.js';
import { newRunId } from '../coordinator.js';
import type { RunResult } from '../coordinator.js';
import { episodeId } from '../episode.js';
import { BadInputError } from '../errors.js';
import { roundRobin } from '../scheduler.js';
import { runEpisodeEntries } from '../store/pg/pg-store.js';
import type { PgStore } from '../store/pg/pg-store.js';
import { parsePgUrl } from '../store/pg/url.js';
import type { EpisodeEntry, ExperimentConfig, RunManifest } from '../types.js';
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
  onProgress?: (p: { runId: string; done: number; failed: number; total: number }) => void;
}

/** Same server, port and database: the claim check and the merge must share one transaction. */
function sameDatabase(a: string, b: string): boolean {
  const x = new URL(a);
  const y = new URL(b);
  return x.hostname === y.hostname && (x.port || '5432') === (y.port || '5432') && x.pathname === y.pathname;
}

export async function runDistributed(o: DistributedRunOptions): Promise<RunResult> {
  const { store } = o;
  const queueTarget = parseQueueUrl(o.queue);
  const storeTarget = parsePgUrl(store.root);
  if (!sameDatabase(queueTarget.connectionString, storeTarget.connectionString)) {
    throw new BadInputError(`--queue ${queueTarget.masked} and --store ${storeTarget.masked} must name the same PostgreSQL database: an episode's job completes in its merge's transaction`);
  }
  await store.init();
  // Before anything is queued: the store's cap, never below what a playbook holds (src/cap.ts).
  const cap = await store.settleCap(o.capFromStore ? undefined : o.experiment.cap);
  const experiment: ExperimentConfig = { ...o.experiment, cap: cap.cap };
  if (cap.record) await store.recordCap(cap.cap);
  const { boss } = await openQueue(o.queue);
  const runId = newRunId();
  const assignments = roundRobin(experiment.domains, experiment.episodes);
  const total = assignments.length;
  const manifest: RunManifest = {
    run_id: runId,
    mode: 'locked',
    commit: 'batched',
    status: 'running',
    started_at: new Date().toISOString(),
    pid: process.pid,
    host: hostname(),
    queue: queueTarget.masked,
    config: experiment,
    domains: Object.fromEntries(experiment.domains.map((d) => [d, { scheduled: experiment.episodes, completed: 0, failed: 0 }])),
  };
  const workers = o.workers ? startLocalWorkers(o.queue, o.workers, experiment.threads, o.concurrency ?? experiment.threads) : null;
  const countSql = `SELECT (SELECT count(*) FROM ${store.t.episodes} WHERE run_id = $1)::int AS done,
    (SELECT count(*) FROM "${queueTarget.schema}".job WHERE name = $2 AND state = 'failed' AND data->>'runId' = $1)::int AS failed`;
  const started = performance.now();
  let progress = { done: 0, failed: 0 };
  try {
    await store.writeManifest(manifest);
    const jobs = assignments.map((a) => ({
      name: EPISODE_QUEUE,
      data: { storeSchema: store.schema, runId, domain: a.domain, index: a.index, seed: experiment.seed, cap: experiment.cap, episodeMs: experiment.episodeMs, modules: experiment.modules ?? [] } satisfies EpisodeJob,
      expireInSeconds: o.claimSeconds ?? 60,
      retryLimit: 20,
      retryDelay: 0,
    }));
    for (let i = 0; i < jobs.length; i += 1000) await boss.insert(jobs.slice(i, i + 1000));
    // Poll the store: workers on other hosts report nothing to us; what is committed is the truth.
    while (!o.signal?.aborted) {
      progress = (await store.query<{ done: number; failed: number }>(countSql, [runId, EPISODE_QUEUE])).rows[0]!;
      o.onProgress?.({ runId, ...progress, total });
      if (progress.done + progress.failed >= total) break;
      await sleep(500, undefined, { signal: o.signal }).catch(() => {});
    }
    if (o.signal?.aborted) {
      // Unclaimed episodes of this run are withdrawn; claimed ones finish on their workers.
      await store.query(`DELETE FROM "${queueTarget.schema}".job WHERE name = $1 AND state IN ('created', 'retry') AND data->>'runId' = $2`, [EPISODE_QUEUE, runId]);
    }
  } finally {
    await workers?.stop();
    await boss.stop({ graceful: false, wait: true, close: true });
  }
  const seconds = (performance.now() - started) / 1000;
  const entries: EpisodeEntry[] = await runEpisodeEntries(store, runId);
  const committed = new Set(entries.map((e) => e.episode_id));
  for (const a of assignments) {
    const id = episodeId(runId, a.domain, a.index);
    if (!committed.has(id) && progress.failed > 0) entries.push({ episode_id: id, domain: a.domain, index: a.index, status: 'failed', error: 'its job failed on every try (see the workers\' logs)' });
  }
  for (const e of entries) manifest.domains[e.domain]![e.status === 'ok' ? 'completed' : 'failed']++;
  Object.assign(manifest, {
    status: o.signal?.aborted ? 'interrupted' : 'complete',
    finished_at: new Date().toISOString(),
    episodes: entries.sort((a, b) => (a.episode_id < b.episode_id ? -1 : 1)),
    timings: { seconds: Math.round(seconds * 1000) / 1000, episodesPerSec: Math.round((committed.size / seconds) * 10) / 10 },
    ...(o.signal?.aborted ? { stop_reason: String(o.signal.reason) } : {}),
  } satisfies Partial<RunManifest>);
  const report = audit({ ...(await store.auditInput({ runId, cap: experiment.cap, rules: registeredReflection })), manifests: [manifest] });
  manifest.audit = report;
  await store.writeManifest(manifest);
  return { manifest, report };
}
