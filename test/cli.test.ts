import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdir, readFile, rmdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { CLI, fixtureFile, ROOT, tempDir, untilLine, writeJson } from './helpers.js';

test('run prints the loss table and exits 0; --json prints one object', async (t) => {
  const store = await tempDir();
  const r = await cli(['run', 'experiments/validation-30.json', '--episodes', '3', '--store', store]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /\| Domain +\| Episodes Run \| Episode Files \| Playbook Observations \| Lost \| Expected \| Missing Files \| Unexpected \|/);
  t.regex(r.stdout, /\| hot_pot +\| +3 \| +3 \| +3 \| +0 \|/);
  t.regex(r.stdout, /Zero loss/);

  const j = await cli(['run', '--domains', 'switch_light', '--episodes', '2', '--threads', '2', '--store', store, '--json']);
  t.is(j.code, 0, j.stderr);
  const parsed = JSON.parse(j.stdout);
  t.is(j.stdout.trim().split('\n').length, 1);
  t.like(parsed, { store, zeroLoss: true, domains: [{ domain: 'switch_light', episodesRun: 2, episodeFiles: 2, playbookObservations: 2, expected: 2, lost: 0, missingFiles: 0, unexpected: 0 }] });
  t.is(typeof parsed.runId, 'string');
});

test('audit exits 1 and names what was lost when a playbook is missing observations', async (t) => {
  const store = await tempDir();
  t.is((await cli(['run', '--domains', 'hot_pot', '--episodes', '4', '--store', store])).code, 0);
  const file = join(store, 'domains', 'hot_pot', 'playbook.json');
  const pb = JSON.parse(await readFile(file, 'utf8'));
  const dropped = pb.observations.pop().episode_id as string;
  await writeFile(file, JSON.stringify(pb));
  const r = await cli(['audit', '--store', store]);
  t.is(r.code, 1);
  t.regex(r.stdout, /\| hot_pot +\| +4 \| +4 \| +3 \| +1 \|/);
  t.true(r.stdout.includes(dropped));
  const j = await cli(['audit', '--store', store, '--json']);
  t.is(j.code, 1);
  t.like(JSON.parse(j.stdout), { zeroLoss: false, domains: [{ domain: 'hot_pot', lost: 1, lostIds: [dropped] }] });
});

