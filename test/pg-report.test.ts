/** `report` and `run --report` on a PostgreSQL store: read through the backend, the same model as the report of its export. */
import test from 'ava';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSources } from '../src/report/load.js';
import type { SourceView } from '../src/report/model.js';
import { openableStoreUrl } from '../src/store/pg/url.js';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { tempDir } from './helpers.js';
import { freshUrl, pgTest, schemasUnder } from './pg-test.js';

/** Where the store is and how the page names it differ by backend; everything else must be equal. */
function modelOf(sources: SourceView[]) {
  return sources.map(({ label: _l, storeDir: _s, loss, ...rest }) => ({ ...rest, loss: loss && { ...loss, scope: undefined } }));
}

pgTest('report of a postgres:// store equals the report of its export; run --report writes a page of a postgres:// run', async (t) => {
  const url = await freshUrl(t);
  const dir = await tempDir();
  const page = join(dir, 'run.html');
  const run = await cli(['run', '--store', url, '--domains', 'hot_pot,chem_tile', '--episodes', '4', '--threads', '2', '--report', page]);
  t.is(run.code, 0, run.stderr);
  t.regex(await readFile(page, 'utf8'), /hot_pot/);

  const copy = join(dir, 'export');
  const exported = await cli(['export', '--store', url, '--to', copy]);
  t.is(exported.code, 0, exported.stderr);
  const [fromPg, fromFiles] = [await loadSources([url]), await loadSources([copy])];
  t.is(fromPg[0]!.label, url, 'named by its URL');
  t.is(fromPg[0]!.playbooks.length, 2);
  t.is(fromPg[0]!.runs[0]!.episodes.length, 8);
  t.deepEqual(modelOf(fromPg), modelOf(fromFiles));

  // The --json output of a run on it brings the run's manifest and the store's playbooks, as a store directory's does.
  const runJson = join(dir, 'run.json');
  const again = await cli(['run', '--store', url, '--domains', 'hot_pot', '--episodes', '2', '--threads', '1', '--json']);
  t.is(again.code, 0, again.stderr);
  await writeFile(runJson, again.stdout);
  const [fromJson] = await loadSources([runJson]);
  t.is(fromJson!.playbooks.length, 1);
  t.is(fromJson!.runs[0]!.episodes.length, 2, 'the manifest, read from the store');

  const out = join(dir, 'store.html');
  const r = await cli(['report', url, '--out', out]);
  t.is(r.code, 0, r.stderr);
  t.true((await stat(out)).size > 0);
});

pgTest('report of a postgres:// store that cannot be opened is one line naming the URL, password masked, nothing written', async (t) => {
  const dir = await tempDir();
  const url = await freshUrl(t);
  for (const [source, needle] of [
    ['postgres://root:hunter2@127.0.0.1:1/test', 'cannot be reached'],
    [url.replace('://root@', '://root:hunter2@'), 'has no ace-orch tables'],
  ] as const) {
    const r = await cliHere(['report', source, '--out', join(dir, 'out.html')]);
    assertOneLineError(t, r, 'postgres://root:***@', needle);
    t.false(r.stderr.includes('hunter2'));
  }
  t.deepEqual(await readdir(dir), [], 'nothing written');
});

test('a store URL saved with its password masked is not opened; other store values are', (t) => {
  t.is(openableStoreUrl('postgres://root:***@127.0.0.1:5432/test?schema=ace'), undefined);
  t.is(openableStoreUrl('postgresql://root:***@db/test'), undefined);
  t.is(openableStoreUrl('postgres://root@db/test?password=***&schema=ace'), undefined);
  for (const value of ['postgres://root@127.0.0.1:5432/test', 'postgres://root:hunter2@127.0.0.1:5432/test', '/tmp/a:***@b', undefined]) t.is(openableStoreUrl(value), value);
});

pgTest('report of saved run and compare --json naming a store with a masked password gives the output alone, never trying the password `***`', async (t) => {
  const url = await freshUrl(t);
  await schemasUnder(t, url);
  // The server trusts local connections, so a client trying `***` would get in and read the stores.
  const withPassword = url.replace('://root@', '://root:hunter2@');
  const dir = await tempDir();
  const saved = async (name: string, args: string[]): Promise<{ file: string; text: string }> => {
    const r = await cli([...args, '--store', withPassword, '--domains', 'hot_pot', '--episodes', '2', '--threads', '1', '--json']);
    t.is(r.code, 0, r.stderr);
    t.true(r.stdout.includes('postgres://root:***@'), r.stdout);
    await writeFile(join(dir, name), r.stdout);
    return { file: join(dir, name), text: r.stdout };
  };
  const unmasked = async (name: string, text: string): Promise<SourceView> => {
    await writeFile(join(dir, name), text.replaceAll('root:***@', 'root@'));
    return (await loadSources([join(dir, name)]))[0]!;
  };

  const run = await saved('run.json', ['run']);
  const [fromRun] = await loadSources([run.file]);
  t.is(fromRun!.playbooks.length, 0, 'the run\'s output alone, without the store\'s playbooks');
  const runControl = await unmasked('run-open.json', run.text);
  t.is(runControl.playbooks.length, 1, 'the same output naming an openable store brings its playbook');

  const compare = await saved('compare.json', ['compare']);
  const [fromCompare] = await loadSources([compare.file]);
  t.is(fromCompare!.runs.length, 0, 'comparison alone');
  t.is(fromCompare!.storeDir, JSON.parse(compare.text).stores, 'named as saved, password masked');
  const compareControl = await unmasked('compare-open.json', compare.text);
  t.is(compareControl.runs.length, 1, 'the same output naming openable stores brings their runs');
});
