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
import { assertOneLineError, cli } from './cli-helper.js';
import { freshPgSchema, PG_URL, pgUnavailable, sql } from './conformance/backends.js';
import { CLI, ROOT, watchLines } from './helpers.js';

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
  const child = spawn(process.execPath, [...CLI, 'worker', '--queue', queue, '--name', name, '--threads', '2', '--verbose', ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
