/**
 * `bench --pg URL`: the PostgreSQL store and queue measured on scratch
 * schemas of that database (dropped afterwards). Merges/s into one playbook
 * from 5 processes with group commit, beside the file store in the same
 * invocation; and episodes/s through pg-boss with 1, 2 and 3 local workers,
 * timed from the first claim to the last completion (worker start-up excluded).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BUILTIN_DOMAINS } from '../domains/index.js';
import { DEFAULT_EXPERIMENT } from '../run/experiment.js';
import { runDistributed } from '../queue/distributed-run.js';
import { EPISODE_QUEUE } from '../queue/jobs.js';
import { createPool, openError } from '../store/pg/connect.js';
import { PgStore } from '../store/pg/pg-store.js';
import { parsePgUrl, storeUrlIn } from '../store/pg/url.js';
import { runBench } from './run-bench.js';
import type { BenchResult } from './types.js';

export interface QueueRow {
  workers: number;
  concurrency: number;
  episodeMs: number;
  episodes: number;
  seconds: number;
  episodesPerSec: number;
  /** Think time delivered / (span × workers × concurrency); only meaningful with think time. */
  efficiency: number | null;
}

export interface PgBenchReport {
  merges: { file: BenchResult; postgres: BenchResult };
  queue: QueueRow[];
}

async function scratchSchemas<T>(url: string, n: number, fn: (schemas: string[]) => Promise<T>): Promise<T> {
  const target = parsePgUrl(url, '--pg');
  const schemas = Array.from({ length: n }, () => `ace_bench_${randomBytes(5).toString('hex')}`);
  const pool = createPool(target.connectionString, 1);
  try {
    return await fn(schemas);
  } finally {
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await pool.end();
  }
}

async function queueRow(url: string, workers: number, concurrency: number, episodeMs: number, episodesPerDomain: number): Promise<QueueRow> {
  const target = parsePgUrl(url, '--pg');
  return scratchSchemas(url, 2, async ([storeSchema, queueSchema]) => {
    const store = new PgStore(storeUrlIn(target, storeSchema!));
    try {
      // One thread per local worker: three workers of two threads each would be six threads on a 2-core
      // machine, and the episodes mostly wait; measured, 1 thread gave 81–86% at 3 workers, 2 threads 76–81%.
      const experiment = { ...DEFAULT_EXPERIMENT, name: 'bench-queue', domains: [...BUILTIN_DOMAINS], episodes: episodesPerDomain, threads: 1, concurrency, episodeMs };
      const { manifest } = await runDistributed({ experiment, store, queue: storeUrlIn(target, queueSchema!), workers, concurrency, claimSeconds: 120 });
      const span = await store.transaction((c) =>
        c.query<{ s: number }>(`SELECT extract(epoch FROM max(completed_on) - min(started_on))::float AS s FROM "${queueSchema}".job WHERE name = $1 AND data->>'runId' = $2`, [EPISODE_QUEUE, manifest.run_id]),
      );
      const seconds = span.rows[0]!.s;
      const episodes = manifest.episodes?.filter((e) => e.status === 'ok').length ?? 0;
      return {
        workers,
        concurrency,
        episodeMs,
        episodes,
        seconds: Math.round(seconds * 1000) / 1000,
        episodesPerSec: Math.round((episodes / seconds) * 10) / 10,
        efficiency: episodeMs > 0 ? Math.round(((episodes * episodeMs) / 1000 / (seconds * workers * concurrency)) * 1000) / 1000 : null,
      };
    } finally {
      await store.close();
    }
  });
}

export async function runPgBench(url: string, scratchDir: string, progress: (line: string) => void): Promise<PgBenchReport> {
  // A server or database that cannot be had is the user's input: one line naming the URL, exit 2, before any row.
  const target = parsePgUrl(url, '--pg');
  const probe = createPool(target.connectionString, 1);
  try {
    await probe.query('SELECT 1');
  } catch (err) {
    throw openError(target.masked, err, '--pg');
  } finally {
    await probe.end();
  }
  const merges = { writers: 5, processes: 5, merges: 200, commit: 'batched' as const, method: 'locked' as const, playbookSize: 10 };
  progress('bench: file store, 5 processes, group commit ...');
  const file = await runBench(join(scratchDir, 'merge-file'), merges);
  progress('bench: PostgreSQL store, 5 processes, group commit ...');
  const postgres = await scratchSchemas(url, 1, ([schema]) => runBench(storeUrlIn(target, schema!), merges));
  const queue: QueueRow[] = [];
  for (const episodeMs of [0, 1000]) {
    for (const workers of [1, 2, 3]) {
      progress(`bench: pg-boss, ${workers} workers × concurrency 100, --episode-ms ${episodeMs} ...`);
      queue.push(await queueRow(url, workers, 100, episodeMs, episodeMs ? 200 : 300));
    }
  }
  return { merges: { file, postgres }, queue };
}
