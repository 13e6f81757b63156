/**
 * What the reference tool drops by itself, with no concurrency at all. Pure.
 *
 * Its `merge_deltas` (`ace_playbook.py`, commit 5855295) appends an episode's observation to the
 * playbook it loaded when it started, and keeps the top 10 of that in memory (HIGH, then MEDIUM,
 * then anything else; then score; ties keep their order, so the new one loses them); its
 * `save_playbook` then merges memory into the file under the lock. An observation that did not
 * make that top 10 never reaches the file, although ace-orch's rule (the top `cap` of every
 * episode) keeps it. Replaying its saves one episode at a time, in the order of their files'
 * timestamps, tells those apart from observations lost to concurrent writers; a process that kept
 * one playbook in memory across episodes would have dropped others, so the replay is a guide, said
 * as such, and changes no count. In a store ace-orch writes too, ace-orch's episodes take their
 * place in the same order: each goes into the playbook by ace-orch's rule (no in-memory cut), and a
 * reference save after it loads it.
 */
import { scoreOf } from './merge.js';
import { reliabilityRank } from './reliability.js';
import type { ObservationKey } from './types.js';

/** The in-memory cut of merge_deltas. */
const IN_MEMORY_KEEP = 10;

/** One episode, as the replay needs it. */
export interface ReplayEpisode {
  key: ObservationKey;
  /** The episode file's `timestamp`: its save's place in the replay. */
  timestamp: string;
  /** Merged by ace-orch (its file holds the observation), not saved by the reference tool. @default false */
  aceOrch?: boolean;
}

/** merge_deltas' own order, which knows HIGH and MEDIUM only: 1, 0, -1 for anything else. */
const memoryRank = (r: unknown): number => (r === 'HIGH' ? 1 : r === 'MEDIUM' ? 0 : -1);

/** True when `a` sorts strictly before `b` under `rank` (descending, ties false). */
function before(a: ObservationKey, b: ObservationKey, rank: (r: unknown) => number): boolean {
  return rank(a.reliability) > rank(b.reliability) || (rank(a.reliability) === rank(b.reliability) && scoreOf(a) > scoreOf(b));
}

/**
 * The ids of the reference tool's `episodes` that it, saving them one at a time in timestamp order
 * (ace-orch's episodes merged in the same order) under a file cap of `cap`, would never have written
 * to its playbook.
 */
export function droppedByReferenceAlone(episodes: readonly ReplayEpisode[], cap: number): Set<string> {
  const ordered = [...episodes].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.key.episode_id < b.key.episode_id ? -1 : 1));
  const reference = new Set(episodes.filter((e) => !e.aceOrch).map((e) => e.key.episode_id));
  let file: ObservationKey[] = [];
  const dropped = new Set<string>();
  for (const { key, aceOrch } of ordered) {
    // In memory: the loaded file, then this one; it stays only if fewer than 10 of the file's rank at or above it.
    const atOrAbove = file.filter((k) => !before(key, k, memoryRank)).length;
    if (!aceOrch && atOrAbove >= IN_MEMORY_KEEP) {
      dropped.add(key.episode_id);
      continue;
    }
    file = [...file.filter((k) => k.episode_id !== key.episode_id), key];
    if (file.length > cap) {
      // save_playbook's cut: its own priority (src/core/reliability.ts), then score; a stable sort keeps arrival order.
      const fileRank = (r: unknown): number => -reliabilityRank(r ?? 'LOW');
      const kept = [...file].sort((a, b) => (before(a, b, fileRank) ? -1 : before(b, a, fileRank) ? 1 : 0)).slice(0, cap);
      for (const k of file) if (!kept.includes(k) && reference.has(k.episode_id)) dropped.add(k.episode_id);
      file = kept;
    }
  }
  return dropped;
}
