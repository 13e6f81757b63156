import test from 'ava';
import { audit, episodeFact } from '../src/core/audit.js';
import type { DomainState } from '../src/core/audit.js';
import { applyDeltas, emptyPlaybook } from '../src/core/merge.js';
import type { RunManifest } from '../src/core/types.js';
import { deltasOf, episodeRecord, obs } from './helpers.js';
import { readEpisodeText } from '../src/core/episode-read.js';

function manifest(run_id: string, ids: [string, string][]): RunManifest {
  return {
    run_id,
    mode: 'locked',
    status: 'complete',
    started_at: '2026-01-01T00:00:00Z',
    pid: 1,
    config: { name: 't', domains: ['hot_pot'], episodes: ids.length, threads: 1, processes: 1, episodeMs: 0, cap: 10, seed: 1 },
    domains: {},
    episodes: ids.map(([episode_id, domain], index) => ({ episode_id, domain, index, status: 'ok' })),
  };
}

function state(domain: string, files: ReturnType<typeof obs>[], inPlaybook: string[] | null, run_id?: string): DomainState {
  return {
    domain,
    playbook: inPlaybook === null ? null : { ...emptyPlaybook(), observations: files.filter((o) => inPlaybook.includes(o.episode_id)).concat(inPlaybook.filter((id) => !files.some((f) => f.episode_id === id)).map((id) => obs(id))) },
    episodes: files.map((o) => episodeFact(episodeRecord(o, run_id), domain)),
  };
}

test('a hand-made store with known losses reports exactly those', (t) => {
  const files = Array.from({ length: 10 }, (_, i) => obs(`e${i}`, 'HIGH', i / 10));
  // e2 and e7 were overwritten; e9 ran but its file never landed; ghost is in the playbook with no file.
  const withFiles = files.filter((o) => o.episode_id !== 'e9');
  const report = audit({
    store: '/s',
    domains: [state('hot_pot', withFiles, ['e0', 'e1', 'e3', 'e4', 'e5', 'e6', 'e8', 'ghost'])],
    manifests: [manifest('r1', files.map((o) => [o.episode_id, 'hot_pot']))],
  });
  const d = report.domains[0]!;
  t.like(d, { episodesRun: 10, episodeFiles: 9, playbookObservations: 8, expected: 9, lost: 2, missingFiles: 1, unexpected: 1 });
  t.deepEqual(d.lostIds.sort(), ['e2', 'e7']);
  t.deepEqual(d.missingIds, ['e9']);
  t.deepEqual(d.unexpectedIds, ['ghost']);
  t.false(report.zeroLoss);
});

test('observations ranked out by the cap are not lost', (t) => {
  const files = Array.from({ length: 12 }, (_, i) => obs(`e${String(i).padStart(2, '0')}`, i < 2 ? 'LOW' : 'HIGH', 0.5));
  const report = audit({ store: '/s', cap: 10, domains: [state('hot_pot', files, files.slice(2).map((o) => o.episode_id))], manifests: [] });
  t.like(report.domains[0], { episodesRun: null, expected: 10, lost: 0, playbookObservations: 10 });
  t.true(report.zeroLoss);
});

test('an empty or missing playbook loses every expected observation', (t) => {
  const files = [obs('a'), obs('b')];
  const report = audit({ store: '/s', domains: [state('chem_tile', files, null)], manifests: [] });
  t.like(report.domains[0], { playbookObservations: 0, expected: 2, lost: 2 });
});

test('files from the reference tool (no outcome.observation) are ranked by the reflection rules and outcome.score', (t) => {
  const reference = (id: string, actions: string[], power: number[], score: number) => ({
    episode_id: id,
    timestamp: '2025-10-01T10:00:00',
    trajectory: { actions, observations: power.map((p) => ({ power_setting: p, temp: 40 })) },
    outcome: { score },
  });
  const hot = "hot_pot";
  const facts = [
    episodeFact(reference('calm', ['measure_temp()', 'wait(2)'], [2, 2], 0.4), hot),
    episodeFact(reference('fiddly', ['toggle_stove()', 'measure_temp()'], [1, 2], 0.9), hot),
  ];
  t.deepEqual(facts.map((f) => f.key), [
    { episode_id: 'calm', reliability: 'HIGH', score: 0.4 },
    { episode_id: 'fiddly', reliability: 'LOW', score: 0.9 },
  ]);
  // Cap 1: the HIGH observation must be kept even though it scored lower.
  const report = audit({ store: '/s', cap: 1, domains: [{ domain: 'hot_pot', playbook: { ...emptyPlaybook(), observations: [obs('fiddly', 'LOW', 0.9)] }, episodes: facts }], manifests: [] });
  t.deepEqual(report.domains[0]!.lostIds, ['calm']);
  t.is(report.domains[0]!.unexpected, 0);
});

