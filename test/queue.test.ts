/**
 * Distributed runs on one machine: workers as separate processes claiming
 * from pg-boss. A worker SIGKILLed mid-episode loses its claims to expiry and
 * the survivors play those episodes; afterwards every episode is committed
 * exactly once, by the claim that completed its job, with zero loss.
 */
import type { ExecutionContext } from 'ava';
import { join } from 'node:path';
import type { EpisodeEntry, RunManifest } from '../src/core/types.js';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { sql } from './conformance/backends.js';
import { ROOT, tempDir, writeJson } from './helpers.js';
import { pgTest } from './pg-test.js';
import { count, freshRun, startWorker } from './queue-test.js';

pgTest('a worker killed mid-episode loses its claims; the others play them; every episode exactly once, zero loss', async (t) => {
  const r = await freshRun(t);
  const run = cli(['run', '--store', r.store, '--queue', r.queue, '--domains', 'hot_pot,chem_tile', '--episodes', '30', '--threads', '2', '--episode-ms', '200', '--claim-seconds', '3', '--json', '--progress', 'lines']);
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
  const finalLine = /^\[#{20}\] 60\/60 done, 0 in flight, 0 failed, (\d+) handed out again, /m.exec(result.stderr);
  t.is(Number(finalLine?.[1]), jobs.filter((j) => j.retry_count > 0).length, `the progress line counts the episodes handed out again\n${result.stderr}`);
  t.regex(result.stderr, /^run \S+: 60 episodes queued;/m);
  const by = new Map(episodes.map((e) => [e.episode_id, e.worker]));
  t.true(jobs.every((j) => j.output.worker === by.get(j.episode)), 'the claim that completed each job is the one that committed its episode');

  const [manifest] = await sql<{ body: { episodes: { episode_id: string; worker?: string; host?: string; handed_out?: number }[] } }>(`SELECT body FROM "${r.storeSchema}".manifests`);
  // Each play started again is on the record: per episode in the manifest, in all in the result.
  const again = jobs.filter((j) => j.retry_count > 0);
  t.deepEqual(
    manifest!.body.episodes.filter((e) => e.handed_out).map((e) => [e.episode_id, e.handed_out]).sort(),
    again.map((j) => [j.episode, j.retry_count]).sort(),
  );
  t.deepEqual(JSON.parse(result.stdout).handedOut, { episodes: again.length, plays: again.reduce((n, j) => n + j.retry_count, 0) });
  const workers = new Set(manifest!.body.episodes.map((e) => e.worker));
  t.deepEqual([...workers].sort(), ['A', 'B'], 'the manifest records which worker ran each episode');
  t.true(manifest!.body.episodes.every((e) => typeof e.host === 'string'));
});

pgTest('--queue without a reachable PostgreSQL store, or on another database, is one line and exit 2; nothing is queued', async (t) => {
  const r = await freshRun(t);
  assertOneLineError(t, await cliHere(['run', '--queue', r.queue, '--store', '/tmp/ace-not-used', '--episodes', '1']), '--queue needs a PostgreSQL --store');
  const otherDatabase = await cliHere(['run', '--queue', 'postgres://root:hunter2@127.0.0.1:5432/postgres', '--store', r.store, '--episodes', '1']);
  assertOneLineError(t, otherDatabase, 'same PostgreSQL database', ':***@');
  t.is(otherDatabase.stderr.trim().split('\n').length, 1, `the refusal alone, no warning before it: ${otherDatabase.stderr}`);
  assertOneLineError(t, await cliHere(['run', '--claim-seconds', '5', '--episodes', '1', '--store', r.store]), '--claim-seconds', 'give --queue');
  assertOneLineError(t, await cliHere(['run', '--queue', 'postgres://root:hunter2@127.0.0.1:1/test', '--store', 'postgres://root:hunter2@127.0.0.1:1/test', '--episodes', '1']), 'cannot be reached', ':***@');
  assertOneLineError(t, await cliHere(['worker', '--queue', 'postgres://root:hunter2@127.0.0.1:1/test']), 'queue postgres://root:***@127.0.0.1:1/test cannot be reached');
  assertOneLineError(t, await cliHere(['run', '--workers', '2', '--episodes', '1', '--store', r.store]), '--workers');
  // Workers on other hosts share no rate limiter yet: a --rate recorded but never applied is refused.
  assertOneLineError(t, await cliHere(['run', '--queue', r.queue, '--store', r.store, '--episodes', '1', '--rate', '2']), 'limits the starts of a local run');
  assertOneLineError(t, await cliHere(['run', '--queue', r.queue, '--store', r.store, '--episodes', '1', '--commit', 'each']), '--commit each: a queued run\'s workers commit');
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
  const [manifest] = await sql<{ body: { episodes: EpisodeEntry[] } }>(`SELECT body FROM "${r.storeSchema}".manifests`);
  const failed = manifest!.body.episodes.filter((e) => e.status === 'failed');
  t.is(failed.length, 1);
  t.like(failed[0], { index: 3, attempts: 1 });
  t.regex(failed[0]!.error!, /refused/, 'the manifest carries the episode\'s own error');
  // As a local run's manifest does: each episode's attempts, their errors and its start, from the worker that ran it.
  const byIndex = new Map(manifest!.body.episodes.map((e) => [e.index, e]));
  for (const e of manifest!.body.episodes) {
    t.true(typeof e.started_at === 'string' && !Number.isNaN(Date.parse(e.started_at)), `episode ${e.index} has its start time`);
    t.true(typeof e.ms === 'number', `episode ${e.index} has its duration`);
  }
  t.like(byIndex.get(0), { status: 'ok', attempts: 1 });
  t.like(byIndex.get(1), { status: 'ok', attempts: 2 });
  t.is(byIndex.get(1)!.attempt_errors?.length, 1, 'the first attempt\'s error');
  t.like(byIndex.get(2), { status: 'ok', attempts: 2 });
  t.regex(byIndex.get(2)!.attempt_errors?.[0] ?? '', /^E_TIMEOUT: /, 'the timed-out first attempt');
});

pgTest('a --claim-seconds shorter than an episode\'s longest play is refused in one line, exit 2, nothing queued; no --episode-timeout warns', async (t) => {
  const r = await freshRun(t);
  const refused = await cliHere(['run', '--store', r.store, '--queue', r.queue, '--domains', 'hot_pot', '--episodes', '2', '--episode-timeout', '40000', '--retries', '1', '--retry-delay', '1000', '--claim-seconds', '60']);
  assertOneLineError(t, refused, '--claim-seconds 60 is shorter', '2 attempts × --episode-timeout 40000 ms + up to 2000 ms of retry backoff = 82 s');
  t.deepEqual(await sql(`SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)`, [[r.queueSchema, r.storeSchema]]), [], 'no store or queue schema was created');

  // Unbounded: one warning, and the run goes ahead (its local worker plays it).
  const warned = await cli(['run', '--store', r.store, '--queue', r.queue, '--workers', '1', '--domains', 'hot_pot', '--episodes', '2', '--threads', '1']);
  t.is(warned.code, 0, warned.stderr);
  t.is(warned.stderr.split('\n').filter((l) => l.startsWith('warning: no --episode-timeout')).length, 1, warned.stderr);
});

pgTest('when every local worker exits, the run stops in one line with exit 4 instead of waiting for ever; its queued episodes are withdrawn', async (t) => {
  const r = await freshRun(t);
  const file = join(await tempDir(), 'exit.json');
  // Each episode SIGKILLs the worker process playing it.
  await writeJson(file, { name: 'exit-probe', seed: 1, domains: ['exit_probe'], episodes: 4, threads: 1, episodeTimeoutMs: 5000, modules: [join(ROOT, 'test/fixtures/exit-domain.mjs')] });
  const result = await cli(['run', file, '--store', r.store, '--queue', r.queue, '--workers', '2', '--json']);
  t.is(result.code, 4, result.stderr);
  t.regex(result.stderr, /^ace-orch: all 2 local workers exited \(code SIGKILL\) with 4 episodes unplayed$/m);
  t.like(JSON.parse(result.stdout), { status: 'stopped' });
  const queued = await sql(`SELECT 1 FROM "${r.queueSchema}".job WHERE name = 'ace-episodes' AND state IN ('created', 'retry')`);
  t.deepEqual(queued, [], 'no episode of the stopped run is left for a later worker');
});

pgTest('--max-failures stops a queued run as it stops a local one: nothing more handed out, status stopped, exit 4', async (t) => {
  const r = await freshRun(t);
  const file = join(await tempDir(), 'refused.json');
  // Every play is refused (not retryable): the first failure already crosses --max-failures 0.
  await writeJson(file, { name: 'refused', seed: 1, domains: ['refused'], episodes: 12, threads: 1, episodeTimeoutMs: 5000, maxFailures: 0, modules: [join(ROOT, 'test/fixtures/refused-domain.mjs')] });
  const result = await cli(['run', file, '--store', r.store, '--queue', r.queue, '--workers', '1', '--concurrency', '1', '--json']);
  t.is(result.code, 4, result.stderr);
  const report = JSON.parse(result.stdout) as { status: string; zeroLoss: boolean };
  t.like(report, { status: 'stopped', zeroLoss: true });
  const [manifest] = await sql<{ body: { stop_reason?: string; episodes: { status: string }[] } }>(`SELECT body FROM "${r.storeSchema}".manifests`);
  t.regex(manifest!.body.stop_reason ?? '', /more than 0 episodes failed \(--max-failures\)/);
  t.true(manifest!.body.episodes.every((e) => e.status === 'failed') && manifest!.body.episodes.length >= 1);
  const queued = await sql(`SELECT 1 FROM "${r.queueSchema}".job WHERE name = 'ace-episodes' AND state IN ('created', 'retry', 'active')`);
  t.deepEqual(queued, [], 'nothing of the stopped run is left queued or in flight');
});

pgTest('worker takes its queue URL from ACE_ORCH_QUEUE when --queue is absent; with neither, one line and exit 2', async (t) => {
  assertOneLineError(t, await cliHere(['worker']), '--queue', 'ACE_ORCH_QUEUE');
  const help = await cli(['worker', '--help']);
  t.regex(help.stdout, /ACE_ORCH_QUEUE/);
});

pgTest('a queued run records its workers\' playbook-row lock timings: the summary line, the manifest and stats', async (t) => {
  const r = await freshRun(t);
  const run = await cli(['run', '--store', r.store, '--queue', r.queue, '--workers', '1', '--domains', 'hot_pot,chem_tile', '--episodes', '3', '--threads', '1']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /Zero loss/);
  t.regex(run.stdout, /^lock: 6 episodes in [1-6] merges?; wait p50 [\d.]+ ms, /m);
  const [manifest] = await sql<{ body: RunManifest }>(`SELECT body FROM "${r.storeSchema}".manifests`);
  const contention = manifest!.body.contention!;
  t.deepEqual(Object.keys(contention).sort(), ['chem_tile', 'hot_pot']);
  for (const stats of Object.values(contention)) {
    t.is(stats.count, 3, 'every committed episode reports the batch that carried it');
    t.true(stats.merges! >= 1 && stats.merges! <= 3);
    t.true(stats.holdMs.max >= stats.holdMs.p50 && stats.holdMs.p50 >= 0);
  }
});

/** Queues 3 hot_pot episodes and SIGKILLs the run's coordinator once it has queued them; the run's id. */
async function queuedThenKilled(t: ExecutionContext, r: { queue: string; store: string }): Promise<string> {
  const killed = await cli(['run', '--queue', r.queue, '--store', r.store, '--domains', 'hot_pot', '--episodes', '3'], (child) => {
    let said = '';
    child.stderr!.on('data', (d) => {
      said += d;
      if (said.includes('queued; start')) child.kill('SIGKILL');
    });
  });
  t.is(killed.code, null, killed.stderr);
  return /run (\S+): 3 episodes queued/.exec(killed.stderr)![1]!;
}

pgTest('repair leaves a queued run whose coordinator died running while its queue still holds episodes', async (t) => {
  const r = await freshRun(t);
  // No worker: every episode stays queued.
  const runId = await queuedThenKilled(t, r);
  const repair = await cliHere(['repair', '--store', r.store]);
  t.is(repair.code, 0, repair.stderr);
  t.regex(repair.stdout, new RegExp(`Left run ${runId} running: its coordinator is gone, but 3 episodes of it are still in queue postgres://\\S+, its workers' to finish`));
  t.notRegex(repair.stdout, /Closed run/);
  const [row] = await sql<{ status: string }>(`SELECT body->>'status' AS status FROM "${r.storeSchema}".manifests WHERE run_id = $1`, [runId]);
  t.is(row?.status, 'running');
});

pgTest('a worker on a queue schema no run has used says so, once: it created the schema and waits there', async (t) => {
  const r = await freshRun(t);
  // Each worker stops (SIGTERM) once it claims: what it said before that is all there is to see.
  const worker = () =>
    cli(['worker', '--queue', r.queue, '--threads', '1'], (child) => {
      let said = '';
      child.stderr!.on('data', (d) => {
        said += d;
        if (said.includes('claiming episodes')) child.kill('SIGTERM');
      });
    });
  const first = await worker();
  t.true(first.stderr.includes(`schema=${r.queueSchema}: its schema ${r.queueSchema} did not exist, so no run has queued episodes there yet; created it and waiting (a run's --queue must name the same ?schema=)`), first.stderr);
  t.regex(first.stderr, /^warning: queue postgres:\/\//m);
  const second = await worker();
  t.false(second.stderr.includes('did not exist'), second.stderr);
});

pgTest('a queued run whose coordinator died, finished by its workers, keeps on resume what the workers recorded of each episode', async (t) => {
  const r = await freshRun(t);
  const runId = await queuedThenKilled(t, r);
  const w = startWorker(r.queue, 'W');
  await w.log.until((lines) => count(lines, 'committed') >= 3);
  w.child.kill('SIGTERM');
  t.is(await w.exited, 0, w.stderr());
  const resumed = await cliHere(['run', '--resume', runId, '--store', r.store, '--json']);
  t.is(resumed.code, 0, resumed.stderr);
  const [row] = await sql<{ body: { status: string; episodes: { worker?: string; host?: string; attempts?: number; ms?: number }[] } }>(`SELECT body FROM "${r.storeSchema}".manifests WHERE run_id = $1`, [runId]);
  t.is(row!.body.status, 'complete');
  t.is(row!.body.episodes.length, 3);
  for (const e of row!.body.episodes) t.like(e, { worker: 'W', attempts: 1 }, JSON.stringify(e));
  t.true(row!.body.episodes.every((e) => typeof e.host === 'string' && typeof e.ms === 'number'));
});

pgTest('repair says nothing of a queued run whose coordinator is alive', async (t) => {
  const r = await freshRun(t);
  let repair: Awaited<ReturnType<typeof cliHere>> | undefined;
  // Repaired while its coordinator waits for workers, then the coordinator is killed.
  await cli(['run', '--queue', r.queue, '--store', r.store, '--domains', 'hot_pot', '--episodes', '3'], (child) => {
    let said = '';
    child.stderr!.on('data', (d) => {
      said += d;
      if (said.includes('queued; start') && !repair) {
        repair = { code: -1, stdout: '', stderr: '' };
        void cliHere(['repair', '--store', r.store]).then((done) => {
          repair = done;
          child.kill('SIGKILL');
        });
      }
    });
  });
  t.is(repair!.code, 0, repair!.stderr);
  t.notRegex(repair!.stdout, /Left run|Closed run/);
});
