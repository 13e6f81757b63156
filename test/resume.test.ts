import test from 'ava';
import type { ExecutionContext } from 'ava';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Store } from '../src/store/store.js';
import { cli, cliHere, runAndKill } from './cli-helper.js';
import { fixtureFile, tempDir } from './helpers.js';
import { runExperiment } from '../src/run/coordinator.js';
import { planResume, readRunToResume } from '../src/run/resume.js';

const DOMAINS = ['hot_pot', 'chem_tile', 'switch_light'];

/** Every episode file of the store, name -> content. */
async function episodeFiles(store: Store): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const d of DOMAINS) for (const f of await store.listEpisodeFiles(d)) out.set(f, await readFile(f, 'utf8'));
  return out;
}

test('resume after SIGKILL of a multi-process run: every episode exactly once, done ones never re-played, zero loss', async (t) => {
  const dir = await tempDir();
  const store = new Store(dir);
  await runAndKill(dir, DOMAINS, 9);
  const [name] = await readdir(store.runsDir());
  const runId = name!.replace(/\.json$/, '');
  const before = await episodeFiles(store);
  t.true(before.size >= 9 && before.size < 30, `${before.size} episode files after the kill`);

  const r = await cli(['run', '--resume', runId, '--store', dir]);
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stderr, new RegExp(`resuming run ${runId}: \\d+ episodes done`));
  t.notRegex(r.stderr, /ended abnormally/, 'no warning about the very run being resumed');
  t.regex(r.stdout, new RegExp(`: complete, 30 episodes \\(${30 - before.size} played by this resume\\) in `));
  t.regex(r.stdout, /Zero loss/);

  const after = await episodeFiles(store);
  t.is(after.size, 30, 'one file per episode');
  for (const [file, content] of before) t.is(after.get(file), content, `${file} was not played again`);
  const manifest = JSON.parse(await readFile(store.manifestPath(runId), 'utf8'));
  t.is(manifest.status, 'complete');
  t.is(manifest.episodes.length, 30);
  t.is(new Set(manifest.episodes.map((e: { episode_id: string }) => e.episode_id)).size, 30, 'every episode exactly once');
  t.true(manifest.episodes.every((e: { status: string }) => e.status === 'ok'));
  t.is(manifest.resumed_at.length, 1);
  for (const d of DOMAINS) {
    const playbook = await store.readPlaybook(d);
    t.is(new Set(playbook.observations.map((o) => o.episode_id)).size, playbook.observations.length);
  }
  const audit = await cliHere(['audit', '--store', dir, '--run', runId]);
  t.is(audit.code, 0, audit.stdout);

  // A complete run: resuming changes nothing and says so.
  const manifestBytes = await readFile(store.manifestPath(runId), 'utf8');
  const again = await cli(['run', '--resume', runId, '--store', dir]);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /is complete: .* nothing to do/);
  t.is(await readFile(store.manifestPath(runId), 'utf8'), manifestBytes);
  t.deepEqual(await episodeFiles(store), after);
});

/**
 * A run of the `failing` agent (every attempt a 502) with `config` over its defaults (2 episodes, 1 retry): exit 4.
 * Its store directory and run id.
 */
async function failedRun(t: ExecutionContext, config: Record<string, unknown> = {}): Promise<{ dir: string; storeDir: string; runId: string }> {
  const dir = await tempDir();
  const file = join(dir, 'exp.json');
  await writeFile(file, JSON.stringify({ name: 'failing', seed: 1, domains: ['failing'], episodes: 2, threads: 1, episodeMs: 0, retries: 1, retryDelayMs: 1, modules: [fixtureFile('failing-domain.mjs')], ...config }));
  const storeDir = join(dir, 'store');
  const first = await cli(['run', file, '--store', storeDir, '--json']);
  t.is(first.code, 4, first.stderr);
  return { dir, storeDir, runId: (JSON.parse(first.stdout) as { runId: string }).runId };
}

test('resume keeps the attempts its run made before: each failed episode played again adds to them, in the manifest and the retries line', async (t) => {
  const { storeDir: store, runId } = await failedRun(t);
  // --threads alone: one episode in flight per thread, as for a new run, not the run's recorded concurrency of 1.
  const resumed = await cli(['run', '--resume', runId, '--store', store, '--threads', '2']);
  t.is(resumed.code, 4, resumed.stderr);
  t.regex(resumed.stdout, /concurrency 2/);
  // Two attempts each in the run, two more in its resume: none of the paid calls vanishes from the record.
  t.regex(resumed.stdout, /retries: 6 attempts played again over 2 episodes/);
  const manifest = JSON.parse(await readFile(join(store, 'runs', `${runId}.json`), 'utf8')) as { episodes: { attempts: number; attempt_errors: string[] }[] };
  for (const e of manifest.episodes) {
    t.is(e.attempts, 4);
    t.is(e.attempt_errors.length, 4);
    t.true(e.attempt_errors.every((x) => /^E_EPISODE: 502 Bad Gateway$/.test(x)), e.attempt_errors.join('; '));
  }
});

