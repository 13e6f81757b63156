/**
 * hot_pot: a stove with a power setting heats a pot whose label always reads
 * "Boiling!". The agent measures, waits and estimates the hidden heating rate
 * (°C per second per power level). It assumes the knob stays where it found
 * it, so toggling mid-episode corrupts its estimate: that is what the
 * reflection rule penalises.
 */
import type { Domain, DomainPlay, Reflection } from './domain.js';
import { clamp01, countActions, priorBelief, round } from './domain.js';
import type { Trajectory } from '../core/types.js';

const BOILING = 100;

export const hotPot: Domain = {
  name: 'hot_pot',

  play(world, rng, prior): DomainPlay {
    const rate = world.uniform(0.5, 2);
    const power0 = rng.int(1, 3);
    const toggles = rng.chance(0.5) ? 0 : rng.chance(0.5) ? 1 : 2;
    const steps = rng.int(4, 8);
    const toggleSteps = new Set<number>();
    while (toggleSteps.size < toggles) toggleSteps.add(rng.int(1, steps));

    const actions: string[] = [];
    const observations: Record<string, unknown>[] = [];
    let power = power0;
    let temp = 20;
    let t = 0;
    const readings: { t: number; temp: number }[] = [];
    const measure = (): void => {
      const shown = round(Math.min(BOILING, temp + rng.noise(0.3)), 1);
      actions.push('measure_temp()');
      observations.push({ t, temp: shown, power_setting: power, label: 'Boiling!' });
      readings.push({ t, temp: shown });
    };

    measure();
    for (let s = 1; s <= steps; s++) {
      if (toggleSteps.has(s)) {
        actions.push('toggle_stove()');
        power = (power % 3) + 1;
        observations.push({ t, power_setting: power });
      }
      const dt = rng.int(1, 4);
      actions.push(`wait(${dt})`);
      t += dt;
      temp = Math.min(BOILING, temp + rate * power * dt);
      measure();
    }

    // Slopes between consecutive readings below boiling, per unit of the power the agent believes is set.
    const slopes: number[] = [];
    for (let i = 1; i < readings.length; i++) {
      const a = readings[i - 1]!;
      const b = readings[i]!;
      if (b.temp < BOILING - 1 && b.t > a.t) slopes.push((b.temp - a.temp) / ((b.t - a.t) * power0));
    }
    const priorRate = priorBelief(prior, 'heating_rate', 1.25);
    const dataRate = slopes.length ? slopes.reduce((x, y) => x + y, 0) / slopes.length : priorRate;
    const priorWeight = prior.length ? 2 : 0;
    const estimate = (dataRate * slopes.length + priorRate * priorWeight) / (slopes.length + priorWeight || 1);
    const score = round(clamp01(1 - Math.abs(estimate - rate) / rate));
    const first = readings[0]!;
    return {
      trajectory: { actions, observations },
      beliefs: { heating_rate: round(estimate) },
      score,
      context: { power_setting: power0, measurements: readings.length, seconds: t },
      patterns: [`label reads "Boiling!" at ${first.temp}°C: trust the thermometer, not the label`],
      failures: toggles > 0 ? [`stove toggled ${toggles}x: slopes mix power settings`] : [],
      lesson: `keep one power setting while measuring; heating rate ≈ ${round(estimate, 2)} °C/s per power level`,
    };
  },

  reflect(trajectory: Trajectory): Reflection {
    const toggles = countActions(trajectory.actions, ['toggle', 'set_power', 'power']);
    // Like the reference, only object observations that have a power setting count (files may hold null ones).
    const settings = new Set(
      (trajectory.observations as unknown[])
        .filter((o): o is Record<string, unknown> => typeof o === 'object' && o !== null && !Array.isArray(o))
        .map((o) => o['power_setting'])
        .filter((v) => v !== undefined)
        .map((v) => (typeof v === 'object' ? JSON.stringify(v) : v)),
    );
    if (toggles === 0 && settings.size <= 1) return { reliability: 'HIGH', reason: 'one power setting throughout: clean heating-rate measurement' };
    if (toggles === 1 || settings.size === 2) return { reliability: 'LOW', reason: 'power changed once: readings mix two settings' };
    if (toggles >= 2) return { reliability: 'LOW', reason: `power changed ${toggles} times: readings mix settings` };
    return { reliability: 'MEDIUM', reason: `${settings.size} power settings seen without a recorded toggle` };
  },
};
