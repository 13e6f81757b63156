import test from 'ava';
import { chemTile } from '../src/domains/chem_tile.js';
import { hotPot } from '../src/domains/hot_pot.js';
import { domainNames } from '../src/domains/index.js';
import { switchLight } from '../src/domains/switch_light.js';
import { episodeId, playEpisode } from '../src/core/episode.js';
import { emptyPlaybook } from '../src/core/merge.js';
import type { AnyReliability, Reliability } from '../src/core/types.js';
import { findDomain } from '../src/domains/index.js';

const traj = (actions: string[], observations: Record<string, unknown>[] = []) => ({ actions, observations });

test('hot_pot reflection follows the reference rules', (t) => {
  const cases: [string[], unknown[], Reliability][] = [
    [['measure_temp()', 'wait()'], [1, 1], 'HIGH'],
    [['measure_temp()'], [], 'HIGH'],
    [['TOGGLE_STOVE()', 'measure_temp()'], [1], 'LOW'],
    [['measure_temp()'], [1, 2], 'LOW'],
    [['toggle_stove()', 'set_power(2)'], [1, 2, 3], 'LOW'],
    [['measure_temp()'], [1, 2, 3], 'MEDIUM'],
  ];
  for (const [actions, settings, want] of cases) {
    t.is(hotPot.reflect(traj(actions, settings.map((s) => ({ power_setting: s })))).reliability, want, JSON.stringify([actions, settings]));
  }
});

test('switch_light and chem_tile reflection count flips and reactions, case-insensitively', (t) => {
  t.is(switchLight.reflect(traj(['Flip_Switch(0)', 'flip_switch(1)', 'flip_switch(2)'])).reliability, 'HIGH');
  t.is(switchLight.reflect(traj(['flip_switch(0)', 'observe_light()'])).reliability, 'MEDIUM');
  t.is(switchLight.reflect(traj(['observe_light()'])).reliability, 'LOW');
  t.is(chemTile.reflect(traj(['react(A,B)', 'REACT(A,C)', 'react(B,C)'])).reliability, 'HIGH');
  t.is(chemTile.reflect(traj(['inspect(A)', 'react(A,B)'])).reliability, 'MEDIUM');
  t.is(chemTile.reflect(traj(['inspect(A)'])).reliability, 'LOW');
});

test('the same (seed, domain, index) always yields the same trajectory, whatever the prior', (t) => {
  for (const name of ['hot_pot', 'chem_tile', 'switch_light']) {
    const domain = findDomain(name)!;
    const a = playEpisode({ runId: 'r1', domain, index: 3, seed: 7, prior: emptyPlaybook(), now: '2026-01-01T00:00:00Z' });
    const richPrior = { ...emptyPlaybook(), observations: [a.deltas.observations[0]!] };
    const b = playEpisode({ runId: 'r2', domain, index: 3, seed: 7, prior: richPrior, now: '2026-01-02T00:00:00Z' });
    t.deepEqual(b.record.trajectory, a.record.trajectory, name);
    const distinct = new Set(
      Array.from({ length: 10 }, (_, index) => JSON.stringify(playEpisode({ runId: 'r1', domain, index, seed: 7, prior: emptyPlaybook(), now: '2026-01-01T00:00:00Z' }).record.trajectory)),
    );
    t.true(distinct.size >= 8, `${name}: other indexes play differently (${distinct.size} distinct of 10)`);
  }
});

test('episodes produce valid observations, a strategy only when reliable and good, troubleshooting when poor', (t) => {
  const seen = new Set<AnyReliability>();
  for (const name of domainNames()) {
    const domain = findDomain(name)!;
    for (let i = 0; i < 40; i++) {
      const { record, deltas } = playEpisode({ runId: 'r', domain, index: i, seed: 1, prior: emptyPlaybook(), now: '2026-01-01T00:00:00Z' });
      const o = deltas.observations[0]!;
      seen.add(o.reliability);
      t.is(o.episode_id, episodeId('r', name, i));
      t.true(o.score >= 0 && o.score <= 1);
      t.is(o.reliability, domain.reflect(record.trajectory).reliability);
      t.is(deltas.strategies_and_rules.length, o.score > 0.8 && o.reliability === 'HIGH' ? 1 : 0);
      t.is(deltas.troubleshooting.length, o.score < 0.5 ? 1 : 0);
      t.deepEqual(record.outcome.observation, o);
    }
  }
  t.deepEqual([...seen].sort(), ['HIGH', 'LOW', 'MEDIUM'], 'the domains produce every reliability');
});

test('episode ids differ across runs and indexes, never only by time', (t) => {
  t.not(episodeId('run-a', 'hot_pot', 1), episodeId('run-b', 'hot_pot', 1));
  t.not(episodeId('run-a', 'hot_pot', 1), episodeId('run-a', 'hot_pot', 2));
});