test('a resume stopped before it played a failed episode again keeps that episode failed with its attempts; the next resume adds to them', async (t) => {
  const { storeDir, runId } = await failedRun(t);

  // A resume interrupted before its first episode: it plays nothing.
  const store = new Store(storeDir);
  const manifest = await readRunToResume(store, runId);
  const { plan } = await planResume(store, manifest);
  t.is(plan.assignments.length, 2);
  type Entry = { status: string; attempts: number; attempt_errors: string[] };
  const entries = (): Promise<Entry[]> => readFile(store.manifestPath(runId), 'utf8').then((text) => (JSON.parse(text) as { episodes: Entry[] }).episodes);
  // Also while it runs (a resume killed with -9 leaves this manifest): the episodes it will play again are listed, with their attempts.
  let whileRunning: Entry[] = [];
  const stopped = await runExperiment({
    store,
    experiment: manifest.config,
    mode: manifest.mode,
    commit: manifest.commit!,
    resume: plan,
    signal: AbortSignal.abort('stopped by the test'),
    onEvent: (e) => {
      // Read at once, before the run goes on: its last manifest lists them too.
      if (e.type === 'started') whileRunning = (JSON.parse(readFileSync(store.manifestPath(runId), 'utf8')) as { episodes: Entry[] }).episodes;
    },
  });
  t.is(stopped.manifest.status, 'interrupted');
  t.is(stopped.played, 0);
  t.deepEqual(whileRunning.map((e) => [e.status, e.attempts]), [['failed', 2], ['failed', 2]]);
  t.deepEqual(
    (await entries()).map((e) => [e.status, e.attempts, e.attempt_errors.length]),
    [
      ['failed', 2, 2],
      ['failed', 2, 2],
    ],
  );
  t.is(stopped.report.domains[0]!.failed, 2);

  const resumed = await cli(['run', '--resume', runId, '--store', storeDir]);
  t.is(resumed.code, 4, resumed.stderr);
  t.deepEqual(
    (await entries()).map((e) => [e.status, e.attempts, e.attempt_errors.length]),
    [
      ['failed', 4, 4],
      ['failed', 4, 4],
    ],
  );
});

test('an episode its run recorded failed but whose file is there is done on resume, and keeps the attempts it took', async (t) => {
  const dir = await tempDir();
  const storeDir = join(dir, 'store');
  const r = await cli(['run', '--store', storeDir, '--domains', 'hot_pot', '--episodes', '2', '--episode-ms', '0', '--json']);
  t.is(r.code, 0, r.stderr);
  const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
  const store = new Store(storeDir);
  const file = store.manifestPath(runId);
  // As a run whose merge failed after the episode's file was durable records it (an E_COMMIT after three attempts).
  const written = JSON.parse(await readFile(file, 'utf8')) as { status: string; episodes: Record<string, unknown>[] };
  const [failed, ok] = written.episodes as [Record<string, unknown>, Record<string, unknown>];
  const attempt_errors = ['E_EPISODE: 429 Too Many Requests', 'E_EPISODE: 500 Internal Server Error'];
  const { score: _s, reliability: _r, ...rest } = failed;
  await writeFile(file, JSON.stringify({ ...written, status: 'stopped', episodes: [{ ...rest, status: 'failed', error: 'E_COMMIT: disk full', attempts: 3, attempt_errors }, ok] }));

  const resumed = await cli(['run', '--resume', runId, '--store', storeDir, '--json']);
  t.is(resumed.code, 0, resumed.stderr);
  const after = JSON.parse(await readFile(file, 'utf8')) as { status: string; episodes: Record<string, unknown>[] };
  t.is(after.status, 'complete');
  t.like(after.episodes.find((e) => e['episode_id'] === failed['episode_id']), { status: 'ok', attempts: 3, attempt_errors, ms: failed['ms'] });
  t.falsy(after.episodes.find((e) => e['episode_id'] === failed['episode_id'])!['error']);
});

test('a run that stopped with failed episodes names the resume that plays them again, also when every episode was played', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'exp.json');
  // Both in flight at once: the second failure is more than the limit of 1, and stops the run with both played.
  await writeFile(file, JSON.stringify({ name: 'failing', seed: 1, domains: ['failing'], episodes: 2, threads: 1, concurrency: 2, episodeMs: 0, maxFailures: 1, modules: [fixtureFile('failing-domain.mjs')] }));
  const storeDir = join(dir, 'store');
  const r = await cli(['run', file, '--store', storeDir]);
  t.is(r.code, 4, r.stderr);
  t.regex(r.stdout, /: stopped, 2 episodes \(2 failed\)/);
  t.regex(r.stderr, /to finish run \S+: ace-orch run --resume \S+ --store /);
});

