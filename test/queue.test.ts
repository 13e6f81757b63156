/**
 * Distributed runs on one machine: workers as separate processes claiming
 * from pg-boss. A worker SIGKILLed mid-episode loses its claims to expiry and
 * the survivors play those episodes; afterwards every episode is committed
 * exactly once, by the claim that completed its job, with zero loss.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { assertOneLineError, cli } from './cli-helper.js';
import { freshPgSchema, PG_URL, pgUnavailable, sql } from './conformance/backends.js';
import { CLI, ROOT, tempDir, watchLines, writeJson } from './helpers.js';

const pgTest = (title: string, body: (t: ExecutionContext) => Promise<void>): void =>
  test(title, async (t) => {
    const why = await pgUnavailable();
    if (why) return void (t.log(`SKIPPED: ${why}`), t.pass());
    await body(t);
  });

/** Fresh store and queue schemas, dropped when the test ends. */
async function freshRun(t: ExecutionContext): Promise<{ store: string; queue: string; storeSchema: string; queueSchema: string }> {
  const f = await freshPgSchema();
  const queueSchema = `ace_q_${randomBytes(5).toString('hex')}`;
  t.teardown(async () => {
    await f.cleanup();
    await sql(`DROP SCHEMA IF EXISTS "${queueSchema}" CASCADE`);
  });
  return { store: f.store, queue: `${PG_URL}?schema=${queueSchema}`, storeSchema: new URL(f.store).searchParams.get('schema')!, queueSchema };
}

