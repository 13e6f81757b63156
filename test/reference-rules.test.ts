/** The pure rules behind reading reference stores, on literal hand-written inputs. */
import test from 'ava';
import { audit, episodeFact } from '../src/core/audit.js';
import { auditSections } from '../src/core/audit-sections.js';
import { decideWriteCap, inferAuditCap, REFERENCE_CAP } from '../src/core/cap.js';
import { countActions } from '../src/domains/domain.js';
import { hotPot } from '../src/domains/hot_pot.js';
import { readEpisodeText } from '../src/core/episode-read.js';
import { compareObservations, emptyPlaybook } from '../src/core/merge.js';
import { referenceDeltas } from '../src/core/reference.js';
import { droppedByReferenceAlone } from '../src/core/reference-replay.js';
import { reliabilityRank } from '../src/core/reliability.js';
import type { EpisodeRecord } from '../src/core/types.js';
import { obs } from './helpers.js';

const refRecord = (id: string, actions: unknown[], observations: unknown[], score: number): EpisodeRecord =>
  ({ episode_id: id, timestamp: '2025-11-17T10:00:00', trajectory: { episode_id: id, actions, observations, final_beliefs: { heating_rate_mean: { value: 2 } } }, outcome: { score } }) as unknown as EpisodeRecord;

test('unknown reliabilities rank by the reference rule: HIGH > SYNTHETIC_HIGH > MEDIUM = SYNTHETIC_MEDIUM > LOW = SYNTHETIC_LOW > anything else', (t) => {
  const order = ['HIGH', 'SYNTHETIC_HIGH', 'MEDIUM', 'SYNTHETIC_MEDIUM', 'LOW', 'SYNTHETIC_LOW', 'WHATEVER'].map(reliabilityRank);
  t.deepEqual(order, [0, 1, 2, 2, 3, 3, 4]);
  const keys = [obs('a', 'LOW', 0.9), { ...obs('b'), reliability: 'SYNTHETIC_HIGH' }, { ...obs('c'), reliability: 'ODD' }, obs('d', 'HIGH', 0.1)];
  t.deepEqual([...keys].sort(compareObservations).map((o) => o.episode_id), ['d', 'b', 'a', 'c']);
});

test('null actions are skipped and object actions read as Python str(), null observations ignored: never a crash', (t) => {
  t.is(countActions([null, { name: 'toggle_stove' }, 'measure_temp()', 7, undefined], ['toggle']), 1);
  t.is(countActions([['flip', 1], { a: null }], ['flip', 'none']), 2);
  t.is(hotPot.reflect({ actions: [null, 'measure_temp()'] as string[], observations: [null, { power_setting: 'HIGH' }] as Record<string, unknown>[] }).reliability, 'HIGH');
  t.is(hotPot.reflect({ actions: [{ op: 'set_power', to: 2 }] as unknown as string[], observations: [] }).reliability, 'LOW');
});

test('episode files the audit cannot use are findings, never exceptions', (t) => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['{"episode_id": "x"', /not valid JSON/],
    ['[1]', /not a JSON object/],
    ['{"episode_id": "s", "reliability": "SYNTHETIC_HIGH", "observations": []}', /no `outcome`.*SYNTHETIC_HIGH.*unknown fields reliability, observations/],
    ['{"episode_id": "y", "outcome": {"score": "high"}}', /numeric `outcome.score`/],
    ['{"episode_id": "z", "outcome": {"score": 1, "observation": null}}', /not an observation/],
  ];
  for (const [text, why] of bad) {
    const r = readEpisodeText(text, 'f.json');
    t.false(r.ok, text);
    if (!r.ok) t.regex(r.finding.problem, why);
  }
  const odd = readEpisodeText(JSON.stringify(refRecord('e', [null, { a: 1 }], [null], 0.5)), 'e.json');
  t.true(odd.ok);
  if (odd.ok) t.deepEqual(odd.notes, ['1 null action(s) skipped', '1 non-string action(s) read as Python str()', '1 null or non-object trajectory observation(s) skipped']);
  const synthetic = readEpisodeText(JSON.stringify({ episode_id: 'e', outcome: { score: 1, observation: { ...obs('e'), reliability: 'SYNTHETIC_HIGH' } } }), 'e.json');
  t.true(synthetic.ok && synthetic.notes[0]!.includes('SYNTHETIC_HIGH'));
});

