import test from 'ava';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { tempDir, writeJson } from './helpers.js';

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