test('bad flags and bad experiment files exit 2 with a one-line message naming them', async (t) => {
  const dir = await tempDir();
  const listeners = (): number[] => [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
  const before = listeners();
  // Two through the executable's own process (its exit code and stderr); the rest through the same entry point here.
  assertOneLineError(t, await cli(['run', '--episodes', '-3', '--store', dir]), '--episodes', '-3');
  assertOneLineError(t, await cliHere(['run', '--threads', '1.5', '--store', dir]), '--threads');
  assertOneLineError(t, await cliHere(['run', '--domains', 'hot_pot,nope', '--store', dir]), '--domains', 'nope');
  assertOneLineError(t, await cliHere(['run', join(dir, 'missing.json'), '--store', dir]), 'missing.json', 'does not exist');
  await writeJson(join(dir, 'notjson.json'), '{ episodes: ');
  assertOneLineError(t, await cliHere(['run', join(dir, 'notjson.json'), '--store', dir]), 'notjson.json', 'not valid JSON');
  await writeJson(join(dir, 'neg.json'), { episodes: 2.5 });
  assertOneLineError(t, await cliHere(['run', join(dir, 'neg.json'), '--store', dir]), 'neg.json', '`episodes`', '2.5');
  assertOneLineError(t, await cliHere(['run', '--bogus']), 'bogus');
  assertOneLineError(t, await cli([]), 'command');
  assertOneLineError(t, await cliHere(['audit', '--store', join(dir, 'nowhere')]), join(dir, 'nowhere'));
  assertOneLineError(t, await cliHere(['audit', '--store', dir]), dir, 'no domains');
  // A flag before the command, whose value is another command's name: the command is audit, the store `run`.
  assertOneLineError(t, await cliHere(['--store', 'run', 'audit']), join(ROOT, 'run'), 'does not exist');
  // A command's interrupt handlers go with it: none is left on this process.
  t.deepEqual(listeners(), before);
});

test('a corrupt playbook stops run with exit 2; audit marks its row (exit 1); it is left byte-for-byte', async (t) => {
  const store = await tempDir();
  const file = join(store, 'domains', 'hot_pot', 'playbook.json');
  const corrupt = '{"observations": [{"episode_id": "a", "score": "high", "reliability": "HIGH"}], "strategies_and_rules": [], "troubleshooting": [], "context_patterns": []}';
  await writeJson(file, corrupt);
  assertOneLineError(t, await cli(['run', '--episodes', '2', '--store', store]), file, 'score');
  const audited = await cliHere(['audit', '--store', store]);
  t.is(audited.code, 1, audited.stderr);
  t.true(audited.stdout.includes(file), audited.stdout);
  t.is(await readFile(file, 'utf8'), corrupt);
});

test('SIGINT stops scheduling, tells in-flight episodes to stop, and records the run', async (t) => {
  const store = await tempDir();
  // Interrupted once the run reports its first 10% acknowledged (--progress lines), with many still to come.
  const r = await cli(['run', '--episodes', '50', '--threads', '2', '--episode-ms', '100', '--store', store, '--json', '--progress', 'lines'], (child) => {
    void untilLine(child.stderr!, (line) => / [1-9]\d*\/150 done/.test(line)).then(() => child.kill('SIGINT'));
  });
  t.is(r.code, 130, r.stderr);
  t.regex(r.stderr, /stopping \(SIGINT received\): no new episodes; episodes in flight are told to stop \(their ctx\.signal\); those that finish are written; a second Ctrl-C leaves at once/);
  const out = JSON.parse(r.stdout);
  t.is(out.status, 'interrupted');
  t.true(r.stderr.includes(`to finish run ${out.runId}: ace-orch run --resume ${out.runId} --store ${store}`), r.stderr);
  t.true(out.zeroLoss);
  const audit = await cliHere(['audit', '--store', store]);
  t.is(audit.code, 0, audit.stdout);
});

test('--help explains every flag', async (t) => {
  const r = await cli(['run', '--help']);
  t.is(r.code, 0);
  for (const flag of ['--domains', '--episodes', '--threads', '--store', '--cap', '--seed', '--episode-ms', '--json']) t.true(r.stdout.includes(flag), flag);
});

test('--version prints the package version', async (t) => {
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const r = await cli(['--version']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), version);
});

