/**
 * The queue's claims from a worker's side: a worker paused past its claim's
 * expiry commits nothing; SIGTERM finishes the claims a worker holds; a job
 * whose store cannot be set up fails for good without stopping the worker.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { fixtureFile, tempDir, untilLine, writeJson } from './helpers.js';
import { sql } from './conformance/backends.js';
import { pgTest } from './pg-test.js';
import { count, freshRun, said, startWorker } from './queue-test.js';
import { EPISODE_QUEUE, openQueue } from '../src/queue/jobs.js';

pgTest('a live worker whose claim expired commits nothing: the episode is committed once, by the worker that holds the claim', async (t) => {
  const r = await freshRun(t);
  // One episode of a domain whose play in A waits on a FIFO the test opens once B has committed;
  // in B it plays at once, well within B's own 3 s claim.
  const dir = await tempDir();
  const gate = join(dir, 'gate');
  execFileSync('mkfifo', [gate]);
  const experiment = join(dir, 'gated.json');
  await writeJson(experiment, { name: 'gated', domains: ['gated'], episodes: 1, modules: [fixtureFile('gated-domain.mjs')] });
  const run = cli(['run', experiment, '--store', r.store, '--queue', r.queue, '--claim-seconds', '3', '--json']);
  const a = startWorker(r.queue, 'A', ['--concurrency', '1'], { ACE_TEST_GATE: gate });
  t.teardown(() => a.child.kill('SIGKILL'));
  await a.log.until((lines) => count(lines, 'claimed') === 1);
  const [id] = said(a.log.lines, 'claimed');
  // A paused host: its claim expires and pg-boss hands the episode to B.
  a.child.kill('SIGSTOP');
  const b = startWorker(r.queue, 'B', ['--concurrency', '1']);
  t.teardown(() => b.child.kill('SIGKILL'));
  await b.log.until((lines) => said(lines, 'committed').includes(id!));
  const result = await run;
  t.is(result.code, 0, result.stderr);
  a.child.kill('SIGCONT');
  // A's play ends now; its commit finds the claim gone.
  await writeFile(gate, 'go');
  // A's word on the episode, whatever it is: claim lost, committed, or a failed commit.
  await a.log.until((lines) => lines.some((l) => l.includes(id!) && !l.startsWith('claimed ')));
  t.deepEqual(said(a.log.lines, 'claim lost'), [id], a.stderr());
  t.deepEqual(said(a.log.lines, 'committed'), [], 'the stale claim committed nothing');

  const records = await sql<{ worker: string }>(`SELECT worker FROM "${r.storeSchema}".episodes WHERE episode_id = $1`, [id]);
  t.deepEqual(records.map((e) => e.worker), ['B'], 'exactly one record, by B');
  const jobs = await sql<{ state: string; output: { worker?: string } }>(`SELECT state, output FROM "${r.queueSchema}".job WHERE name = $1`, [EPISODE_QUEUE]);
  t.deepEqual(jobs.map((j) => [j.state, j.output.worker]), [['completed', 'B']], 'one job, completed by B');
  a.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
  t.is(await a.exited, 0, a.stderr());
  t.is(await b.exited, 0, b.stderr());
});

pgTest('SIGTERM with episodes in flight: the worker commits every episode it claimed, then exits 0', async (t) => {
  const r = await freshRun(t);
  const run = cli(['run', '--store', r.store, '--queue', r.queue, '--domains', 'hot_pot,chem_tile', '--episodes', '6', '--episode-ms', '400', '--claim-seconds', '30', '--json']);
  const a = startWorker(r.queue, 'A', ['--concurrency', '4']);
  t.teardown(() => a.child.kill('SIGKILL'));
  await a.log.until((lines) => count(lines, 'claimed') > count(lines, 'committed'));
  a.child.kill('SIGTERM');
  t.is(await a.exited, 0, a.stderr());
  // Said at once, so a drain that takes as long as the slowest episode is not taken for a hang.
  t.regex(a.stderr(), /worker: SIGTERM received: claiming no more episodes; finishing the ones in flight and committing them, then exiting/);
  const claimed = said(a.log.lines, 'claimed');
  t.true(claimed.length > 0);
  t.deepEqual(said(a.log.lines, 'committed').sort(), [...claimed].sort(), `every claimed episode was committed before exit\n${a.stderr()}`);

  // The rest of the run, on another worker.
  const b = startWorker(r.queue, 'B', ['--concurrency', '4']);
  t.teardown(() => b.child.kill('SIGKILL'));
  const result = await run;
  t.is(result.code, 0, result.stderr);
  b.child.kill('SIGTERM');
  t.is(await b.exited, 0, b.stderr());
  const episodes = await sql<{ episode_id: string; worker: string }>(`SELECT episode_id, worker FROM "${r.storeSchema}".episodes`);
  t.is(episodes.length, 12);
  const byA = episodes.filter((e) => e.worker === 'A').map((e) => e.episode_id);
  t.deepEqual(byA.sort(), [...claimed].sort(), 'A\'s claims are A\'s records');
});

pgTest('a job whose store cannot be set up fails for good in one line; the worker keeps going and exits 0', async (t) => {
  const r = await freshRun(t);
  const w = startWorker(r.queue, 'A');
  t.teardown(() => w.child.kill('SIGKILL'));
  await w.log.until((lines) => lines.some((l) => l.includes('claiming episodes')));
  const { boss } = await openQueue(r.queue);
  try {
    await boss.insert([{ name: EPISODE_QUEUE, data: { storeSchema: 'Not-A-Schema', runId: 'r1', domain: 'hot_pot', index: 0, seed: 1, cap: 50, episodeMs: 0, modules: [] }, retryLimit: 20, retryDelay: 0 }]);
  } finally {
    await boss.stop({ graceful: false, wait: true, close: true });
  }
  await w.log.until((lines) => lines.some((l) => l.startsWith('episode r1-hot_pot-0000 failed: E_SETUP')));
  const jobs = await sql<{ state: string; retry_count: number }>(`SELECT state, retry_count FROM "${r.queueSchema}".job WHERE name = $1`, [EPISODE_QUEUE]);
  t.deepEqual(jobs.map((j) => [j.state, j.retry_count]), [['failed', 0]], 'failed once, for good: pg-boss does not hand it to the next worker');
  w.child.kill('SIGTERM');
  t.is(await w.exited, 0, w.stderr());
  t.notRegex(w.stderr(), /\n\s+at /, 'no stack trace');
});

pgTest('a queued run interrupted while a worker holds claims waits for them: its manifest counts every episode committed for it', async (t) => {
  const r = await freshRun(t);
  let runChild: ReturnType<typeof spawn> | undefined;
  const run = cli(['run', '--store', r.store, '--queue', r.queue, '--domains', 'hot_pot,chem_tile', '--episodes', '20', '--episode-ms', '400', '--claim-seconds', '30', '--json'], (child) => (runChild = child));
  const a = startWorker(r.queue, 'A', ['--concurrency', '4']);
  t.teardown(() => a.child.kill('SIGKILL'));
  // Interrupted with the worker holding claims it has not committed yet.
  await a.log.until((lines) => count(lines, 'committed') >= 1 && count(lines, 'claimed') > count(lines, 'committed'));
  runChild!.kill('SIGINT');
  const result = await run;
  t.is(result.code, 130, result.stderr);
  const out = JSON.parse(result.stdout);
  t.is(out.status, 'interrupted');
  const [manifest] = await sql<{ body: { episodes: { episode_id: string }[] } }>(`SELECT body FROM "${r.storeSchema}".manifests`);
  const committed = await sql<{ episode_id: string }>(`SELECT episode_id FROM "${r.storeSchema}".episodes WHERE run_id = $1`, [out.runId]);
  t.true(committed.length < 40, 'the run stopped early');
  t.deepEqual(manifest!.body.episodes.map((e) => e.episode_id).sort(), committed.map((e) => e.episode_id).sort(), 'the manifest lists every episode committed for the run');
  t.deepEqual(await sql(`SELECT id FROM "${r.queueSchema}".job WHERE data->>'runId' = $1 AND state IN ('created', 'retry', 'active')`, [out.runId]), [], 'nothing of the run is left queued or claimed');
  a.child.kill('SIGTERM');
  t.is(await a.exited, 0, a.stderr());
});

pgTest('a queued run that stopped is resumed here: what it withdrew is played on this host; while a worker still holds some, resume says so', async (t) => {
  const r = await freshRun(t);
  // Queued with no worker to play it, then interrupted: its jobs are withdrawn.
  let runChild: ReturnType<typeof spawn> | undefined;
  const first = cli(['run', '--store', r.store, '--queue', r.queue, '--domains', 'hot_pot', '--episodes', '4', '--progress', 'lines', '--json'], (child) => {
    runChild = child;
    void untilLine(child.stderr!, (l) => /episodes queued/.test(l)).then(() => child.kill('SIGINT'));
  });
  const stopped = await first;
  t.is(stopped.code, 130, stopped.stderr);
  t.truthy(runChild);
  const runId = JSON.parse(stopped.stdout).runId as string;

  // How fast the rest is played may be given: the queued run's config holds no concurrency of its workers.
  const resumed = await cli(['run', '--resume', runId, '--store', r.store, '--concurrency', '3']);
  t.is(resumed.code, 0, resumed.stderr);
  t.regex(resumed.stderr, new RegExp(`resuming run ${runId}: 0 episodes done .*, 4 to play`));
  t.regex(resumed.stdout, /: complete, 4 episodes \(4 played by this resume\) in .* on \d+ threads/);
  t.regex(resumed.stdout, /concurrency 3/);
  const [manifest] = await sql<{ body: { status: string; queue?: string; episodes: unknown[] } }>(`SELECT body FROM "${r.storeSchema}".manifests`);
  t.like(manifest!.body, { status: 'complete' });
  t.is(manifest!.body.episodes.length, 4);
  t.is(manifest!.body.queue, undefined, 'what was left of it was played here, not queued');

  // Complete now: nothing to do.
  const again = await cli(['run', '--resume', runId, '--store', r.store]);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /is complete: .*nothing to do/);

  // A run whose process died with its episodes still queued: they are its workers' to play, not this host's.
  const killed = await cli(['run', '--store', r.store, '--queue', r.queue, '--domains', 'chem_tile', '--episodes', '3', '--progress', 'lines', '--json'], (child) => {
    void untilLine(child.stderr!, (l) => /episodes queued/.test(l)).then(() => child.kill('SIGKILL'));
  });
  t.is(killed.code, null, 'killed');
  const [dead] = await sql<{ id: string }>(`SELECT body->>'run_id' AS id FROM "${r.storeSchema}".manifests WHERE body->>'status' = 'running'`);
  const refused = await cliHere(['run', '--resume', dead!.id, '--store', r.store]);
  assertOneLineError(t, refused, `run ${dead!.id} still has 3 episodes in queue`, 'ace-orch worker --queue');
});

pgTest('repair closes a queued run whose coordinator died, keeping who committed each episode', async (t) => {
  const r = await freshRun(t);
  const killed = await cli(['run', '--store', r.store, '--queue', r.queue, '--domains', 'hot_pot', '--episodes', '3', '--progress', 'lines', '--json'], (child) => {
    void untilLine(child.stderr!, (l) => /episodes queued/.test(l)).then(() => child.kill('SIGKILL'));
  });
  t.is(killed.code, null);
  const a = startWorker(r.queue, 'A', ['--concurrency', '3']);
  t.teardown(() => a.child.kill('SIGKILL'));
  await a.log.until((lines) => count(lines, 'committed') >= 3);
  a.child.kill('SIGTERM');
  t.is(await a.exited, 0, a.stderr());
  const repaired = await cli(['repair', '--store', r.store]);
  t.is(repaired.code, 0, repaired.stderr);
  t.regex(repaired.stdout, /Closed run \S+: its process died; marked crashed/);
  const [manifest] = await sql<{ body: { status: string; episodes: { worker?: string; host?: string }[] } }>(`SELECT body FROM "${r.storeSchema}".manifests`);
  t.is(manifest!.body.status, 'crashed');
  t.is(manifest!.body.episodes.length, 3);
  t.true(manifest!.body.episodes.every((e) => e.worker === 'A' && typeof e.host === 'string'), JSON.stringify(manifest!.body.episodes));
});