test('the reference curate rules: beliefs from final_beliefs, reliability by reflection, strategies and troubleshooting by score', (t) => {
  const good = referenceDeltas(refRecord('g', ['measure_temp()'], [{ power_setting: 'HIGH' }], 0.9), 'hot_pot_controlled');
  t.like(good.observations[0], { episode_id: 'g', reliability: 'HIGH', score: 0.9, beliefs: { heating_rate_mean: { value: 2 } }, context: { power_setting: 'HIGH' }, metadata: { patterns: ['Achieved 90% accuracy'], failures: [] } });
  t.deepEqual(good.strategies_and_rules.map((e) => e.content), ['Achieved 90% accuracy']);
  const poor = referenceDeltas(refRecord('p', ['toggle_stove()'], [], 0.125), 'hot_pot');
  t.like(poor.observations[0], { reliability: 'LOW', context: { power_setting: 'MIXED' }, metadata: { failures: ['Low score: 12%'] } });
  t.deepEqual(poor.troubleshooting.map((e) => e.content), ['Low score: 12%']);
  t.deepEqual(poor.strategies_and_rules, []);
  t.is(referenceDeltas(refRecord('u', [], [], 0.6), 'molecules').observations[0]!.reliability, 'MEDIUM');
});

test('a domain the user registered reflects by its own rules, which reach the pure audit as a parameter; without them it is MEDIUM, as in the reference', (t) => {
  const rules = (name: string) => (name === 'molecules' ? { reflect: () => ({ reliability: 'HIGH' as const, reason: 'registered' }) } : undefined);
  const record = refRecord('m', [], [], 0.6);
  t.like(referenceDeltas(record, 'molecules_test', rules).observations[0], { reliability: 'HIGH', reason: 'registered' });
  t.is(episodeFact(record, 'molecules', rules).key.reliability, 'HIGH');
  t.is(episodeFact(record, 'molecules').key.reliability, 'MEDIUM');
});

