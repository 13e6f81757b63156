/**
 * The playbook merge rules. Pure: no I/O, no clock, no randomness.
 *
 * Every rule is "dedupe, then keep the top K of a total order". Top-K of a
 * total order is associative and idempotent, so the merged playbook does not
 * depend on the order deltas arrive in, how they are batched, or whether a
 * delta is applied twice (a retried write cannot duplicate anything).
 */
import { reliabilityRank } from './reliability.js';
import type { Deltas, Observation, ObservationKey, Playbook, SectionEntry, SectionName } from './types.js';
import { SECTION_NAMES } from './types.js';

/** Observations kept per playbook unless the experiment says otherwise. */
export const DEFAULT_CAP = 10;
/** Entries kept in each of the other sections. */
export const SECTION_KEEP = 10;

/** Plain code-unit comparison: locale-independent, the same on every machine. */
function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Playbook order: HIGH before MEDIUM before LOW (other reliabilities by the rule in
 * src/core/reliability.ts), then higher score, then episode_id ascending. An observation another
 * tool wrote without a reliability or a score ranks as the reference tool ranks it: LOW, 0.
 */
export function compareObservations(a: ObservationKey, b: ObservationKey): number {
  return reliabilityRank(a.reliability ?? 'LOW') - reliabilityRank(b.reliability ?? 'LOW') || scoreOf(b) - scoreOf(a) || cmpStr(a.episode_id, b.episode_id);
}

/** An observation's score as the merge ranks it: 0 when another tool wrote none. */
export const scoreOf = (o: ObservationKey): number => (typeof o.score === 'number' ? o.score : 0);

/**
 * Most recent first; then the later source episode first, then content, so the order is total. The
 * reference tool's entries carry no timestamp, and its episode ids carry their time
 * (`ep_YYYYMMDD_HHMMSS`, or a run's own time-ordered ids), so among them the later id is the newer.
 */
export function compareSectionEntries(a: SectionEntry, b: SectionEntry): number {
  return cmpStr(b.timestamp ?? '', a.timestamp ?? '') || cmpStr(b.source_episode, a.source_episode) || cmpStr(a.content, b.content);
}

/**
 * Dedupe by key and keep the first `keep` under `compare`. When two entries
 * share a key, the one that sorts first (then the smaller JSON) wins, so even
 * conflicting duplicates merge the same way in any order.
 */
function topK<T>(items: readonly T[], keyOf: (t: T) => string, compare: (a: T, b: T) => number, keep: number): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) {
    const key = keyOf(item);
    const seen = byKey.get(key);
    if (seen === undefined || prefer(item, seen, compare) < 0) byKey.set(key, item);
  }
  return [...byKey.values()].sort(compare).slice(0, keep);
}

function prefer<T>(a: T, b: T, compare: (a: T, b: T) => number): number {
  return compare(a, b) || cmpStr(JSON.stringify(a), JSON.stringify(b));
}

export function mergeObservations(current: readonly Observation[], incoming: readonly Observation[], cap = DEFAULT_CAP): Observation[] {
  return topK([...current, ...incoming], (o) => o.episode_id, compareObservations, cap);
}

/**
 * The `keep` most recent entries, written oldest first and newest last: the reference tool reads a
 * section's end as its newest (its prompts show the last 3, its saves keep the last 10), so a newer
 * entry written first would be the first it drops.
 */
export function mergeSection(current: readonly SectionEntry[], incoming: readonly SectionEntry[], keep = SECTION_KEEP): SectionEntry[] {
  return topK([...current, ...incoming], (e) => JSON.stringify([e.source_episode, e.content]), compareSectionEntries, keep).reverse();
}

export function emptyPlaybook(): Playbook {
  return { observations: [], strategies_and_rules: [], troubleshooting: [], context_patterns: [] };
}

export function emptyDeltas(): Deltas {
  return { observations: [], strategies_and_rules: [], troubleshooting: [], context_patterns: [] };
}

/** Concatenates deltas, for a committer that merges several episodes under one lock. */
export function combineDeltas(all: readonly Deltas[]): Deltas {
  const out = emptyDeltas();
  for (const d of all) {
    out.observations.push(...d.observations);
    for (const s of SECTION_NAMES) out[s].push(...d[s]);
  }
  return out;
}

/**
 * Applies deltas to the state read under the lock. Unknown top-level keys of
 * the current playbook (written by other tools) are carried over unchanged.
 */
export function applyDeltas(current: Playbook, deltas: Deltas, cap = DEFAULT_CAP): Playbook {
  const next: Playbook = { ...current, observations: mergeObservations(current.observations, deltas.observations, cap) };
  for (const s of SECTION_NAMES) next[s as SectionName] = mergeSection(current[s], deltas[s]);
  return next;
}

/** True when applying deltas would change nothing, so the write can be skipped. */
export function sameContent(a: Playbook, b: Playbook): boolean {
  if (a.observations.length !== b.observations.length) return false;
  // The usual case, a new episode kept, differs in its ids: decided without serializing the playbook.
  if (a.observations.some((o, i) => o.episode_id !== b.observations[i]!.episode_id)) return false;
  for (const key of ['observations', ...SECTION_NAMES] as const) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return false;
  }
  return true;
}