test('repair of a resume that was killed keeps the failed episodes it had not played again, with their attempts', async (t) => {
  const { storeDir, runId } = await failedRun(t);
  const path = join(storeDir, 'runs', `${runId}.json`);
  // As a resume killed with -9 right after it started leaves its manifest: running, its process gone.
  const gone = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.once('exit', () => resolve(child.pid!));
  });
  const written = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  await writeFile(path, JSON.stringify({ ...written, status: 'running', pid: gone }));
  const repair = await cli(['repair', '--store', storeDir]);
  t.is(repair.code, 0, repair.stderr);
  type Entry = { status: string; attempts: number };
  const after = JSON.parse(await readFile(path, 'utf8')) as { status: string; episodes: Entry[] };
  t.is(after.status, 'crashed');
  t.deepEqual(after.episodes.map((e) => [e.status, e.attempts]), [['failed', 2], ['failed', 2]]);
});

test('a failed episode played again in a shard process that dies keeps its earlier attempts', async (t) => {
  const module = join(await tempDir(), 'agent.mjs');
  const failing = await readFile(fixtureFile('failing-domain.mjs'), 'utf8');
  await writeFile(module, failing);
  const { storeDir, runId } = await failedRun(t, { processes: 2, modules: [module] });
  // The same agent, now killing the process that plays it: each shard dies in its first episode.
  await writeFile(module, failing.replace("throw new Error('502 Bad Gateway');", "process.kill(process.pid, 'SIGKILL');"));
  const resumed = await cli(['run', '--resume', runId, '--store', storeDir]);
  t.is(resumed.code, 4, resumed.stderr);
  type Entry = { status: string; error: string; attempts: number; attempt_errors: string[] };
  const after = JSON.parse(await readFile(join(storeDir, 'runs', `${runId}.json`), 'utf8')) as { episodes: Entry[] };
  for (const e of after.episodes) {
    t.regex(e.error, /^E_SHARD: /);
    t.is(e.attempts, 3, 'two in the run, one cut short with its shard');
    t.deepEqual(e.attempt_errors, ['E_EPISODE: 502 Bad Gateway', 'E_EPISODE: 502 Bad Gateway']);
  }
});

test('a failed entry of a domain the run does not play is not carried into the resumed run', async (t) => {
  const { storeDir, runId } = await failedRun(t, { episodes: 1, retries: 0 });
  const path = join(storeDir, 'runs', `${runId}.json`);
  const written = JSON.parse(await readFile(path, 'utf8')) as { episodes: Record<string, unknown>[] };
  // A hand-edited (or another tool's) entry: neither this domain nor this index is planned.
  const foreign = { episode_id: `${runId}-hot_pot-0099`, domain: 'hot_pot', index: 99, status: 'failed', error: 'E_EPISODE: elsewhere' };
  await writeFile(path, JSON.stringify({ ...written, episodes: [...written.episodes, foreign] }));
  const resumed = await cli(['run', '--resume', runId, '--store', storeDir, '--json']);
  t.is(resumed.code, 4, resumed.stderr);
  const after = JSON.parse(await readFile(path, 'utf8')) as { episodes: { domain: string }[]; domains: Record<string, { failed: number }> };
  t.deepEqual(after.episodes.map((e) => e.domain), ['failing']);
  t.is(after.domains['failing']!.failed, 1);
});

test('--resume refuses --no-lock and --commit: the write path is the run\'s own, not silently swapped or ignored', async (t) => {
  const { storeDir, runId } = await failedRun(t, { episodes: 1, retries: 0 });
  for (const [flags, named] of [[['--no-lock'], '--no-lock'], [['--commit', 'each'], '--commit'], [['--lock'], '--lock']] as const) {
    const r = await cli(['run', '--resume', runId, '--store', storeDir, ...flags]);
    t.is(r.code, 2, r.stderr);
    t.is(r.stderr, `ace-orch: --resume runs the run's own config; drop ${named}\n`);
  }
  const manifest = JSON.parse(await readFile(join(storeDir, 'runs', `${runId}.json`), 'utf8')) as { resumed_at?: string[] };
  t.is(manifest.resumed_at, undefined, 'no resume began');
});

test('a resume draws its episodes on the run\'s one timeline: its traces count from the run\'s first origin, after the episodes before it', async (t) => {
  const { storeDir, runId } = await failedRun(t);
  type Traced = { trace_origin: string; episodes: { trace?: { start_ms: number; acked_ms: number } }[] };
  const read = async (): Promise<Traced> => JSON.parse(await readFile(join(storeDir, 'runs', `${runId}.json`), 'utf8')) as Traced;
  const first = await read();
  const endedAt = Math.max(...first.episodes.map((e) => e.trace!.acked_ms));
  const resumed = await cli(['run', '--resume', runId, '--store', storeDir]);
  t.is(resumed.code, 4, resumed.stderr);
  const after = await read();
  t.is(after.trace_origin, first.trace_origin);
  for (const e of after.episodes) t.true(e.trace!.start_ms > endedAt, `played again at ${e.trace!.start_ms} ms, after the first invocation's last at ${endedAt} ms`);
});
