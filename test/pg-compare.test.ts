/** `compare --store postgres://...`: one fresh schema per mode and repeat under the given one; the unlocked mode is refused. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSources } from '../src/report/load.js';
import { openStore } from '../src/store/open.js';
import { sql } from './conformance/backends.js';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { tempDir } from './helpers.js';
import { freshUrl, pgTest, schemasUnder } from './pg-test.js';

pgTest('compare on postgres:// runs the locked mode once per repeat, each in its own fresh schema, and never reuses one', async (t) => {
  const url = await freshUrl(t);
  const schemas = await schemasUnder(t, url);
  const base = new URL(url).searchParams.get('schema')!;
  const dir = await tempDir();
  const page = join(dir, 'compare.html');
  const args = ['compare', '--store', url, '--domains', 'hot_pot,chem_tile', '--episodes', '4', '--threads', '2', '--repeat', '2'];
  const r = await cli([...args, '--json', '--report', page]);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.deepEqual(Object.keys(out.modes), ['locked'], 'locked only by default on PostgreSQL');
  t.is(out.modes.locked.runs.length, 2);
  t.true(out.modes.locked.runs.every((run: { zeroLoss: boolean }) => run.zeroLoss));
  t.is(out.stores, url);
  t.deepEqual(await schemas(), [`${base}_locked_1`, `${base}_locked_2`]);
  for (const s of await schemas()) t.is((await sql(`SELECT 1 FROM "${s}".episodes`)).length, 8, `${s} holds its own run`);
  t.regex(await readFile(page, 'utf8'), /locked/);
  // The base URL reports its compare's stores side by side, as a directory of stores does.
  t.deepEqual((await loadSources([url])).map((s) => s.label), [`${base}_locked_1`, `${base}_locked_2`].map((s) => url.replace(base, s)));

  const again = await cliHere(args);
  assertOneLineError(t, again, `${base}_locked_1`, 'already holds a store');
});

pgTest('compare on postgres:// refuses the unlocked mode and bad URLs in one line, password masked, before creating anything', async (t) => {
  const url = await freshUrl(t);
  const schemas = await schemasUnder(t, url);
  const withPassword = url.replace('://root@', '://root:hunter2@');
  for (const [args, needle] of [
    [['--store', withPassword, '--modes', 'unlocked,locked'], '--modes unlocked'],
    [['--store', 'postgres://root:hunter2@127.0.0.1:1/test'], 'cannot be reached'],
    [['--store', `${withPassword}_${'x'.repeat(60)}`], 'Expected `schema`'],
  ] as const) {
    const r = await cliHere(['compare', ...args, '--domains', 'hot_pot', '--episodes', '1']);
    assertOneLineError(t, r, needle);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.false(r.stderr.includes('hunter2'));
    if (needle !== '--modes unlocked') t.true(r.stderr.includes('postgres://root:***@'), r.stderr);
  }
  t.deepEqual(await schemas(), [], 'no schema created');
});

pgTest('compare on postgres:// refuses a later repeat\'s schema that holds a store before the first run: one line, exit 2, no schema made', async (t) => {
  const url = await freshUrl(t);
  const schemas = await schemasUnder(t, url);
  const base = new URL(url).searchParams.get('schema')!;
  const taken = new URL(url);
  taken.searchParams.set('schema', `${base}_locked_2`);
  const store = await openStore(taken.toString());
  await store.init(['hot_pot']);
  await store.close();
  const r = await cliHere(['compare', '--store', url, '--repeat', '2', '--domains', 'hot_pot', '--episodes', '1']);
  assertOneLineError(t, r, `${base}_locked_2`, 'already holds a store');
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.deepEqual(await schemas(), [`${base}_locked_2`], 'no schema made for repeat 1');
});
