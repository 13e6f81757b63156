/**
 * What the reference tool (`ace_playbook.py`) makes of an episode file it
 * wrote: the observation and section entries its reflect/curate steps add.
 * Pure. The audit uses it to know what a reference episode should have left
 * in the playbook; `repair` uses it to put exactly that back.
 */
import type { Domain } from '../domains/domain.js';
import { chemTile } from '../domains/chem_tile.js';
import { hotPot } from '../domains/hot_pot.js';
import { switchLight } from '../domains/switch_light.js';
import type { Deltas, EpisodeRecord, Observation, Trajectory } from './types.js';

/**
 * Where the audit finds a domain's reflection rules. The rules reach this pure
 * code as a parameter: the I/O layers that own the domain registry (a run
 * with user modules, the library after `registerDomain`) pass its lookup.
 */
export type ReflectionRules = (domain: string) => Pick<Domain, 'reflect'> | undefined;

const BUILT_IN = new Map<string, Pick<Domain, 'reflect'>>([hotPot, chemTile, switchLight].map((d) => [d.name, d]));

/** The built-in domains' rules: the default where no registry is given. */
export const builtInReflection: ReflectionRules = (name) => BUILT_IN.get(name);

/**
 * The reflection rules for a domain folder. Like the reference, `hot_pot_test`
 * and `hot_pot_controlled` use hot_pot's rules.
 */
function reflectionDomain(name: string, rules: ReflectionRules): Pick<Domain, 'reflect'> | undefined {
  return rules(name) ?? rules(name.replaceAll('_test', '').replaceAll('_controlled', ''));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The trajectory as the rules read it: missing lists are empty; null entries stay (the rules skip them). */
function trajectoryOf(record: { trajectory?: unknown }): Trajectory {
  const t = isObject(record.trajectory) ? record.trajectory : {};
  return {
    actions: (Array.isArray(t['actions']) ? t['actions'] : []) as string[],
    observations: (Array.isArray(t['observations']) ? t['observations'] : []) as Record<string, unknown>[],
  };
}

/** Python's `f"{x:.0f}"`: round half to even, as the reference prints percentages. */
function pyPercent(score: number): string {
  const x = score * 100;
  const r = Math.round(x);
  return String(Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r);
}

/** hot_pot's `context` in the reference: the one power setting seen, else MIXED or UNKNOWN. */
function hotPotContext(trajectory: Trajectory, reliability: string): Record<string, unknown> {
  if (reliability === 'LOW') return { power_setting: 'MIXED' };
  const first = (trajectory.observations as unknown[]).find((o) => isObject(o) && 'power_setting' in o) as Record<string, unknown> | undefined;
  return { power_setting: reliability === 'HIGH' && first ? first['power_setting'] : 'UNKNOWN' };
}

/**
 * The deltas the reference tool's curate step makes from an episode file
 * without `outcome.observation`: beliefs are the trajectory's
 * `final_beliefs`, reliability and reason come from the domain's reflection
 * rules (MEDIUM when the domain is unknown, as the reference defaults),
 * patterns and failures from the score, one strategy per pattern when the
 * episode scored above 0.8 with HIGH reliability, one troubleshooting entry
 * per failure. Like the reference's own, the entries carry no timestamp: the
 * "most recent 10" rule places them, as it places the entries the reference
 * wrote into the playbook, by the later episode id (src/core/merge.ts). Stamped
 * with the file's time, a re-merged old entry would rank above every entry
 * the reference wrote, and push out its newest.
 */
export function referenceDeltas(record: EpisodeRecord, domainName: string, rules: ReflectionRules = builtInReflection): Deltas {
  const domain = reflectionDomain(domainName, rules);
  const trajectory = trajectoryOf(record);
  const reflection = domain ? domain.reflect(trajectory) : { reliability: 'MEDIUM' as const, reason: '' };
  const score = record.outcome.score;
  const rawTrajectory: Record<string, unknown> = isObject(record.trajectory) ? record.trajectory : {};
  const id = typeof rawTrajectory['episode_id'] === 'string' ? rawTrajectory['episode_id'] : record.episode_id;
  const patterns = score > 0.7 ? [`Achieved ${pyPercent(score)}% accuracy`] : [];
  const failures = score < 0.5 ? [`Low score: ${pyPercent(score)}%`] : [];
  const base = domainName.replaceAll('_test', '').replaceAll('_controlled', '');
  const observation: Observation = {
    episode_id: id,
    timestamp: record.timestamp,
    score,
    beliefs: isObject(rawTrajectory['final_beliefs']) ? rawTrajectory['final_beliefs'] : {},
    context: base === 'hot_pot' ? hotPotContext(trajectory, reflection.reliability) : {},
    reliability: reflection.reliability,
    reason: reflection.reason,
    metadata: { patterns, failures },
  };
  return {
    observations: [observation],
    strategies_and_rules: score > 0.8 && reflection.reliability === 'HIGH' ? patterns.map((content) => ({ content, confidence: score, source_episode: id })) : [],
    troubleshooting: failures.map((content) => ({ content, source_episode: id })),
    context_patterns: [],
  };
}

/** The deltas an episode file stands for: its own when ace-orch wrote it, else the reference tool's rules. */
export function deltasOfEpisode(record: EpisodeRecord, domainName: string, rules: ReflectionRules = builtInReflection): Deltas {
  const own = record.outcome.observation;
  if (!own) return referenceDeltas(record, domainName, rules);
  const s = record.outcome.sections;
  return {
    observations: [own],
    strategies_and_rules: s?.strategies_and_rules ?? [],
    troubleshooting: s?.troubleshooting ?? [],
    context_patterns: s?.context_patterns ?? [],
  };
}
