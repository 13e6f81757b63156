import test from 'ava';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { fixtureFile, tempDir, writeJson } from './helpers.js';

/** Every path under `dir`, to show nothing was written. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

for (const [flag, value, needle] of [
  ['--concurrency', '0', '--concurrency'],
  ['--rate', '-1', '--rate'],
  ['--rate', '0.5', '--rate'],
  ['--episode-timeout', 'abc', 'abc'],
  ['--retries', '-2', '--retries'],
  ['--max-failures', 'x', '--max-failures'],
] as const) {
  test(`run ${flag} ${value}: one line, exit 2, nothing written`, async (t) => {
    const store = join(await tempDir(), 'store');
    const r = await cliHere(['run', '--episodes', '1', `${flag}=${value}`, '--store', store]);
    assertOneLineError(t, r, needle);
    t.false(existsSync(store), 'no store created');
  });
}

test('--resume of an unknown run, of a manifest from another store, or with experiment flags: exit 2, nothing written', async (t) => {
  const a = await tempDir();
  const first = await cli(['run', '--domains', 'hot_pot', '--episodes', '1', '--threads', '1', '--store', a, '--json']);
  t.is(first.code, 0, first.stderr);
  const runId = JSON.parse(first.stdout).runId as string;

  const b = await tempDir();
  await mkdir(join(b, 'runs'), { recursive: true });
  const emptyB = await tree(b);
  assertOneLineError(t, await cliHere(['run', '--resume', 'no-such-run', '--store', b]), 'no-such-run', b);
  t.deepEqual(await tree(b), emptyB);

  await copyFile(join(a, 'runs', `${runId}.json`), join(b, 'runs', `${runId}.json`));
  const copied = await tree(b);
  assertOneLineError(t, await cliHere(['run', '--resume', runId, '--store', b]), 'belongs to run', a);
  t.deepEqual(await tree(b), copied);

  const before = await tree(a);
  assertOneLineError(t, await cliHere(['run', '--resume', runId, '--store', a, '--episodes', '5']), '--episodes');
  t.deepEqual(await tree(a), before);
});

test('a domain module whose play is not a function: one line naming the module, exit 2, nothing written', async (t) => {
  const dir = await tempDir();
  await writeJson(join(dir, 'bad.mjs'), "export default { name: 'bad', play: 42, reflect() {} };");
  await writeJson(join(dir, 'exp.json'), { name: 'bad', domains: ['bad'], modules: ['bad.mjs'] });
  const store = join(dir, 'store');
  const r = await cli(['run', join(dir, 'exp.json'), '--store', store]);
  assertOneLineError(t, r, 'bad.mjs', 'play');
  t.false(existsSync(store));
});

test('a play that returns what no playbook may hold fails that episode alone, unretried, writing nothing; what is thrown is said as it was', async (t) => {
  const dir = await tempDir();
  const store = join(dir, 'store');
  await writeJson(join(dir, 'exp.json'), { domains: ['bad_result'], episodes: 10, threads: 2, retries: 2, retryDelayMs: 1, modules: [fixtureFile('bad-result-domain.mjs')] });
  const r = await cli(['run', join(dir, 'exp.json'), '--store', store, '--json']);
  t.is(r.code, 4, r.stderr);
  const result = JSON.parse(r.stdout);
  t.like(result, { zeroLoss: true, domains: [{ domain: 'bad_result', episodeFiles: 2, playbookObservations: 2, failed: 8 }] });
  const manifest = JSON.parse(await readFile(join(store, 'runs', `${result.runId}.json`), 'utf8'));
  const byIndex = new Map<number, { attempts: number; error?: string }>(manifest.episodes.map((e: { index: number }) => [e.index, e]));
  t.regex(byIndex.get(0)!.error!, /^E_BAD_RESULT: domain `bad_result` returned a result that cannot be merged: observations\[0\] \(\S+\) has a `score` that is not a number: "high"$/);
  t.regex(byIndex.get(1)!.error!, /^E_BAD_RESULT: .*`score` 1\.5 is outside 0\.\.1$/);
  t.is(byIndex.get(0)!.attempts, 1, 'not retried: the same code returns the same');
  t.is(byIndex.get(1)!.attempts, 1);
  t.is(byIndex.get(2)!.error, 'E_EPISODE: threw null');
  t.is(byIndex.get(3)!.error, "E_EPISODE: threw { status: 'nope' }");
  t.regex(byIndex.get(4)!.error!, /^E_BAD_RESULT: .*: it is 20\d{5} characters as JSON; an episode's observation and entries may be at most 1048576 \(1 MB/);
  t.is(byIndex.get(4)!.attempts, 1);
  t.regex(byIndex.get(5)!.error!, /^E_BAD_RESULT: .*: play\(\) resolved to null, not an object$/);
  t.regex(byIndex.get(6)!.error!, /^E_BAD_RESULT: .*: `result\.observations\[0\]\.context\.callback` is a function, which JSON cannot hold$/);
  t.is(byIndex.get(6)!.attempts, 1);
  t.is(byIndex.get(7)!.error, 'E_EPISODE: Error with no message');
  // The playbook stays readable: a second run merges into it.
  t.is((await cli(['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store])).code, 0);
  t.is((await cli(['audit', '--store', store])).code, 0);
});

for (const [name, needle] of [
  ['hot_pot', "domain name `hot_pot` is a built-in domain's"],
  ['../evil', "domain name `../evil`: Expected letters, digits, '_' or '-'"],
] as const) {
  test(`a domain module naming its domain ${name} is refused in one line naming the module, exit 2, nothing written`, async (t) => {
    const dir = await tempDir();
    const store = join(dir, 'store');
    await writeJson(join(dir, 'exp.json'), { domains: ['hot_pot'], episodes: 1, modules: [fixtureFile('named-domain.mjs')] });
    const r = await cli(['run', join(dir, 'exp.json'), '--store', store], undefined, { env: { ACE_TEST_DOMAIN_NAME: name } });
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, /^ace-orch: file:\/\/\S+named-domain\.mjs: /);
    t.true(r.stderr.includes(needle), r.stderr);
    t.false(existsSync(store), 'no store created');
  });
}

test('many episodes in retry backoff at once print no listener-leak warning', async (t) => {
  const dir = await tempDir();
  await writeJson(join(dir, 'exp.json'), { domains: ['failing'], episodes: 24, threads: 2, concurrency: 24, retries: 1, retryDelayMs: 300, modules: [fixtureFile('failing-domain.mjs')] });
  const r = await cli(['run', join(dir, 'exp.json'), '--store', join(dir, 'store')]);
  t.is(r.code, 4, r.stderr);
  t.regex(r.stdout, /retries: 24 attempts played again over 24 episodes \(0 then succeeded\)/);
  t.notRegex(r.stderr, /MaxListenersExceededWarning|memory leak/);
});

test("a bad field is named as it was set: an experiment file's field by its key, a flag as the flag", async (t) => {
  const dir = await tempDir();
  await writeJson(join(dir, 'exp.json'), { domains: ['hot_pot'], episodeTimeoutMs: -3 });
  assertOneLineError(t, await cliHere(['run', join(dir, 'exp.json'), '--store', join(dir, 'store')]), 'exp.json: Expected `episodeTimeoutMs` to be a non-negative integer');
  assertOneLineError(t, await cliHere(['run', '--max-failures', '-1', '--store', join(dir, 'store')]), '--max-failures: Expected `max-failures` to be a non-negative integer');
  t.false(existsSync(join(dir, 'store')));
});
