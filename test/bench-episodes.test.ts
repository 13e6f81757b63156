/** `bench --whole-episodes`: whole runs beside the durable-file floor, each audited; refused beside another benchmark. */
import test from 'ava';
import { runEpisodeRows } from '../src/bench/episodes.js';
import { assertOneLineError, cliHere } from './cli-helper.js';
import { tempDir } from './helpers.js';

test('the whole-episode rows run real audited runs and rate each against the one-by-one floor', async (t) => {
  const progress: string[] = [];
  const rows = await runEpisodeRows(await tempDir(), (line) => progress.push(line), { files: 10, episodes: 20 });
  t.is(rows[0]!.label, 'durable files one by one, 1 thread (floor)');
  t.is(rows[0]!.vsOneByOne, null);
  t.true(rows.some((r) => r.label === 'whole episodes, batched, 2 threads'));
  for (const r of rows) {
    t.true(Number.isFinite(r.perSec) && r.perSec > 0, `${r.label}: ${r.perSec}/s`);
    t.is(r.lost, 0, r.label);
  }
  for (const r of rows.slice(1)) t.is(r.vsOneByOne, Math.round((r.perSec / rows[0]!.perSec) * 100) / 100, r.label);
  t.is(progress.length, rows.length - 1, 'one progress line per run, the two file rows together');
});

test('bench --whole-episodes beside --matrix or --pg is refused in one line', async (t) => {
  assertOneLineError(t, await cliHere(['bench', '--whole-episodes', '--matrix']), '--matrix and --whole-episodes');
  assertOneLineError(t, await cliHere(['bench', '--pg', 'postgres://x@127.0.0.1/y', '--whole-episodes']), '--whole-episodes and --pg');
});
