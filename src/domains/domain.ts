import type { Observation, Reliability, Trajectory } from '../types.js';
import type { Rng } from '../rng.js';
import { baseReliability } from '../reliability.js';

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
    // A reliability naming no level (see src/reliability.ts) carries no weight.
    const level = baseReliability(o.reliability);
    if (typeof v === 'number' && Number.isFinite(v) && level) {
      sum += v * WEIGHT[level];
      weight += WEIGHT[level];
    }
  }
  return weight > 0 ? sum / weight : fallback;
}

/**
 * Actions whose text contains one of `needles`, case-insensitively. Files
 * written by other tools may hold `null` or object actions: like the
 * reference tool, null is skipped and anything else is read as Python's
 * `str(action)` would print it.
 */
export function countActions(actions: readonly unknown[], needles: readonly string[]): number {
  return actions.filter((a) => {
    if (a === null || a === undefined) return false;
    const lower = pythonStr(a).toLowerCase();
    return needles.some((n) => lower.includes(n));
  }).length;
}

/** Python's `str()` of a JSON value, so substring rules match the reference tool's on any action. */
export function pythonStr(v: unknown): string {
  return typeof v === 'string' ? v : pythonRepr(v);
}

function pythonRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pythonRepr).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${pythonRepr(k)}: ${pythonRepr(x)}`).join(', ')}}`;
  return String(v);
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
