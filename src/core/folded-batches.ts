/**
 * Which pending batches a playbook already holds: the ids of the batches
 * other processes queued (src/store/pending.ts), recorded in the playbook by
 * the holder that folded them, in the same write. Pure.
 *
 * A bounded list of the most recent ids, under its own top-level key: the
 * observations' cap may rank a batch's observations out, its id stays. A
 * waiter whose id has scrolled off learns it from its batch file instead,
 * which a holder removes only once the fold is durable.
 */
import type { Playbook } from './types.js';

export const FOLDED_KEY = 'folded_batches';
/** Ids kept: more than the batches of any one commit (one per waiting process), few enough to keep the file small. */
const FOLDED_KEEP = 64;

export function foldedBatches(playbook: Playbook): string[] {
  const ids = playbook[FOLDED_KEY];
  return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
}

/** The playbook with `ids` appended to its folded list, the oldest dropped beyond `keep`. */
export function withFolded(playbook: Playbook, ids: readonly string[], keep = FOLDED_KEEP): Playbook {
  if (ids.length === 0) return playbook;
  const known = foldedBatches(playbook);
  const fresh = ids.filter((id) => !known.includes(id));
  return { ...playbook, [FOLDED_KEY]: [...known, ...fresh].slice(-keep) };
}
