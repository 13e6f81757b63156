/** The report's pure parts on literal data: timeline arithmetic, failures, chart rows, source shapes, highlighting. */
import test from 'ava';
import { BadInputError } from '../src/core/errors.js';
import { classify } from '../src/report/classify.js';
import { failureRows, modeBars, sourceBars } from '../src/report/derive.js';
import { lossSection, modesSection } from '../src/report/loss-sections.js';
import { runSection } from '../src/report/run-section.js';
import type { RunView, SourceView } from '../src/report/model.js';
import { timelineOf, unionLength } from '../src/report/timeline.js';
import type { DomainAudit, EpisodeEntry } from '../src/core/types.js';

const entry = (id: string, extra: Partial<EpisodeEntry> = {}): EpisodeEntry => ({ episode_id: id, domain: 'hot_pot', index: 0, status: 'ok', ...extra });
const run = (episodes: EpisodeEntry[], threads = 2): RunView => ({
  runId: 'r1',
  contention: {},
  episodes,
  config: { name: 'x', domains: ['hot_pot'], episodes: 3, threads, processes: 1, episodeMs: 0, cap: 10, seed: 1 },
});
const row = (domain: string, lost: number, extra: Partial<DomainAudit> = {}): DomainAudit => ({
  domain,
  episodesRun: 4,
  episodeFiles: 4,
  playbookObservations: 4 - lost,
  expected: 4,
  lost,
  missingFiles: 0,
  unexpected: 0,
  lostIds: [],
  missingIds: [],
  unexpectedIds: [],
  failed: 0,
  failedIds: [],
  unreadableFiles: 0,
  findings: [],
  playbookError: null,
  noPlaybook: false,
  sections: { duplicates: 0, duplicateEntries: [], lost: 0, lostEntries: [], lostExact: 0 },
  ...extra,
});

test('the timeline puts episodes on process/thread lanes and measures efficiency from the first start to the last acknowledgement', (t) => {
  const tl = timelineOf(
    run([
      entry('b', { trace: { pid: 7, thread: 2, start_ms: 100, played_ms: 200, acked_ms: 400 } }),
      entry('a', { trace: { pid: 7, thread: 1, start_ms: 100, played_ms: 300, acked_ms: 350 } }),
      entry('c'),
    ]),
  )!;
  t.deepEqual(tl.lanes, ['pid 7 · thread 1', 'pid 7 · thread 2']);
  t.deepEqual(
    tl.bars.map((b) => [b.episode, b.start, b.played, b.acked]),
    [
      ['a', 100, 300, 350],
      ['b', 100, 200, 400],
    ],
  );
  t.is(tl.startupMs, 100);
  t.is(tl.spanMs, 400);
  t.is(tl.playMs, 300);
  t.is(tl.efficiency, 300 / (2 * 300));
  t.is(tl.overallEfficiency, 300 / (2 * 400));
  t.is(tl.busyMs, 250 + 300);
  t.is(tl.occupancy, 550 / (2 * 300));
  t.is(tl.untraced, 1);
});

test('an idle configured lane counts against efficiency; a failed episode without end of play is drawn from start to failure', (t) => {
  const tl = timelineOf(run([entry('a', { status: 'failed', trace: { pid: 1, thread: 1, start_ms: 0, acked_ms: 50 } }), entry('b', { trace: { pid: 1, thread: 1, start_ms: 50, played_ms: 150, acked_ms: 200 } })], 4))!;
  t.is(tl.capacity, 4);
  t.deepEqual(tl.bars[0], { lane: 'pid 1 · thread 1', episode: 'a', domain: 'hot_pot', status: 'failed', start: 0, played: 0, acked: 50 });
  t.is(tl.efficiency, 100 / (4 * 200));
});

test('a lane is busy for the union of its episodes: a commit overlapping the next play counts once', (t) => {
  t.is(unionLength([[0, 10], [5, 20], [30, 40], [32, 35]]), 30);
  t.is(unionLength([]), 0);
});

test('a manifest written before traces were recorded has no timeline', (t) => {
  t.is(timelineOf(run([entry('a'), entry('b')])), null);
});

test('failures split their error code from the message; episodes that needed retries are listed too', (t) => {
  const rows = failureRows(
    run([
      entry('ok'),
      entry('f', { status: 'failed', error: 'E_LOCK_TIMEOUT: could not lock x: y' }),
      entry('u', { status: 'unknown', error: 'shard process 0 exited with SIGKILL' }),
      { ...entry('retried'), attempts: 3 } as EpisodeEntry,
      { ...entry('said'), attempts: 3, attempt_errors: ['E_EPISODE: 429 Too Many Requests', 'E_TIMEOUT: no answer within 60000 ms'] } as EpisodeEntry,
    ]),
  );
  t.deepEqual(
    rows.map((r) => [r.episode, r.status, r.code, r.message, r.attempts]),
    [
      ['f', 'failed', 'E_LOCK_TIMEOUT', 'could not lock x: y', null],
      ['u', 'unknown', '', 'shard process 0 exited with SIGKILL', null],
      ['retried', 'ok', '', '', 3],
      ['said', 'ok', 'E_TIMEOUT', 'no answer within 60000 ms (its last failed attempt)', 3],
    ],
  );
});