/** A worker process; with --verbose it reports every claim and commit on stderr, which the test waits on. */
function startWorker(queue: string, name: string, extra: string[] = []) {
  const child = spawn(process.execPath, ['--import=tsx', CLI, 'worker', '--queue', queue, '--name', name, '--threads', '2', '--verbose', ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = watchLines(child.stderr);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { child, exited, log, stderr: () => log.lines.join('\n') };
}

const count = (lines: readonly string[], verb: 'claimed' | 'committed'): number => lines.filter((l) => l.startsWith(`${verb} `)).length;

pgTest('a worker killed mid-episode loses its claims; the others play them; every episode exactly once, zero loss', async (t) => {
  const r = await freshRun(t);
  const run = cli(['run', '--store', r.store, '--queue', r.queue, '--domains', 'hot_pot,chem_tile', '--episodes', '30', '--threads', '2', '--episode-ms', '200', '--claim-seconds', '3', '--json']);
  const a = startWorker(r.queue, 'A', ['--concurrency', '4']);
  const b = startWorker(r.queue, 'B', ['--concurrency', '4']);
  // Killed once it has committed 3 episodes and holds claims it has not committed.
  await a.log.until((lines) => count(lines, 'committed') >= 3 && count(lines, 'claimed') > count(lines, 'committed'));
  a.child.kill('SIGKILL');
  await a.exited;

  const result = await run;
  t.is(result.code, 0, result.stderr);
  t.like(JSON.parse(result.stdout), { zeroLoss: true, status: 'complete' });
  b.child.kill('SIGTERM');
  t.is(await b.exited, 0, `SIGTERM: B finishes and exits 0\n${b.stderr()}`);

  const episodes = await sql<{ episode_id: string; worker: string }>(`SELECT episode_id, worker FROM "${r.storeSchema}".episodes`);
  t.is(episodes.length, 60, 'every episode committed');
  t.is(new Set(episodes.map((e) => e.episode_id)).size, 60, 'each once');
  const jobs = await sql<{ state: string; retry_count: number; episode: string; output: { worker?: string } }>(
    `SELECT state, retry_count, output, (data->>'runId') || '-' || (data->>'domain') || '-' || lpad(data->>'index', 4, '0') AS episode FROM "${r.queueSchema}".job WHERE name = 'ace-episodes'`,
  );
  t.is(jobs.length, 60);
  t.true(jobs.every((j) => j.state === 'completed'), 'every job completed');
  t.true(jobs.some((j) => j.retry_count > 0), 'some claims of the killed worker expired and were claimed again');
  const by = new Map(episodes.map((e) => [e.episode_id, e.worker]));
  t.true(jobs.every((j) => j.output.worker === by.get(j.episode)), 'the claim that completed each job is the one that committed its episode');

  const [manifest] = await sql<{ body: { episodes: { worker?: string; host?: string }[] } }>(`SELECT body FROM "${r.storeSchema}".manifests`);
  const workers = new Set(manifest!.body.episodes.map((e) => e.worker));
  t.deepEqual([...workers].sort(), ['A', 'B'], 'the manifest records which worker ran each episode');
  t.true(manifest!.body.episodes.every((e) => typeof e.host === 'string'));
});

pgTest('--queue without a reachable PostgreSQL store, or on another database, is one line and exit 2; nothing is queued', async (t) => {
  const r = await freshRun(t);
  assertOneLineError(t, await cli(['run', '--queue', r.queue, '--store', '/tmp/ace-not-used', '--episodes', '1']), '--queue needs a PostgreSQL --store');
  assertOneLineError(t, await cli(['run', '--queue', 'postgres://root:hunter2@127.0.0.1:5432/postgres', '--store', r.store, '--episodes', '1']), 'same PostgreSQL database', ':***@');
  assertOneLineError(t, await cli(['run', '--queue', 'postgres://root:hunter2@127.0.0.1:1/test', '--store', 'postgres://root:hunter2@127.0.0.1:1/test', '--episodes', '1']), 'cannot be reached', ':***@');
  assertOneLineError(t, await cli(['worker', '--queue', 'postgres://root:hunter2@127.0.0.1:1/test']), 'queue postgres://root:***@127.0.0.1:1/test cannot be reached');
  assertOneLineError(t, await cli(['run', '--workers', '2', '--episodes', '1', '--store', r.store]), '--workers');
  t.deepEqual(await sql(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [r.queueSchema]), [], 'no queue schema was created');
});

pgTest('an async domain plays through the queue as it does locally: ctx, --episode-timeout, --retries; a final failure is not re-queued; every episode exactly once', async (t) => {
  const r = await freshRun(t);
  const dir = await tempDir();
  const file = join(dir, 'async.json');
  // The fixture's episode 1 throws on its first attempt, 2 hangs past the timeout on it, 3 fails with `retryable: false`.
  await writeJson(file, { name: 'async-queue', seed: 1, domains: ['async_probe'], episodes: 6, threads: 2, concurrency: 4, episodeTimeoutMs: 1500, retries: 1, retryDelayMs: 10, modules: [join(ROOT, 'test/fixtures/async-domain.mjs')] });
  const result = await cli(['run', file, '--store', r.store, '--queue', r.queue, '--workers', '2', '--json', '--progress', 'lines']);
  t.is(result.code, 4, `one episode failed for good: exit 4\n${result.stderr}`);
  t.like(JSON.parse(result.stdout), { zeroLoss: true, status: 'complete' });
  t.regex(result.stderr, /^\[#{20}\] 6\/6 done, 0 in flight, 1 failed, .*ETA 0s$/m, '--progress lines: the local runs\' progress line');
  const [stats] = await sql<{ body: { runs: number; episodes_merged: number } }>(`SELECT body FROM "${r.storeSchema}".stats WHERE domain = 'async_probe'`);
  t.like(stats?.body, { runs: 1, episodes_merged: 5 }, 'the run is in the domain\'s stats, as a local run is');

  const episodes = await sql<{ episode_id: string; record: { index: number; outcome: { observation: { context: Record<string, unknown> } } } }>(`SELECT episode_id, record FROM "${r.storeSchema}".episodes`);
  t.deepEqual(episodes.map((e) => e.record.index).sort(), [0, 1, 2, 4, 5], 'every episode but the refused one committed');
  t.is(new Set(episodes.map((e) => e.episode_id)).size, 5, 'each once');
  const ctx = new Map(episodes.map((e) => [e.record.index, e.record.outcome.observation.context]));
  for (const e of episodes) t.like(ctx.get(e.record.index), { episode_id: e.episode_id, index: e.record.index, signal: true, prior_strategies: ctx.get(e.record.index)!['prior_strategies'] });
  t.is(ctx.get(1)!['attempt'], 1, 'the throwing first attempt was retried in the worker');
  t.is(ctx.get(2)!['attempt'], 1, 'the hanging first attempt timed out and was retried');
  t.is(ctx.get(0)!['attempt'], 0);

  const jobs = await sql<{ index: number; state: string; retry_count: number }>(`SELECT (data->>'index')::int AS index, state, retry_count FROM "${r.queueSchema}".job WHERE name = 'ace-episodes'`);
  t.deepEqual(jobs.filter((j) => j.state !== 'completed').map((j) => [j.index, j.state, j.retry_count]), [[3, 'failed', 0]], 'the refused episode failed once, for good: pg-boss did not re-queue it');
  const [manifest] = await sql<{ body: { episodes: { index: number; status: string; error?: string }[] } }>(`SELECT body FROM "${r.storeSchema}".manifests`);
  const failed = manifest!.body.episodes.filter((e) => e.status === 'failed');
  t.is(failed.length, 1);
  t.like(failed[0], { index: 3 });
  t.regex(failed[0]!.error!, /refused/, 'the manifest carries the episode\'s own error');
});
