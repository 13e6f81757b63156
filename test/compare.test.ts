import test from 'ava';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffReports, parseSavedReport, regressed, spread } from '../src/core/compare.js';
import type { ModeComparison } from '../src/core/compare.js';
import { formatModeComparison } from '../src/cli/format-compare.js';
import { BadInputError } from '../src/core/errors.js';
import { executeCompare } from '../src/cli/commands/compare.js';
import type { Io } from '../src/cli/commands/io.js';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { fixtureFile, overlapDomainModule, tempDir, writeJson } from './helpers.js';

const d = (domain: string, lost: number, missingFiles = 0, unexpected = 0) => ({ domain, lost, missingFiles, unexpected });

test('spread gives min, median and max', (t) => {
  t.deepEqual(spread([5, 3, 4]), { min: 3, median: 4, max: 5 });
  t.deepEqual(spread([6, 3, 4, 5]), { min: 3, median: 4.5, max: 6 });
});

test('two saved reports diff per domain, and a worse B is a regression', (t) => {
  const before = parseSavedReport({ run_id: 'r-before', audit: { domains: [d('hot_pot', 4), d('chem_tile', 6, 1), d('old', 1)] } }, 'a.json');
  const after = parseSavedReport({ runId: 'r-after', domains: [d('hot_pot', 0), d('chem_tile', 6, 0, 2), d('new', 0)] }, 'b.json');
  t.is(before.label, 'r-before');
  const rows = diffReports(before, after);
  t.deepEqual(rows.find((r) => r.domain === 'hot_pot'), { domain: 'hot_pot', lost: [4, 0, -4], missingFiles: [0, 0, 0], unexpected: [0, 0, 0] });
  t.deepEqual(rows.find((r) => r.domain === 'chem_tile'), { domain: 'chem_tile', lost: [6, 6, 0], missingFiles: [1, 0, -1], unexpected: [0, 2, 2] });
  t.deepEqual(rows.find((r) => r.domain === 'old')!.lost, [1, null, -1]);
  t.deepEqual(rows.find((r) => r.domain === 'new')!.lost, [null, 0, 0]);
  t.false(regressed(rows));
  t.true(regressed(diffReports(after, before)));
});

test('a file that is not a report is bad input naming the file', (t) => {
  t.throws(() => parseSavedReport({ name: 'x', domains: ['hot_pot'] }, 'exp.json'), { instanceOf: BadInputError, message: /exp\.json/ });
  t.throws(() => parseSavedReport([1], 'list.json'), { instanceOf: BadInputError, message: /list\.json/ });
});

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), progress: () => {} };
}

test('compare runs each mode on a fresh store and reports both as one JSON object', async (t) => {
  const dir = await tempDir();
  const base = join(dir, 'stores');
  // 6 episodes in flight at once (2 processes × 3 threads), all reading the playbook before any writes.
  const experiment = join(dir, 'exp.json');
  await writeJson(experiment, { name: 'overlap', domains: ['overlap'], episodes: 6, threads: 3, processes: 2, episodeMs: 0, seed: 4, modules: [fileURLToPath(await overlapDomainModule(dir, 6))] });
  // Through the CLI, as a user runs it.
  const args = ['compare', experiment, '--modes', 'unlocked,locked', '--repeat', '2', '--store', base, '--json'];
  const r = await cli(args);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.deepEqual(Object.keys(out.modes), ['unlocked', 'locked']);
  t.is(out.modes.locked.runs.length, 2);
  for (const run of out.modes.locked.runs) {
    t.true(run.zeroLoss);
    for (const dom of run.domains) t.like(dom, { episodesRun: 6, episodeFiles: 6, playbookObservations: 6, lost: 0, missingFiles: 0, unexpected: 0 });
  }
  // Unlocked, every episode wrote back the empty playbook it read plus its own observation: one survives.
  const unlockedLost = out.modes.unlocked.runs.flatMap((r: { domains: { lost: number }[] }) => r.domains.map((x) => x.lost));
  t.deepEqual(unlockedLost, [5, 5]);
  // A second compare into the same directory refuses to reuse its stores.
  assertOneLineError(t, await cliHere(args), base, 'not empty');
});

test('compare refuses a later repeat\'s store that is not empty before the first run: one line, exit 2, nothing created', async (t) => {
  const base = join(await tempDir(), 'stores');
  await mkdir(join(base, 'locked-2'), { recursive: true });
  await writeFile(join(base, 'locked-2', 'keep.txt'), 'a user\'s file');
  const r = await cliHere(['compare', '--store', base, '--repeat', '2', '--domains', 'hot_pot', '--episodes', '1']);
  assertOneLineError(t, r, join(base, 'locked-2'), 'not empty');
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.deepEqual(await readdir(base), ['locked-2'], 'no store made for repeat 1');
  t.deepEqual(await readdir(join(base, 'locked-2')), ['keep.txt']);
});