test('mode bars take the median over repeats, one per domain and mode; source bars cover every domain of every source', (t) => {
  const runs = (lost: number[]) => lost.map((l) => ({ domains: [{ domain: 'a', episodesRun: 4, episodeFiles: 4, playbookObservations: 4 - l, lost: l, missingFiles: 0, unexpected: 0 }], zeroLoss: l === 0 }));
  const source: SourceView = { label: 's', kind: 'compare-json', runs: [], runsOmitted: 0, playbooks: [], modes: { domains: ['a'], comparison: { modes: { unlocked: { runs: runs([1, 5, 2]) }, locked: { runs: runs([0, 0, 0]) } } } } };
  t.deepEqual(modeBars(source), [
    { domain: 'a', group: 'unlocked', lost: 2 },
    { domain: 'a', group: 'locked', lost: 0 },
  ]);
  const s = (label: string, rows: DomainAudit[]): SourceView => ({ label, kind: 'store', runs: [], runsOmitted: 0, playbooks: [], loss: { scope: label, zeroLoss: false, rows } });
  t.deepEqual(sourceBars([s('x', [row('a', 1)]), s('y', [row('b', 2)])]), [
    { domain: 'a', group: 'x', lost: 1 },
    { domain: 'a', group: 'y', lost: 0 },
    { domain: 'b', group: 'x', lost: 0 },
    { domain: 'b', group: 'y', lost: 2 },
  ]);
});

test('the loss table highlights lost and missing files as bad, unexpected as a warning, and nothing else', (t) => {
  const html = lossSection({ scope: 'run r', zeroLoss: false, rows: [row('a', 2, { missingFiles: 1, unexpected: 3 }), row('b', 0)] });
  t.regex(html, /<td data-field="lost" class="bad">2<\/td>/);
  t.regex(html, /<td data-field="missingFiles" class="bad">1<\/td>/);
  t.regex(html, /<td data-field="unexpected" class="warn">3<\/td>/);
  t.regex(html, /<tr data-domain="b">(<td[^>]*>[^<]*<\/td>)+<\/tr>/);
  t.notRegex(html.slice(html.indexOf('data-domain="b"')), /class="(bad|warn)"/);
  t.regex(html, /LOSS \(run r\)/);
});

test('sources are recognised by shape, and anything else is bad input naming the file', (t) => {
  const text = (v: unknown): [unknown, string, string] => [v, JSON.stringify(v), 'f.json'];
  t.is(classify(...text({ run_id: 'r', config: { domains: [] } })).kind, 'manifest');
  t.is(classify(...text({ runId: 'r', store: '/s', domains: [row('a', 0)], zeroLoss: true })).kind, 'audit-json');
  t.is(classify(...text({ runId: 'r', store: '/s', domains: [row('a', 0)], zeroLoss: true, mode: 'locked' })).kind, 'run-json');
  t.is(classify(...text({ modes: { locked: { runs: [{ domains: [row('a', 0)], zeroLoss: true }] } } })).kind, 'compare-json');
  t.is(classify(...text({ a: 'x', b: 'y', domains: [{ domain: 'a', lost: [0, 1, 1], missingFiles: [0, 0, 0], unexpected: [0, 0, 0] }], regressed: true })).kind, 'diff-json');
  for (const bad of [[1, 2], { hello: 1 }, { domains: [{ domain: 'a' }], zeroLoss: true }, { modes: { locked: {} } }]) {
    const err = t.throws(() => classify(...text(bad)), { instanceOf: BadInputError });
    t.true(err!.message.startsWith('f.json: '), err!.message);
  }
});

test('the report\'s compare table leaves a mode that never ran blank and says so, not 0 lost', (t) => {
  const done = { zeroLoss: false, domains: [{ domain: 'hot_pot', episodesRun: 8, episodeFiles: 8, playbookObservations: 4, lost: 4, missingFiles: 0, unexpected: 0, failed: 0 }] };
  const html = modesSection({ comparison: { modes: { unlocked: { runs: [done] }, locked: { runs: [] } } }, domains: ['hot_pot'] });
  t.regex(html, /<td data-mode="locked" data-field="lost"><\/td>/);
  t.regex(html, /<li>locked: not run \(the compare stopped before it\)<\/li>/);
  t.regex(html, /<td data-mode="unlocked" data-field="lost" class="bad">4<\/td>/);
});

test('a resumed run\'s timeline says it spans the invocations and the time between them', async (t) => {
  const traced = (id: string, pid: number, start: number): EpisodeEntry => entry(id, { trace: { pid, thread: 1, start_ms: start, played_ms: start + 5, acked_ms: start + 10 } });
  const resumed = { ...run([traced('a', 1, 0), traced('b', 2, 5000)]), resumedAt: ['2026-11-28T15:00:00.000Z'] };
  t.regex(await runSection(resumed, 'r1'), /This run was resumed once: the timeline spans its invocations and the time between them/);
  t.notRegex(await runSection(run([traced('a', 1, 0)]), 'r1'), /was resumed/);
});