test('a reader that closes stdout early (| head) does not crash the run: exit 0, no EPIPE, the store complete', async (t) => {
  const dir = await tempDir();
  const store = join(dir, 'store');
  const child = spawn(process.execPath, [...CLI, 'run', '--domains', 'hot_pot,chem_tile', '--episodes', '3', '--store', store], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // Like `head -1`: read the first chunk, then close the pipe while the run still has lines to print.
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.is(code, 0, stderr);
  t.false(stderr.includes('EPIPE'), stderr);
  const audit = await cliHere(['audit', '--store', store, '--json']);
  t.is(audit.code, 0, audit.stderr);
});

test('a run stopped by a lock timeout prints its table and names the episodes that failed after writing their files; repair merges them', async (t) => {
  const store = await tempDir();
  // Another writer's lock, refreshed an hour from now as far as its mtime says, so never stale while this
  // test runs however slow the machine: every merge of this run times out after 500 ms.
  const lockDir = join(store, 'domains', 'hot_pot', 'playbook.json.lock');
  await mkdir(lockDir, { recursive: true });
  const later = new Date(Date.now() + 3_600_000);
  await utimes(lockDir, later, later);
  const r = await cli(['run', '--domains', 'hot_pot', '--episodes', '2', '--threads', '1', '--lock-timeout', '500', '--store', store]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stdout, /\| hot_pot \|\s+2 \|\s+2 \|\s+no playbook \|\s+2 \|/, 'the table: 2 run, 2 files, no playbook yet, 2 lost');
  t.regex(r.stdout, /hot_pot: 2 episodes failed after writing their episode files \(the merge did not complete\); `ace-orch repair --store /);
  t.notRegex(r.stdout, /they wrote nothing/);
  t.regex(r.stderr, /warning: hot_pot: stats not updated/);
  t.regex(r.stderr.trim().split('\n').at(-1)!, /^ace-orch: could not lock .* within 500 ms/);

  await rmdir(lockDir);
  const repaired = await cli(['repair', '--store', store]);
  t.is(repaired.code, 0, repaired.stderr);
  const after = await cliHere(['audit', '--store', store]);
  t.is(after.code, 0, after.stdout);
  t.regex(after.stdout, /Zero loss/);
  t.regex(after.stdout, /hot_pot: 2 episodes failed after writing their episode files; nothing of theirs is missing now/);
});

test('an experiment file with a misspelt key is refused in one line naming the key and every key accepted, description included', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'typo.json');
  await writeJson(file, { description: 'kept', episdes: 5 });
  const r = await cliHere(['run', file, '--store', join(dir, 'store')]);
  assertOneLineError(t, r, file, 'unknown experiment key `episdes`; expected ', 'episodes', 'description');
});

test('a one-episode run speaks in the singular', async (t) => {
  const r = await cli(['run', '--domains', 'hot_pot', '--episodes', '1', '--store', await tempDir()]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /: complete, 1 episode in [\d.]+ s on 1 thread, /, 'a pool never starts more threads than episodes');
  t.regex(r.stdout, /Zero loss \(run \S+\): the 1 expected observation is in its playbook;/);
  t.regex(r.stdout, /^lock: 1 episode in 1 merge; /m);
});

test('a --store that is a file is refused in one line by run, audit and repair alike, and left as it was', async (t) => {
  const file = join(await tempDir(), 'not-a-store');
  await writeFile(file, 'notes\n');
  for (const command of ['run', 'audit', 'repair']) assertOneLineError(t, await cliHere([command, '--store', file]), `store ${file} `, 'not a directory');
  t.is(await readFile(file, 'utf8'), 'notes\n');
});

test('the progress line counts in flight only the episodes playing, never more than --concurrency, however many wait for their commit', async (t) => {
  const r = await cli(['run', '--domains', 'hot_pot', '--episodes', '300', '--concurrency', '4', '--threads', '2', '--progress', 'lines', '--store', await tempDir()]);
  t.is(r.code, 0, r.stderr);
  const inFlight = [...r.stderr.matchAll(/ done, (\d+) in flight,/g)].map((m) => Number(m[1]));
  t.true(inFlight.length >= 10, r.stderr);
  t.true(inFlight.every((n) => n <= 4), `in flight: ${inFlight.join(', ')}`);
  t.is(inFlight.at(-1), 0, 'none at the end');
});

test('an unlocked run says it took no lock; under --max-failures the failure is said before the stop it causes', async (t) => {
  // One thread: the unlocked path loses only when writers race, and this checks its summary, not its loss.
  const unlocked = await cli(['run', '--no-lock', '--domains', 'hot_pot', '--episodes', '2', '--threads', '1', '--store', await tempDir()]);
  t.is(unlocked.code, 0, unlocked.stderr);
  t.regex(unlocked.stdout, /^lock: none \(the unlocked mode overwrites the playbook without one\)$/m);

  const dir = await tempDir();
  await writeJson(join(dir, 'flaky.json'), { name: 'flaky', domains: ['flaky'], episodes: 6, threads: 1, maxFailures: 0, modules: [fixtureFile('flaky-domain.mjs')] });
  const stopped = await cli(['run', join(dir, 'flaky.json'), '--store', join(dir, 'store')]);
  t.is(stopped.code, 4, stopped.stderr);
  const failedAt = stopped.stderr.indexOf('episode flaky #2 failed');
  const stopAt = stopped.stderr.indexOf('stopping (more than 0 episodes failed (--max-failures)): no new episodes; letting in-flight episodes finish their writes');
  t.true(failedAt >= 0 && stopAt > failedAt, stopped.stderr);
});

test('a run whose every episode failed says so in its header and does not read as a checked pass', async (t) => {
  const dir = await tempDir();
  await writeJson(join(dir, 'refused.json'), { name: 'refused', domains: ['refused'], episodes: 3, threads: 1, modules: [fixtureFile('refused-domain.mjs')] });
  const r = await cli(['run', join(dir, 'refused.json'), '--store', join(dir, 'store')]);
  t.is(r.code, 4, r.stderr);
  t.regex(r.stdout, /: complete, 3 episodes \(3 failed\) in /);
  t.regex(r.stdout, /^Zero loss \(run \S+\), with nothing to check: all 3 episodes failed, so no observation was expected\.$/m);
  t.notRegex(r.stdout, /every episode run has its file/);
});

test('the audit of a run that has not finished claims zero loss only for what it has written so far', async (t) => {
  const store = await tempDir();
  const r = await cli(['run', '--domains', 'hot_pot', '--episodes', '2', '--store', store, '--json']);
  t.is(r.code, 0, r.stderr);
  const runId = JSON.parse(r.stdout).runId as string;
  const file = join(store, 'runs', `${runId}.json`);
  const { episodes: _episodes, audit: _audit, ...manifest } = JSON.parse(await readFile(file, 'utf8'));
  await writeFile(file, JSON.stringify({ ...manifest, status: 'running' }));
  const audit = await cliHere(['audit', '--store', store, '--run', runId]);
  t.is(audit.code, 0, audit.stderr);
  t.regex(audit.stdout, new RegExp(`^Zero loss so far \\(run ${runId}\\): all 2 expected observations are in their playbooks; the run has not finished`, 'm'));
  t.notRegex(audit.stdout, /every episode run has its file/);
});

test('a shard process that dies stops the run: its in-flight episode failed (E_SHARD), the rest is counted unplayed, and --resume is named', async (t) => {
  const dir = await tempDir();
  const store = join(dir, 'store');
  const file = join(dir, 'exp.json');
  // Each domain dealt over the 2 processes, exit_first's starting at the second: shard 0 plays hot_pot 0 and 2 and
  // exit_first 1, shard 1 starts with exit_first 0, which kills its process before hot_pot 1 and exit_first 2.
  await writeJson(file, { name: 'shard-dies', seed: 1, domains: ['hot_pot', 'exit_first'], episodes: 3, threads: 1, processes: 2, episodeMs: 0, modules: [join(ROOT, 'test/fixtures/exit-first-domain.mjs')] });
  const r = await cli(['run', file, '--store', store, '--json']);
  t.is(r.code, 4, r.stderr);
  const out = JSON.parse(r.stdout) as { runId: string; zeroLoss: boolean };
  t.true(out.zeroLoss, 'nothing acknowledged was lost');
  t.regex(r.stderr, /shard process 1 \(pid \d+\) exited with SIGKILL/);
  t.regex(r.stderr, new RegExp(`to finish run ${out.runId}: ace-orch run --resume ${out.runId}`));
  const manifest = JSON.parse(await readFile(join(store, 'runs', `${out.runId}.json`), 'utf8')) as { status: string; stop_reason?: string; episodes: { domain: string; index: number; status: string; error?: string }[] };
  t.is(manifest.status, 'stopped');
  t.regex(manifest.stop_reason!, /shard process 1/);
  const probes = manifest.episodes.filter((e) => e.domain === 'exit_first');
  t.deepEqual(probes.map((e) => [e.index, e.status]), [[0, 'failed'], [1, 'ok']], 'the one in flight, and the other shard\'s; the one never started is not in the manifest');
  t.regex(probes[0]!.error!, /^E_SHARD: in flight when shard process 1/);
  t.deepEqual(manifest.episodes.filter((e) => e.domain === 'hot_pot').map((e) => [e.index, e.status]), [[0, 'ok'], [2, 'ok']]);
});
