import test from 'ava';
import fc from 'fast-check';
import { applyDeltas, combineDeltas, compareObservations, emptyPlaybook, mergeObservations, mergeSection } from '../src/core/merge.js';
import type { Deltas, Observation, Playbook, Reliability, SectionEntry } from '../src/core/types.js';
import { deltasOf, obs } from './helpers.js';

test('observations rank by reliability, then score, then episode_id by code units', (t) => {
  const merged = mergeObservations([], [obs('b', 'LOW', 0.99), obs('a', 'MEDIUM', 0.1), obs('c', 'HIGH', 0.2), obs('B', 'HIGH', 0.2), obs('d', 'HIGH', 0.9)], 10);
  // 'B' < 'c' by code units (uppercase first), whatever the locale says.
  t.deepEqual(merged.map((o) => o.episode_id), ['d', 'B', 'c', 'a', 'b']);
});

test('the cap keeps the top observations and drops the rest', (t) => {
  const incoming = Array.from({ length: 15 }, (_, i) => obs(`e${String(i).padStart(2, '0')}`, 'HIGH', i / 100));
  const merged = mergeObservations([], incoming, 10);
  t.is(merged.length, 10);
  t.deepEqual(merged.map((o) => o.episode_id), ['e14', 'e13', 'e12', 'e11', 'e10', 'e09', 'e08', 'e07', 'e06', 'e05']);
});

test('duplicate episode ids collapse to one', (t) => {
  const merged = mergeObservations([obs('x', 'HIGH', 0.5)], [obs('x', 'HIGH', 0.5), obs('y')], 10);
  t.deepEqual(merged.map((o) => o.episode_id), ['x', 'y']);
});

test('sections dedupe by (source_episode, content) and keep the 10 most recent', (t) => {
  const entries: SectionEntry[] = Array.from({ length: 12 }, (_, i) => ({ content: 'c', source_episode: `s${i}`, timestamp: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z` }));
  const merged = mergeSection(entries, [entries[11]!, { ...entries[0]!, content: 'other' }]);
  t.is(merged.length, 10);
  t.is(merged.at(-1)!.source_episode, 's11', 'newest last, as the reference tool reads a section');
  t.is(merged[0]!.source_episode, 's2');
  t.false(merged.some((e) => e.source_episode === 's0'));
});

test('applyDeltas keeps keys written by other tools', (t) => {
  const next = applyDeltas({ ...emptyPlaybook(), version: 3 }, deltasOf(obs('a')), 10);
  t.is(next['version'], 3);
  t.is(next.observations.length, 1);
});

// ---- properties ----------------------------------------------------------

const reliability = fc.constantFrom<Reliability>('HIGH', 'MEDIUM', 'LOW');
// Few ids and scores, so duplicates and ties are common.
const observation = fc.record({ id: fc.integer({ min: 0, max: 30 }), reliability, score: fc.integer({ min: 0, max: 4 }).map((s) => s / 4) }).map(({ id, reliability: r, score }) =>
  obs(`ep-${id}`, r, score),
);
const sectionEntry = fc.record({ src: fc.integer({ min: 0, max: 15 }), content: fc.constantFrom('x', 'y'), ts: fc.integer({ min: 0, max: 5 }) }).map(
  ({ src, content, ts }): SectionEntry => ({ content, source_episode: `ep-${src}`, timestamp: `2026-01-01T00:00:0${ts}Z` }),
);
const delta = fc.record({
  observations: fc.array(observation, { maxLength: 3 }),
  strategies_and_rules: fc.array(sectionEntry, { maxLength: 2 }),
  troubleshooting: fc.array(sectionEntry, { maxLength: 2 }),
  context_patterns: fc.constant([] as SectionEntry[]),
}) as fc.Arbitrary<Deltas>;
const cap = fc.integer({ min: 1, max: 12 });

function applyAll(deltas: Deltas[], k: number) {
  return deltas.reduce<Playbook>((pb, d) => applyDeltas(pb, d, k), emptyPlaybook());
}

// Duplicate ids with different content are resolved by rank then JSON, so
// every generated delta list must give the same result in any order.
test('property: the result does not depend on the order deltas arrive in', (t) => {
  fc.assert(
    fc.property(fc.array(delta, { maxLength: 12 }).chain((ds) => fc.tuple(fc.constant(ds), fc.shuffledSubarray(ds, { minLength: ds.length, maxLength: ds.length }))), cap, ([ds, shuffled], k) => {
      t.deepEqual(applyAll(shuffled, k), applyAll(ds, k));
    }),
  );
});

test('property: batching deltas (one merge for many) gives the same playbook as one merge each', (t) => {
  fc.assert(
    fc.property(fc.array(delta, { maxLength: 12 }), fc.integer({ min: 1, max: 5 }), cap, (ds, batch, k) => {
      const batched = emptyPlaybook();
      let pb = batched;
      for (let i = 0; i < ds.length; i += batch) pb = applyDeltas(pb, combineDeltas(ds.slice(i, i + batch)), k);
      t.deepEqual(pb, applyAll(ds, k));
    }),
  );
});

test('property: merging is idempotent (a retried write changes nothing)', (t) => {
  fc.assert(
    fc.property(fc.array(delta, { maxLength: 10 }), cap, (ds, k) => {
      const once = applyAll(ds, k);
      for (const d of ds) t.deepEqual(applyDeltas(once, d, k), once);
    }),
  );
});

test('property: the cap holds and the kept set is the top-k of everything seen', (t) => {
  fc.assert(
    fc.property(fc.array(delta, { maxLength: 12 }), cap, (ds, k) => {
      const pb = applyAll(ds, k);
      t.true(pb.observations.length <= k);
      t.true(pb.strategies_and_rules.length <= 10 && pb.troubleshooting.length <= 10);
      const ids = new Set(pb.observations.map((o) => o.episode_id));
      t.is(ids.size, pb.observations.length);
      const best = new Map<string, Observation>();
      for (const o of ds.flatMap((d) => d.observations)) {
        const seen = best.get(o.episode_id);
        if (!seen || compareObservations(o, seen) < 0) best.set(o.episode_id, o);
      }
      const expected = [...best.values()].sort(compareObservations).slice(0, k).map((o) => o.episode_id);
      t.deepEqual(pb.observations.map((o) => o.episode_id), expected);
    }),
  );
});
