import type { Observation, Playbook, Reliability, Trajectory } from '../core/types.js';
import type { Rng } from '../core/rng.js';
import { baseReliability } from '../core/reliability.js';

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
 * What an episode knows about itself and its run, passed to {@link Domain.play}
 * as its fourth argument. Synchronous domains may ignore it.
 */
export interface EpisodeContext {
  /** The episode's id: the same for every attempt, and the name of its episode file. */
  readonly episodeId: string;
  /** The episode's index within its domain in this run (0-based). */
  readonly index: number;
  /** 0 for the first attempt, then 1, 2, ... when `--retries` re-plays a failed attempt. */
  readonly attempt: number;
  /**
   * Fires when the attempt times out (`--episode-timeout`) or the run is interrupted
   * (Ctrl-C, SIGTERM); not on `--max-failures`, which lets in-flight episodes finish.
   * Pass it to your HTTP client so requests stop too.
   * On a timeout the attempt is abandoned whether or not `play` heeds the signal:
   * whatever it returns later is dropped, never written or merged.
   */
  readonly signal: AbortSignal;
  /**
   * The domain's whole playbook as read when the attempt started: observations,
   * strategies_and_rules, troubleshooting and context_patterns. ACE gives it to
   * the agent as context. Read-only: the episode adds to it through its result.
   * Freshness: each attempt reads the file when it starts, so it holds every
   * observation acknowledged before then (an episode is acknowledged only once its
   * merge is durable) that the cap kept; episodes still committing may be missing.
   * (`--no-lock`, the pre-fix write path, overwrites observations by design: no such promise.)
   */
  readonly playbook: Readonly<Playbook>;
}

/**
 * A domain is one module behind this interface. Register your own with
 * `registerDomain` (src/domains/index.ts), or list its file in an experiment's `modules`.
 *
 * `play` may be synchronous (the built-in domains) or `async` (an agent calling
 * a language model). An async domain, in full:
 *
 * ```js
 * export default {
 *   name: 'coin',
 *   async play(world, rng, prior, ctx) {
 *     const bias = world.next();
 *     const flips = [];
 *     for (let i = 0; i < 5; i++) {
 *       // Stands in for a model call; a real agent passes ctx.signal to its HTTP client.
 *       await new Promise((resolve) => setTimeout(resolve, 100));
 *       ctx.signal.throwIfAborted();
 *       flips.push(rng.chance(bias));
 *     }
 *     const estimate = (flips.filter(Boolean).length + 1) / (flips.length + 2);
 *     return {
 *       trajectory: { actions: flips.map(() => 'flip()'), observations: flips.map((heads) => ({ heads })) },
 *       beliefs: { bias: estimate },
 *       score: 1 - Math.abs(estimate - bias),
 *       context: { attempt: ctx.attempt, strategies_seen: ctx.playbook.strategies_and_rules.length },
 *       patterns: [],
 *       failures: [],
 *       lesson: 'five flips give a rough bias',
 *     };
 *   },
 *   reflect: (trajectory) => ({ reliability: trajectory.actions.length >= 5 ? 'HIGH' : 'LOW', reason: 'flip count' }),
 * };
 * ```
 *
 * An error thrown (or a rejected promise) fails the attempt; it is retried
 * under `--retries` unless the error has `retryable: false`.
 */
export interface Domain {
  readonly name: string;
  /**
   * Plays one episode. The hidden world is drawn from `world` (the same for
   * every episode of a run's domain), the agent's actions from `rng` only, so
   * a synchronous built-in domain's trajectory is a function of (seed, domain,
   * episode index); `prior` (the playbook's observations when the episode
   * started) may shape beliefs, never actions. `ctx` is optional for callers
   * that play built-in domains directly (the benches).
   */
  play(world: Rng, rng: Rng, prior: readonly Observation[], ctx?: EpisodeContext): DomainPlay | Promise<DomainPlay>;
  /** The reference reflection rules: reliability from the trajectory alone. */
  reflect(trajectory: Trajectory): Reflection;
}

/** A domain whose `play` returns its result at once, as the built-in domains do. */
export interface SyncDomain extends Domain {
  play(world: Rng, rng: Rng, prior: readonly Observation[], ctx?: EpisodeContext): DomainPlay;
}

const WEIGHT: Record<Reliability, number> = { HIGH: 3, MEDIUM: 2, LOW: 1 };

/** Reliability-weighted mean of a numeric belief across prior observations, or `fallback`. */
export function priorBelief(prior: readonly Observation[], key: string, fallback: number): number {
  let sum = 0;
  let weight = 0;
  for (const o of prior) {
    const v = o.beliefs?.[key];
    // A reliability naming no level (see src/core/reliability.ts) carries no weight.
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
function pythonStr(v: unknown): string {
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
