import test from 'ava';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Store } from '../src/store/store.js';
import { cli, cliHere, runAndKill } from './cli-helper.js';
import { fixtureFile, tempDir } from './helpers.js';

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

test('resume keeps the attempts its run made before: each failed episode played again adds to them, in the manifest and the retries line', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'exp.json');
  await writeFile(file, JSON.stringify({ name: 'failing', seed: 1, domains: ['failing'], episodes: 2, threads: 1, episodeMs: 0, retries: 1, retryDelayMs: 1, modules: [fixtureFile('failing-domain.mjs')] }));
  const store = join(dir, 'store');
  const first = await cli(['run', file, '--store', store, '--json']);
  t.is(first.code, 4, first.stderr);
  const runId = (JSON.parse(first.stdout) as { runId: string }).runId;
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