test('write cap: a store without a record takes the audit\'s cap unless --cap, and refuses a --cap below its largest playbook; a recorded cap is the default, lowering refused, raising recorded', (t) => {
  const sizes = [{ domain: 'hot_pot', file: '/s/hot_pot/playbook.json', observations: 110 }, { domain: 'chem_tile', file: '/s/chem_tile/playbook.json', observations: 199 }];
  const refused = t.throws(() => decideWriteCap(null, 12, sizes));
  t.regex(refused!.message, /chem_tile\/playbook.json holds 199, .*hot_pot\/playbook.json holds 110 observations, more than the cap of 12 .*--cap 199/);
  t.deepEqual(decideWriteCap(null, 199, sizes), { cap: 199, record: true });
  // Without --cap: the reference tool's cap, or the largest playbook if larger, as the audit infers it; a new store 10.
  t.like(decideWriteCap(null, undefined, sizes), { cap: 199, record: true });
  const small = decideWriteCap(null, undefined, [{ domain: 'hot_pot', file: '/s/hot_pot/playbook.json', observations: 7 }]);
  t.like(small, { cap: REFERENCE_CAP, record: true });
  t.regex(small.note!, /records no cap .*using 100, the reference tool's cap, as the audit does/);
  t.deepEqual(decideWriteCap(null, undefined, []), { cap: 10, record: true });
  const recorded = { cap: 20, source: '/s/metadata/store.json' };
  t.deepEqual(decideWriteCap(recorded, undefined, []), { cap: 20, record: false });
  t.deepEqual(decideWriteCap(recorded, 20, []), { cap: 20, record: false });
  t.like(decideWriteCap(recorded, 30, []), { cap: 30, record: true });
  t.regex(t.throws(() => decideWriteCap(recorded, 10, []))!.message, /--cap 10: this store keeps 20 .*store.json/);
  t.throws(() => decideWriteCap(recorded, undefined, sizes), { message: /--cap 199/ });
});

test('audit cap: --cap, else the record, else the larger of the reference cap and the largest playbook, with the reason', (t) => {
  const sizes = [{ domain: 'hot_pot', file: 'x', observations: 110 }];
  t.deepEqual(inferAuditCap(7, { cap: 20, source: 's' }, sizes), { cap: 7, reason: 'as given by --cap' });
  t.deepEqual(inferAuditCap(7, { cap: 20, source: 's' }, sizes, 'run'), { cap: 7, reason: 'the cap this run merged with' });
  t.like(inferAuditCap(undefined, { cap: 20, source: 's' }, sizes), { cap: 20 });
  t.like(inferAuditCap(undefined, null, sizes), { cap: 110 });
  t.regex(inferAuditCap(undefined, null, sizes).reason, /largest playbook \(hot_pot, 110/);
  t.like(inferAuditCap(undefined, null, []), { cap: REFERENCE_CAP });
  // Every playbook full at one size below 100: the reference's cap-10 version's mark, said, never assumed.
  const tens = ['a', 'b'].map((domain) => ({ domain, file: domain, observations: 10 }));
  t.like(inferAuditCap(undefined, null, tens), { cap: REFERENCE_CAP });
  t.regex(inferAuditCap(undefined, null, tens).reason, /; every playbook holds exactly 10: if the reference tool's earlier version, which keeps 10, wrote this store, `--cap 10` audits it by that cap$/);
  t.notRegex(inferAuditCap(undefined, null, [...tens, { domain: 'c', file: 'c', observations: 7 }]).reason, /exactly/);
  t.notRegex(inferAuditCap(undefined, null, [{ domain: 'c', file: 'c', observations: 25 }]).reason, /exactly/);
});

test('a 15-episode unlocked reference run that kept 5 of 15 is counted as 10 lost, not 5: the cap is inferred, not 10', (t) => {
  const files = Array.from({ length: 15 }, (_, i) => refRecord(`hot_pot_20251117_1000${String(i).padStart(2, '0')}`, ['measure_temp()'], [], 0.5 + i / 100));
  const kept = files.slice(0, 5).map((f) => ({ ...obs(f.episode_id), score: f.outcome.score }));
  const report = audit({ store: '/s', recordedCap: null, manifests: [], domains: [{ domain: 'hot_pot', playbook: { ...emptyPlaybook(), observations: kept }, episodes: files.map((f) => episodeFact(f, 'hot_pot')) }] });
  t.like(report.domains[0], { expected: 15, lost: 10 });
  t.is(report.cap, REFERENCE_CAP);
  t.false(report.zeroLoss);
});

test('sections: duplicates are counted, lost entries within the keep rule found; only ace-orch entries count as loss', (t) => {
  const e = (src: string, content: string, timestamp?: string) => ({ source_episode: src, content, ...(timestamp ? { timestamp } : {}) });
  const playbook = { ...emptyPlaybook(), strategies_and_rules: [e('a', 'x', '2026-01-02'), e('a', 'x', '2026-01-02'), e('a', 'x', '2026-01-02')] };
  const fromFiles = [
    { section: 'strategies_and_rules' as const, entry: e('a', 'x', '2026-01-02'), derived: false },
    { section: 'strategies_and_rules' as const, entry: e('b', 'y', '2026-01-03'), derived: false },
    { section: 'troubleshooting' as const, entry: e('r', 'Low score: 40%', '2025-01-01'), derived: true },
  ];
  const s = auditSections(playbook, fromFiles);
  t.like(s, { duplicates: 2, lost: 2, lostExact: 1 });
  t.deepEqual(s.duplicateEntries, [{ section: 'strategies_and_rules', source_episode: 'a', content: 'x', count: 3 }]);
  t.deepEqual(s.lostEntries.map((x) => [x.section, x.source_episode, x.derived]), [['strategies_and_rules', 'b', false], ['troubleshooting', 'r', true]]);
  // Outside the keep rule (keep 1, and b is more recent than a): a is not lost.
  t.like(auditSections({ ...emptyPlaybook(), strategies_and_rules: [e('b', 'y', '2026-01-03')] }, fromFiles.slice(0, 2), () => true, 1), { lost: 0 });
  // Duplicates alone never make a loss.
  const dupOnly = audit({ store: '/s', cap: 10, manifests: [], domains: [{ domain: 'hot_pot', playbook, episodes: [] }] });
  t.true(dupOnly.zeroLoss);
});

test("the reference tool's own in-memory cut is told apart from loss: replayed one save at a time, a new observation stays only within the top 10 it loaded", (t) => {
  const at = (i: number): string => `2025-11-17T10:${String(i).padStart(2, '0')}:00`;
  // hot_pot with no actions reflects HIGH; scores fall, so from the 11th on each new one ranks below the 10 it loaded.
  const falling = Array.from({ length: 14 }, (_, i) => ({ ...refRecord(`hot_pot_20251117_10${String(i).padStart(2, '0')}00`, [], [], 0.9 - i / 100), timestamp: at(i) }));
  const replay = falling.map((r) => ({ key: episodeFact(r, 'hot_pot').key, timestamp: r.timestamp }));
  t.deepEqual([...droppedByReferenceAlone(replay, 100)].sort(), falling.slice(10).map((r) => r.episode_id));
  // Rising scores: each new one is the best; the reference keeps every one.
  const rising = falling.map((r, i) => ({ ...r, outcome: { score: 0.5 + i / 100 } }));
  t.is(droppedByReferenceAlone(rising.map((r) => ({ key: episodeFact(r, 'hot_pot').key, timestamp: r.timestamp })), 100).size, 0);

  const auditOf = (records: typeof falling, keptIds: string[]) =>
    audit({ store: '/s', recordedCap: null, manifests: [], domains: [{ domain: 'hot_pot', playbook: { ...emptyPlaybook(), observations: records.filter((r) => keptIds.includes(r.episode_id)).map((r) => ({ ...obs(r.episode_id), score: r.outcome.score })) }, episodes: records.map((r) => episodeFact(r, 'hot_pot')) }] }).domains[0]!;
  // The reference's own drops: lost by ace-orch's rule, said apart.
  t.like(auditOf(falling, falling.slice(0, 10).map((r) => r.episode_id)), { lost: 4, lostByReferenceAlone: 4 });
  // One lost to a concurrent writer: the reference would have kept it, so nothing is said apart.
  const concurrent = auditOf(rising, rising.slice(1).map((r) => r.episode_id));
  t.like(concurrent, { lost: 1 });
  t.is(concurrent.lostByReferenceAlone, undefined);
});

test("in a store ace-orch writes too, the replay loads ace-orch's merges before each later reference save", (t) => {
  const at = (i: number): string => `2025-11-17T10:${String(i).padStart(2, '0')}:00`;
  // Ten HIGH observations merged by ace-orch first, then reference saves of lower rank: each loads those ten and drops itself.
  const ours = Array.from({ length: 10 }, (_, i) => ({ key: obs(`ace-${i}`, 'HIGH', 0.9), timestamp: `${at(i)}.000Z`, aceOrch: true }));
  const theirs = Array.from({ length: 3 }, (_, i) => ({ key: obs(`ref-${i}`, 'MEDIUM', 0.5), timestamp: at(20 + i) }));
  t.deepEqual([...droppedByReferenceAlone([...ours, ...theirs], 100)].sort(), ['ref-0', 'ref-1', 'ref-2']);
  // Left out, the replay saw an empty playbook at each reference save and blamed concurrency for all three.
  t.is(droppedByReferenceAlone(theirs, 100).size, 0);
  // Saved before ace-orch's merges, they loaded nothing and kept themselves; ace-orch's merges are never counted.
  const early = theirs.map((e, i) => ({ ...e, timestamp: at(i) }));
  const later = ours.map((e) => ({ ...e, timestamp: e.timestamp.replace('10:0', '10:3') }));
  t.is(droppedByReferenceAlone([...later, ...early], 100).size, 0);
});