test('a run-scoped audit counts its own episodes, against the whole domain', (t) => {
  const old = Array.from({ length: 10 }, (_, i) => obs(`old${i}`, 'HIGH', 0.9));
  const mine = Array.from({ length: 10 }, (_, i) => obs(`new${i}`, i < 3 ? 'HIGH' : 'LOW', 0.5));
  const facts = [...old.map((o) => episodeFact(episodeRecord(o, 'r0'), 'x')), ...mine.map((o) => episodeFact(episodeRecord(o, 'r1'), 'x'))];
  // Top 10 overall: the 10 old HIGH 0.9 ones; none of the new run's are expected.
  const playbook = { ...emptyPlaybook(), observations: old };
  const manifests = [manifest('r0', old.map((o) => [o.episode_id, 'hot_pot'])), manifest('r1', mine.map((o) => [o.episode_id, 'hot_pot']))];
  const report = audit({ store: '/s', runId: 'r1', domains: [{ domain: 'hot_pot', playbook, episodes: facts }], manifests });
  t.like(report.domains[0], { episodesRun: 10, episodeFiles: 10, expected: 0, lost: 0, playbookObservations: 0 });
  const whole = audit({ store: '/s', domains: [{ domain: 'hot_pot', playbook, episodes: facts }], manifests });
  t.like(whole.domains[0], { episodesRun: 20, episodeFiles: 20, expected: 10, lost: 0, playbookObservations: 10 });
});

test('observations a playbook holds without an episode file keep their places in the ranking: a file\'s observation they outrank is ranked out, not lost', (t) => {
  const a = obs('a', 'HIGH', 0.9);
  const b = obs('b', 'LOW', 0.1);
  const x = obs('x', 'HIGH', 0.8);
  const y = obs('y', 'MEDIUM', 0.5);
  const domain = (inPlaybook: ReturnType<typeof obs>[]): DomainState => ({
    domain: 'hot_pot',
    playbook: { ...emptyPlaybook(), observations: inPlaybook },
    episodes: [a, b].map((o) => episodeFact(episodeRecord(o), 'hot_pot')),
  });
  // With a cap of 3, a merge keeps a, x and y: b's place went to two observations another tool wrote.
  const kept = audit({ store: '/s', cap: 3, domains: [domain([a, x, y])], manifests: [] }).domains[0]!;
  t.like(kept, { expected: 1, lost: 0, unexpected: 2 });
  t.true(audit({ store: '/s', cap: 3, domains: [domain([a, x, y])], manifests: [] }).zeroLoss);
  // a is missing all the same: lost.
  const missing = audit({ store: '/s', cap: 3, domains: [domain([x, y])], manifests: [] }).domains[0]!;
  t.like(missing, { expected: 1, lost: 1, unexpected: 2 });
  t.deepEqual(missing.lostIds, ['a']);
  // With room for all four, b is expected too.
  t.like(audit({ store: '/s', cap: 4, domains: [domain([a, x, y])], manifests: [] }).domains[0]!, { expected: 2, lost: 1 });
});

test('a run with no final manifest counts as run the episodes it has written so far, not the 30 it scheduled, as the audit\'s note says', (t) => {
  const files = [obs('a'), obs('b')];
  const running: RunManifest = { ...manifest('r1', []), status: 'running', domains: { hot_pot: { scheduled: 30, completed: 0, failed: 0 } } };
  delete running.episodes;
  const d = audit({ store: '/s', runId: 'r1', domains: [state('hot_pot', files.map((o) => ({ ...o })), ['a', 'b'], 'r1')], manifests: [running] }).domains[0]!;
  t.is(d.episodesRun, 2);
  t.is(d.episodeFiles, 2);
  t.is(d.missingFiles, 0);
  // A resumed run lists the episodes it kept when it starts: those count too, with the files written since.
  const resumed: RunManifest = { ...running, episodes: [{ episode_id: 'k', domain: 'hot_pot', index: 9, status: 'ok' }] };
  const r = audit({ store: '/s', runId: 'r1', domains: [state('hot_pot', files.map((o) => ({ ...o })), ['a', 'b'], 'r1')], manifests: [resumed] }).domains[0]!;
  t.like(r, { episodesRun: 3, missingFiles: 1, missingIds: ['k'] });
});