test('compare A.json B.json exits 1 when B lost more', async (t) => {
  const dir = await tempDir();
  await writeJson(`${dir}/a.json`, { runId: 'a', domains: [d('hot_pot', 0)] });
  await writeJson(`${dir}/b.json`, { runId: 'b', domains: [d('hot_pot', 3)] });
  const base = { modes: 'unlocked,locked', repeat: 1, json: false };
  const io = capture();
  t.is(await executeCompare({ ...base, files: [`${dir}/a.json`, `${dir}/b.json`] }, io), 1);
  t.regex(io.stdout.join('\n'), /\| hot_pot +\| +0 \| +3 \| +\+3 \|/);
  t.is(await executeCompare({ ...base, files: [`${dir}/b.json`, `${dir}/a.json`] }, capture()), 0);
});

test('a report without a run id is named by its file once; the mode table says what unlocked is for and what the exit code means', async (t) => {
  const dir = await tempDir();
  await writeJson(`${dir}/a.json`, { domains: [d('hot_pot', 0)] });
  await writeJson(`${dir}/b.json`, { runId: 'b', domains: [d('hot_pot', 0)] });
  const io = capture();
  t.is(await executeCompare({ modes: 'unlocked,locked', repeat: 1, json: false, files: [`${dir}/a.json`, `${dir}/b.json`] }, io), 0);
  const out = io.stdout.join('\n');
  t.true(out.includes(`A: ${dir}/a.json\n`), out);
  t.true(out.includes(`B: ${dir}/b.json (b)`), out);
  const modes = formatModeComparison({ modes: { unlocked: { runs: [] }, locked: { runs: [] } } } as unknown as ModeComparison, []);
  t.regex(modes, /unlocked is the pre-fix read-modify-write without a lock: it is expected to lose observations\./);
  t.regex(modes, /Exit 0 when every locked run lost nothing, 1 when one lost something\./);
});

test('compare shows failed episodes beside the files they did not write, in the table and in --json', async (t) => {
  const dir = await tempDir();
  await writeJson(join(dir, 'flaky.json'), { name: 'flaky', domains: ['flaky'], episodes: 4, threads: 1, modules: [fixtureFile('flaky-domain.mjs')] });
  const table = await cli(['compare', join(dir, 'flaky.json'), '--modes', 'locked', '--store', join(dir, 'table')]);
  t.is(table.code, 0, table.stderr);
  t.regex(table.stdout, /\| Domain \| Episodes Run \| locked Episode Files \| locked Playbook Observations \| locked Lost \| locked Failed \|/);
  t.regex(table.stdout, /\| flaky +\| +4 \| +3 \| +3 \| +0 \| +1 \|/);
  const json = await cli(['compare', join(dir, 'flaky.json'), '--modes', 'locked', '--json', '--store', join(dir, 'json')]);
  t.is(json.code, 0, json.stderr);
  t.like(JSON.parse(json.stdout).modes.locked.runs[0].domains[0], { domain: 'flaky', episodeFiles: 3, lost: 0, failed: 1 });
});

test('a mode the compare never ran (interrupted before it) has blank cells and says so, not 0 lost', (t) => {
  const run = { zeroLoss: false, domains: [{ domain: 'hot_pot', episodesRun: 8, episodeFiles: 8, playbookObservations: 4, lost: 4, missingFiles: 0, unexpected: 0, failed: 0 }] };
  const out = formatModeComparison({ modes: { unlocked: { runs: [run] }, locked: { runs: [] } } }, ['hot_pot']);
  t.regex(out, /\| hot_pot +\| +8 \| +8 \| +4 \| +4 \| +\| +\| +\|/);
  t.regex(out, /^unlocked: 0 of 1 runs with zero loss; lost per run 4$/m);
  t.regex(out, /^locked: not run \(the compare stopped before it\)$/m);
});

test('compare --modes naming a mode twice is refused before any store is made', async (t) => {
  const dir = await tempDir();
  const store = join(dir, 'stores');
  const r = await cli(['compare', '--modes', 'locked,locked', '--domains', 'hot_pot', '--episodes', '2', '--store', store]);
  t.is(r.code, 2, r.stderr);
  t.is(r.stderr, 'ace-orch: --modes: `locked` is given twice in `locked,locked`; use --repeat N to run a mode N times\n');
  t.deepEqual(await readdir(dir), []);
});

test('compare given one saved result, where it takes an experiment or two results, says which it got', async (t) => {
  const dir = await tempDir();
  await writeJson(`${dir}/a.json`, { runId: 'a', store: '/s', zeroLoss: true, domains: [d('hot_pot', 0)] });
  const r = await cli(['compare', `${dir}/a.json`, '--store', join(dir, 'stores')]);
  t.is(r.code, 2, r.stderr);
  t.is(r.stderr, `ace-orch: ${dir}/a.json: a saved result (the --json of run, audit or compare), not an experiment; to compare two results: ace-orch compare A.json B.json\n`);
  t.deepEqual(await readdir(dir), ['a.json']);
});
