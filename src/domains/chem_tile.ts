/**
 * chem_tile: four compounds whose pairs react with hidden probabilities, some
 * of them hazardously. The agent reacts pairs, inspects compounds, and keeps a
 * Beta estimate of each pair's reaction probability.
 */
import type { Domain, DomainPlay, Reflection } from './domain.js';
import { clamp01, countActions, priorBelief, round } from './domain.js';
import type { Trajectory } from '../core/types.js';

const COMPOUNDS = ['A', 'B', 'C', 'D'] as const;
const PAIRS: readonly string[] = COMPOUNDS.flatMap((x, i) => COMPOUNDS.slice(i + 1).map((y) => `${x}${y}`));

export const chemTile: Domain = {
  name: 'chem_tile',

  play(world, rng, prior): DomainPlay {
    const truth = new Map(PAIRS.map((p) => [p, { p: world.next(), hazardous: world.chance(0.3) }]));
    const reacts = rng.int(0, 7);

    const actions: string[] = [];
    const observations: Record<string, unknown>[] = [];
    const tries = new Map<string, { n: number; k: number }>();
    const hazards = new Set<string>();
    for (let r = 0; r < reacts; r++) {
      if (rng.chance(0.3)) {
        const c = rng.pick(COMPOUNDS);
        actions.push(`inspect(${c})`);
        observations.push({ compound: c, stable: true });
      }
      const pair = rng.pick(PAIRS);
      const hidden = truth.get(pair)!;
      const reacted = rng.chance(hidden.p);
      actions.push(`react(${pair[0]},${pair[1]})`);
      observations.push({ pair, reacted, hazard: reacted && hidden.hazardous });
      if (reacted && hidden.hazardous) hazards.add(pair);
      const t = tries.get(pair) ?? { n: 0, k: 0 };
      tries.set(pair, { n: t.n + 1, k: t.k + (reacted ? 1 : 0) });
    }

    const beliefs: Record<string, number> = {};
    let err = 0;
    for (const pair of PAIRS) {
      const p0 = priorBelief(prior, `p_${pair}`, 0.5);
      const t = tries.get(pair) ?? { n: 0, k: 0 };
      const p = (t.k + 2 * p0) / (t.n + 2);
      beliefs[`p_${pair}`] = round(p);
      err += Math.abs(p - truth.get(pair)!.p);
    }
    const hazardList = [...hazards].sort();
    return {
      trajectory: { actions, observations },
      beliefs,
      score: round(clamp01(1 - err / PAIRS.length)),
      context: { pairs: PAIRS.length, reactions: reacts },
      patterns: hazardList.map((p) => `${p} reacts hazardously`),
      failures: reacts === 0 ? ['no reaction attempted: estimates are the prior'] : [],
      lesson: `react each pair repeatedly before trusting it; hazardous: ${hazardList.join(', ') || 'none seen'}`,
    };
  },

  reflect(trajectory: Trajectory): Reflection {
    const reacts = countActions(trajectory.actions, ['react']);
    if (reacts >= 3) return { reliability: 'HIGH', reason: `${reacts} reactions observed` };
    if (reacts >= 1) return { reliability: 'MEDIUM', reason: `only ${reacts} reaction(s) observed` };
    return { reliability: 'LOW', reason: 'no reaction attempted' };
  },
};
