import type { Observation, Reliability, Trajectory } from '../types.js';
import type { Rng } from '../rng.js';

/** What a domain's agent did and concluded in one episode. */
export interface DomainPlay {
  trajectory: Trajectory;
  /** The agent's estimates of the hidden quantities, numbers only. */
  beliefs: Record<string, number>;
  /** 0..1: the agent's answers to the test queries against the hidden ground truth. */
  score: number;
  context: Record<string, unknown>;
  patterns: string[];
  failures: string[];
  /** One-line lesson, kept as a strategy when the episode was reliable and scored well. */
  lesson: string;
}

export interface Reflection {
  reliability: Reliability;
  reason: string;
}

/**
 * A domain is one module behind this interface. Register your own with
 * `registerDomain` (src/domains/index.ts).
 */
export interface Domain {
  readonly name: string;
  /**
   * Plays one episode. The hidden world is drawn from `world` (the same for
   * every episode of a run's domain), the agent's actions from `rng` only, so
   * the trajectory is a function of (seed, domain, episode index); `prior`
   * (the playbook read when the episode started) may shape beliefs, never actions.
   * `episode.index` is the episode's index in its run's domain (0-based).
   */
  play(world: Rng, rng: Rng, prior: readonly Observation[], episode: { readonly index: number }): DomainPlay;
  /** The reference reflection rules: reliability from the trajectory alone. */
  reflect(trajectory: Trajectory): Reflection;
}

const WEIGHT: Record<Reliability, number> = { HIGH: 3, MEDIUM: 2, LOW: 1 };

/** Reliability-weighted mean of a numeric belief across prior observations, or `fallback`. */
export function priorBelief(prior: readonly Observation[], key: string, fallback: number): number {
  let sum = 0;
  let weight = 0;
  for (const o of prior) {
    const v = o.beliefs?.[key];
    if (typeof v === 'number' && Number.isFinite(v)) {
      sum += v * WEIGHT[o.reliability];
      weight += WEIGHT[o.reliability];
    }
  }
  return weight > 0 ? sum / weight : fallback;
}

export function countActions(actions: readonly string[], needles: readonly string[]): number {
  return actions.filter((a) => {
    const lower = a.toLowerCase();
    return needles.some((n) => lower.includes(n));
  }).length;
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
