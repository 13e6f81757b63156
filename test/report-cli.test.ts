/** `ace-orch report` through the CLI: bad sources and outputs, several sources side by side, older manifests. */
import test from 'ava';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { fixtureFile, tempDir, writeJson } from './helpers.js';

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

/** One small real run, shared by the tests of this file. */
const fixture = (async () => {
  const dir = await tempDir('report-cli-');
  const store = join(dir, 'store');
  const r = await cli(['run', '--domains', 'hot_pot,chem_tile', '--episodes', '3', '--threads', '2', '--store', store, '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  await writeFile(join(dir, 'run.json'), r.stdout);
  const [manifest] = await readdir(join(store, 'runs'));
  return { dir, store, runJson: join(dir, 'run.json'), manifest: join(store, 'runs', manifest!) };
})();

/** The bars of the first lost-observations chart in a page. */
function lostBars(html: string): string[] {
  const group = /<g class="mark-rect role-mark lost_marks"[^>]*>(.*?)<\/g>/s.exec(html);
  return group ? [...group[1]!.matchAll(/aria-label="([^"]*)"/g)].map((m) => m[1]!) : [];
}

test('a source that is not a store, manifest or report is bad input naming it; nothing is written', async (t) => {
  const dir = await tempDir();
  const out = join(dir, 'out.html');
  await writeJson(join(dir, 'other.json'), { hello: 'world' });
  await writeFile(join(dir, 'notes.txt'), 'not json');
  await mkdir(join(dir, 'empty'));
  const { store } = await fixture;
  for (const [source, needle] of [
    [join(dir, 'other.json'), 'not a store, run manifest or report'],
    [join(dir, 'notes.txt'), 'not valid JSON'],
    [join(dir, 'empty'), 'not a store'],
    [join(dir, 'missing'), 'no such file or directory'],
  ] as const) {
    // A good source first: the bad one after it still stops the report.
    const r = await cliHere(['report', store, source, '--out', out]);
    assertOneLineError(t, r, source, needle);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.false(await exists(out), 'nothing written');
  }
});

test('an --out that cannot be written is bad input naming it, before anything is read; an existing non-report file is never replaced', async (t) => {
  const dir = await tempDir();
  const { store } = await fixture;
  const keep = join(dir, 'notes.html');
  await writeFile(keep, '<p>my notes</p>');
  for (const [out, needle] of [
    [join(dir, 'no-such-dir', 'r.html'), 'does not exist'],
    [dir, 'is a directory'],
    [keep, 'is not an ace-orch report'],
  ] as const) {
    const r = await cliHere(['report', store, '--out', out]);
    assertOneLineError(t, r, `--out ${out}`, needle);
  }
  t.is(await readFile(keep, 'utf8'), '<p>my notes</p>');
  t.deepEqual((await readdir(dir)).sort(), ['notes.html']);

  // run --report checks its path before running: no store is made.
  const runStore = join(dir, 'store');
  const r = await cliHere(['run', '--episodes', '1', '--store', runStore, '--report', join(dir, 'no-such-dir', 'r.html')]);
  assertOneLineError(t, r, '--report', 'does not exist');
  t.false(await exists(runStore));
});

test('several sources side by side: one bar per domain and source, with each source\'s lost count; a report replaces an older report', async (t) => {
  const { dir, store, runJson, manifest } = await fixture;
  // A second store of the same domains, then one of its playbooks loses an observation.
  const other = join(dir, 'other');
  t.is((await cli(['run', '--domains', 'hot_pot,chem_tile', '--episodes', '3', '--store', other])).code, 0);
  const pbFile = join(other, 'domains', 'hot_pot', 'playbook.json');
  const pb = JSON.parse(await readFile(pbFile, 'utf8'));
  pb.observations.pop();
  await writeFile(pbFile, JSON.stringify(pb));

  const out = join(dir, 'side-by-side.html');
  await writeFile(out, '<!doctype html><meta name="generator" content="ace-orch report">old');
  const r = await cli(['report', store, other, runJson, manifest, '--out', out, '--title', 'Side by side']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /report written to/);
  const html = await readFile(out, 'utf8');
  t.regex(html, /<title>Side by side<\/title>/);
  t.notRegex(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'no script, no link to fetch');
  const bars = lostBars(html);
  t.is(bars.length, 2 * 4, 'two domains × four sources');
  const lostOf = (domain: string, source: string): number => Number(/Lost observations: (\d+)/.exec(bars.find((b) => b.includes(`Domain: ${domain};`) && b.includes(`Source: ${source}`))!)![1]);
  t.is(lostOf('hot_pot', other), 1);
  t.is(lostOf('chem_tile', other), 0);
  t.is(lostOf('hot_pot', store), 0);
  t.regex(html, /<td data-field="lost" class="bad">1<\/td>/);
});

test('a manifest written before episodes carried traces still makes a report, without a timeline', async (t) => {
  const { dir, manifest } = await fixture;
  const m = JSON.parse(await readFile(manifest, 'utf8'));
  delete m.trace_origin;
  for (const e of m.episodes) delete e.trace;
  const old = join(dir, 'old-manifest.json');
  await writeJson(old, m);
  const out = join(dir, 'old.html');
  const r = await cli(['report', old, '--out', out]);
  t.is(r.code, 0, r.stderr);
  const html = await readFile(out, 'utf8');
  t.regex(html, /No timeline: this run recorded no per-episode traces/);
  t.regex(html, /table class="loss"/);
  t.regex(html, /table class="lock"/);
});

test('run --report on a run with a failing episode shows its error code, a red cross on the timeline and the failed count', async (t) => {
  const dir = await tempDir();
  await writeJson(join(dir, 'exp.json'), { name: 'flaky', domains: ['flaky', 'hot_pot'], episodes: 4, threads: 2, seed: 5, modules: [fixtureFile('flaky-domain.mjs')] });
  const out = join(dir, 'flaky.html');
  const r = await cli(['run', join(dir, 'exp.json'), '--store', join(dir, 'store'), '--report', out]);
  t.is(r.code, 4, r.stderr);
  t.regex(r.stderr, /report written to/);
  const html = await readFile(out, 'utf8');
  const failures = /<table class="failures">.*?<tbody>(.*?)<\/tbody>/s.exec(html)![1]!;
  t.is([...failures.matchAll(/<tr>/g)].length, 1, 'one failed episode');
  t.regex(failures, /flaky-0002.*<td class="bad">failed<\/td><td class="text"><code>E_EPISODE<\/code><\/td><td class="text">simulated crash in the flaky domain<\/td>/s);
  // A failed episode owes no file: it is counted as failed, not as a missing file (loss).
  t.regex(html, /<tr data-domain="flaky">.*?<td data-field="missingFiles">0<\/td>.*?<td data-field="failed" class="warn">1<\/td>/s);
  const crosses = /<g class="mark-symbol role-mark failed_marks"[^>]*>(.*?)<\/g>/s.exec(html)![1]!;
  t.is([...crosses.matchAll(/<path/g)].length, 1);
  // The timeline's efficiency is the one the run printed (same percentages, same lanes).
  const printed = /efficiency (\d+)% \(play time .*?\); (\d+)% from the first episode's start/.exec(r.stdout)!;
  const shown = /Efficiency ([\d.]+)% from the first episode(?:'|&#39;)s start, ([\d.]+)% counting the/.exec(html);
  t.truthy(shown, 'the caption leads with the run\'s own figures');
  t.deepEqual([Math.round(Number(shown![2])), Math.round(Number(shown![1]))], [Number(printed[1]), Number(printed[2])]);
});

test('compare A B --report draws A and B per domain', async (t) => {
  const { dir, runJson, manifest } = await fixture;
  const out = join(dir, 'diff.html');
  const r = await cli(['compare', runJson, manifest, '--report', out]);
  t.is(r.code, 0, r.stderr);
  const html = await readFile(out, 'utf8');
  t.regex(html, /<table class="diff">/);
  const bars = lostBars(html);
  t.is(bars.length, 4, 'two domains × A and B');
  t.true(bars.every((b) => /Lost observations: 0/.test(b)));
});

test('a store whose playbook cannot be read shows it as the terminal does: unreadable, why, and the repair that rebuilds it', async (t) => {
  const dir = await tempDir();
  const store = join(dir, 'store');
  t.is((await cli(['run', '--domains', 'hot_pot', '--episodes', '2', '--store', store])).code, 0);
  await writeFile(join(store, 'domains', 'hot_pot', 'playbook.json'), '{torn');
  const out = join(dir, 'r.html');
  const r = await cli(['report', store, '--out', out]);
  t.is(r.code, 0, r.stderr);
  const html = await readFile(out, 'utf8');
  t.regex(html, /data-verdict="loss"/);
  t.regex(html, /<td data-field="playbookObservations" class="bad">unreadable<\/td>/);
  t.regex(html, /hot_pot: playbook cannot be read \(.*playbook\.json: playbook is not valid JSON.*<code>ace-orch repair --rebuild<\/code>/);
  t.regex(html, /hot_pot: its playbook cannot be read, so it is not shown/);
});
