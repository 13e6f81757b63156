/**
 * Reports made from a real run and a real comparison, opened in a real
 * browser: no console errors, nothing fetched, every chart drawn with one
 * mark per datum, and the numbers on the page equal to the --json output.
 */
import test from 'ava';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { cli } from './cli-helper.js';
import { closeChromium, openInChromium } from './fixtures/browser.js';
import { tempDir } from './helpers.js';
import type { RunManifest } from '../src/core/types.js';

const FIELDS = ['episodesRun', 'episodeFiles', 'playbookObservations', 'lost', 'expected', 'missingFiles', 'unexpected'] as const;

/** The loss table as shown: domain -> field -> cell text. */
async function lossCells(page: Page, scope: string): Promise<Record<string, Record<string, string>>> {
  return page.$$eval(`${scope} table.loss tbody tr`, (rows) =>
    Object.fromEntries(rows.map((r) => [r.getAttribute('data-domain')!, Object.fromEntries([...r.querySelectorAll('td[data-field]')].map((td) => [td.getAttribute('data-field')!, td.textContent!.trim()]))])),
  );
}

const count = (page: Page, selector: string): Promise<number> => page.locator(selector).count();

test.after.always(closeChromium);

test('a report of a real run shows the --json numbers, one timeline bar per episode, lock ticks per merge, and the playbooks', async (t) => {
  const dir = await tempDir('report-run-');
  const store = join(dir, 'store');
  const html = join(dir, 'run.html');
  const r = await cli(['run', '--domains', 'hot_pot,switch_light', '--episodes', '4', '--threads', '2', '--episode-ms', '10', '--store', store, '--json', '--report', html]);
  t.is(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  const [manifestFile] = await readdir(join(store, 'runs'));
  const manifest = JSON.parse(await readFile(join(store, 'runs', manifestFile!), 'utf8')) as RunManifest;
  t.is(manifest.episodes!.length, 8);
  t.true(manifest.episodes!.every((e) => e.trace && e.trace.start_ms <= e.trace.played_ms! && e.trace.played_ms! <= e.trace.acked_ms), 'every episode traced in order');

  const { page, errors, requests, close } = await openInChromium(html);
  try {
    t.deepEqual(errors, []);
    t.deepEqual(requests, [], 'the page fetches nothing');
    const cells = await lossCells(page, 'body');
    for (const d of json.domains) for (const f of FIELDS) t.is(cells[d.domain]![f], String(d[f]), `${d.domain} ${f}`);
    t.is(await count(page, '[data-verdict="zero-loss"]'), 1);

    t.is(await count(page, 'figure.timeline g.play_marks > path'), 8, 'one play bar per episode');
    t.is(await count(page, 'figure.timeline g.commit_marks > path'), 8, 'one commit bar per episode');
    t.is(await page.getAttribute('figure.timeline', 'data-lanes'), '2');
    const efficiency = Number(await page.getAttribute('figure.timeline', 'data-efficiency'));
    t.true(efficiency > 0 && efficiency <= 1, `efficiency ${efficiency}`);
    t.is(await count(page, 'figure.lock g.lock_marks > path'), 16, 'a wait and a hold tick per merged episode');
    const lockRows = await page.$$eval('table.lock tbody tr', (rows) => rows.map((r) => [r.getAttribute('data-domain'), r.children[1]!.textContent]));
    t.deepEqual(Object.fromEntries(lockRows), Object.fromEntries(Object.entries(json.contention).map(([d, s]) => [d, String((s as { count: number }).count)])));

    for (const d of ['hot_pot', 'switch_light']) {
      const playbook = JSON.parse(await readFile(join(store, 'domains', d, 'playbook.json'), 'utf8'));
      t.is(await count(page, `section.playbook[data-domain="${d}"] table.observations tbody tr`), playbook.observations.length);
      const firstId = await page.textContent(`section.playbook[data-domain="${d}"] table.observations tbody tr td.id`);
      t.is(firstId, playbook.observations[0].episode_id);
    }
    const shot = join(dir, 'run-report.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.true((await stat(shot)).size > 10_000);

    // On paper (A4 at 96 dpi): nothing wider than the page, and it prints.
    await page.setViewportSize({ width: 794, height: 1123 });
    await page.emulateMedia({ media: 'print' });
    // The test compiles without DOM types: the page's own globals, by name.
    t.true(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no horizontal overflow in print');
    const pdf = join(dir, 'run-report.pdf');
    await page.pdf({ path: pdf, format: 'A4' });
    t.true((await stat(pdf)).size > 10_000);
  } finally {
    await close();
  }
});

test('a report of a real comparison draws one bar per domain and mode with the --json counts, and a timeline per run with a lane per process and thread', async (t) => {
  const dir = await tempDir('report-compare-');
  const html = join(dir, 'compare.html');
  const r = await cli(['compare', '--domains', 'hot_pot,chem_tile', '--episodes', '4', '--processes', '2', '--threads', '2', '--episode-ms', '20', '--store', join(dir, 'stores'), '--json', '--report', html]);
  t.is(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { modes: Record<string, { runs: { domains: Record<string, number | string>[] }[] }> };

  const { page, errors, requests, close } = await openInChromium(html);
  try {
    t.deepEqual(errors, []);
    t.deepEqual(requests, []);
    t.is(await count(page, 'figure.lost-chart g.lost_marks > path'), 4, 'one bar per domain × mode');
    // Each bar's accessible label carries its domain, mode and height: they must be the JSON's.
    const labels = await page.$$eval('figure.lost-chart g.lost_marks > path', (ps) => ps.map((p) => p.getAttribute('aria-label')!));
    const shown = Object.fromEntries(labels.map((l) => [`${/Domain: (\w+)/.exec(l)![1]}/${/Mode: (\w+)/.exec(l)![1]}`, Number(/Lost observations: (\d+)/.exec(l)![1])]));
    const expected: Record<string, number> = {};
    for (const [mode, { runs }] of Object.entries(json.modes)) for (const d of runs[0]!.domains) expected[`${d['domain']}/${mode}`] = d['lost'] as number;
    t.deepEqual(shown, expected);
    for (const [mode, { runs }] of Object.entries(json.modes)) {
      for (const d of runs[0]!.domains) {
        for (const f of ['episodeFiles', 'playbookObservations', 'lost']) {
          t.is(await page.textContent(`table.modes tr[data-domain="${d['domain']}"] td[data-mode="${mode}"][data-field="${f}"]`), String(d[f]));
        }
      }
    }
    t.is(await count(page, 'figure.timeline'), 2, 'a timeline per run');
    for (const n of await page.$$eval('figure.timeline', (fs) => fs.map((f) => f.querySelectorAll('g.play_marks > path').length))) t.is(n, 8);
    // Two shard processes: their episodes sit on lanes of two pids, stamped on one wall clock.
    const lanes = await page.$$eval('figure.timeline g.play_marks > path', (ps) => ps.map((p) => /lane: pid (\d+)/.exec(p.getAttribute('aria-label')!)![1]));
    t.is(new Set(lanes).size, 4, 'two pids per run, two runs');
    await page.screenshot({ path: join(dir, 'compare-report.png'), fullPage: true });
  } finally {
    await close();
  }
});