test('a file-less observation the playbook holds twice takes one place in the ranking, as a merge keeps one: a loss behind it still counts', (t) => {
  const a = obs('a', 'HIGH', 0.9);
  const b = obs('b', 'LOW', 0.1);
  const x = obs('x', 'HIGH', 0.8);
  const d = audit({
    store: '/s',
    cap: 3,
    domains: [{ domain: 'hot_pot', playbook: { ...emptyPlaybook(), observations: [a, x, { ...x }] }, episodes: [a, b].map((o) => episodeFact(episodeRecord(o), 'hot_pot')) }],
    manifests: [],
  }).domains[0]!;
  t.like(d, { expected: 2, lost: 1 });
  t.deepEqual(d.lostIds, ['b']);
});

test('an observation without a score holds its place as the merge ranks it (0), so the audit and the merge agree', (t) => {
  const noScore = { ...obs('x', 'HIGH', 0) } as Partial<ReturnType<typeof obs>>;
  delete noScore.score;
  const a = obs('a', 'MEDIUM', 0.5);
  const b = obs('b', 'MEDIUM', 0.4);
  const merged = applyDeltas({ ...emptyPlaybook(), observations: [noScore as ReturnType<typeof obs>, a] }, deltasOf(b), 2);
  t.deepEqual(merged.observations.map((o) => o.episode_id), ['x', 'a'], 'HIGH without a score still outranks MEDIUM');
  const report = audit({
    store: '/s',
    cap: 2,
    manifests: [],
    domains: [{ domain: 'hot_pot', playbook: merged, episodes: [episodeFact(episodeRecord(a), 'hot_pot'), episodeFact(episodeRecord(b), 'hot_pot')] }],
  });
  t.like(report.domains[0], { lost: 0, expected: 1 });
  t.true(report.zeroLoss);
});

test('an observation whose episode file cannot be used keeps its place in the ranking: the file it outranks is ranked out, not lost', (t) => {
  // x tops the playbook, but its file is unreadable (a directory in its place, no permission, or not JSON).
  const x = obs('x', 'HIGH', 0.9);
  const a = obs('a', 'HIGH', 0.8);
  const b = obs('b', 'HIGH', 0.7);
  const base = state('hot_pot', [a, b], ['a']);
  const unreadable: DomainState = {
    ...base,
    playbook: { ...base.playbook!, observations: [x, a] },
    findings: [{ file: '/s/domains/hot_pot/episodes/x.json', episode_id: 'x', used: false, problem: 'EISDIR: illegal operation on a directory, read' }],
  };
  const d = audit({ store: '/s', cap: 2, domains: [unreadable], manifests: [manifest('r1', [['x', 'hot_pot'], ['a', 'hot_pot'], ['b', 'hot_pot']])] }).domains[0]!;
  t.like(d, { expected: 1, lost: 0, missingFiles: 0, unexpected: 0, unreadableFiles: 1 });
  t.deepEqual(d.lostIds, []);
});

test('episode files that could not be listed are neither missing nor unexpected', (t) => {
  const a = obs('a');
  const listed: DomainState = { ...state('hot_pot', [], ['a']), episodesError: 'EACCES: permission denied, scandir' };
  const d = audit({ store: '/s', domains: [listed], manifests: [manifest('r1', [[a.episode_id, 'hot_pot']])] }).domains[0]!;
  t.like(d, { missingFiles: 0, unexpected: 0 });
  t.deepEqual(d.missingIds, []);
});

test('an episode file that is not JSON is the file of the episode it is named after', (t) => {
  const read = readEpisodeText('{"episode_id": "e1", "trunc', '/s/domains/hot_pot/episodes/run-hot_pot-0001.json');
  t.false(read.ok);
  if (!read.ok) t.is(read.finding.episode_id, 'run-hot_pot-0001');
});
