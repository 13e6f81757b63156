/**
 * Playbooks ace-orch's merge would damage, refused before any write. Pure. The merge keys observations
 * by `episode_id` (src/core/merge.ts); two kinds of playbook hold several observations per id, and
 * merging would keep one of each:
 *
 * - the reference tool's molecular mode (`_is_molecular_domain` in its `ace_playbook.py`: one of the
 *   first three observations has a molecular key, at its top level or in its `context`), which keys
 *   observations by `molecule_id` or `smiles` and keeps up to 10,000;
 * - any other playbook whose observations share an id with different content.
 */
import { BadInputError } from './errors.js';
import { pythonConstantsIn } from './python-json.js';
import type { Playbook } from './types.js';

/** The reference tool's molecular indicators, checked as it checks them. */
const MOLECULAR_KEYS = ['smiles', 'molecule', 'molecular_weight', 'descriptors', 'compound', 'solubility'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when the reference tool would treat these observations as a molecular domain. */
export function isMolecular(observations: readonly unknown[]): boolean {
  return observations.slice(0, 3).some((o) => isObject(o) && MOLECULAR_KEYS.some((k) => k in o || (isObject(o['context']) && k in o['context'])));
}

/** Why merging into these observations would drop some, or null when it would not. */
export function unmergeableReason(observations: readonly { episode_id: string }[]): string | null {
  if (isMolecular(observations)) {
    return `holds observations in the reference tool's molecular mode (keyed by molecule_id or smiles, up to 10000), which ace-orch, merging by episode_id, would collapse`;
  }
  const first = new Map<string, string>();
  const clashes = new Map<string, number>();
  for (const o of observations) {
    const text = JSON.stringify(o);
    const seen = first.get(o.episode_id);
    if (seen === undefined) first.set(o.episode_id, text);
    else if (seen !== text) clashes.set(o.episode_id, (clashes.get(o.episode_id) ?? 1) + 1);
  }
  if (clashes.size === 0) return null;
  const [id, n] = [...clashes][0]!;
  return `holds different observations under one episode_id (${clashes.size === 1 ? '' : `${clashes.size} ids, e.g. `}\`${id}\` ×${n}), of which ace-orch's merge would keep one`;
}

/**
 * Throws a BadInputError naming `file` when writing `playbook` would change what it holds beyond the merge: observations
 * collapsed under one id, or Python's NaN and Infinity (read as null) written back as null. Nothing is written.
 */
export function assertMergeable(playbook: Playbook, file: string): void {
  const reason = unmergeableReason(playbook.observations);
  if (reason) throw new BadInputError(`${file} ${reason}; nothing was written`, file);
  const constants = pythonConstantsIn(playbook);
  if (constants) {
    throw new BadInputError(`${file} holds ${constants} NaN or Infinity value${constants === 1 ? '' : 's'} (Python's json.dump writes them; JSON cannot hold them), which a write would turn into null; nothing was written`, file);
  }
}
