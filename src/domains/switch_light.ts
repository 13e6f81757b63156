/**
 * switch_light: three switches, one of which drives the light through a
 * wire that sometimes fails. The agent flips switches, watches the light and
 * estimates, per switch, the probability that flipping it changes the light.
 */
import type { Domain, DomainPlay, Reflection } from './domain.js';
import { clamp01, countActions, priorBelief, round } from './domain.js';
import type { Trajectory } from '../core/types.js';

const SWITCHES = 3;

export const switchLight: Domain = {
  name: 'switch_light',

  play(world, rng, prior): DomainPlay {
    const driver = world.int(0, SWITCHES - 1);
    const fault = world.uniform(0, 0.25);
    const flips = rng.int(0, 5);

    const actions: string[] = ['observe_light()'];
    const observations: Record<string, unknown>[] = [{ light: false }];
    const trials = new Array<number>(SWITCHES).fill(0);
    const changes = new Array<number>(SWITCHES).fill(0);
    let light = false;
    for (let f = 0; f < flips; f++) {
      const i = rng.int(0, SWITCHES - 1);
      actions.push(`flip_switch(${i})`);
      const before: boolean = light;
      if (i === driver && !rng.chance(fault)) light = !light;
      actions.push('observe_light()');
      observations.push({ switch: i, light });
      trials[i]!++;
      if (light !== before) changes[i]!++;
    }

    const beliefs: Record<string, number> = {};
    let err = 0;
    let best = 0;
    for (let i = 0; i < SWITCHES; i++) {
      const p0 = priorBelief(prior, `p_switch_${i}`, 1 / SWITCHES);
      const p = (changes[i]! + 2 * p0) / (trials[i]! + 2);
      beliefs[`p_switch_${i}`] = round(p);
      if (p > beliefs[`p_switch_${best}`]!) best = i;
      err += Math.abs(p - (i === driver ? 1 - fault : 0));
    }
    return {
      trajectory: { actions, observations },
      beliefs,
      score: round(clamp01(1 - err / SWITCHES)),
      context: { switches: SWITCHES, flips },
      patterns: [`switch ${best} most likely drives the light`],
      failures: flips === 0 ? ['never flipped a switch: estimates are the prior'] : [],
      lesson: `flip every switch at least three times; switch ${best} drives the light (p≈${beliefs[`p_switch_${best}`]})`,
    };
  },

  reflect(trajectory: Trajectory): Reflection {
    const flips = countActions(trajectory.actions, ['flip']);
    if (flips >= 3) return { reliability: 'HIGH', reason: `${flips} flips observed` };
    if (flips >= 1) return { reliability: 'MEDIUM', reason: `only ${flips} flip(s) observed` };
    return { reliability: 'LOW', reason: 'no switch flipped' };
  },
};
