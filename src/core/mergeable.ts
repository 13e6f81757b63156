/**
 * Playbooks ace-orch's merge would damage, refused before any write. Pure. The merge keys observations
 * by `episode_id` (src/core/merge.ts): a playbook holding different observations under one id would
 * keep one of each. The reference tool's molecular mode writes such playbooks (it keys observations by
 * `molecule_id` or `smiles` and keeps up to 10,000; `_is_molecular_domain` in its `ace_playbook.py`),
 * and the message says so when its rule matches. A molecular key alone is no reason to refuse: an
 * ace-orch domain may put `compound` in its context, and its observations have one id each.
 */
import { BadInputError } from './errors.js';
import { pythonConstantsIn, roundedIntegersIn } from './python-json.js';
import type { Playbook } from './types.js';
import { isObject } from './validate.js';

/** The reference tool's molecular indicators, checked as it checks them. */
const MOLECULAR_KEYS = ['smiles', 'molecule', 'molecular_weight', 'descriptors', 'compound', 'solubility'];

/** True when the reference tool would treat these observations as a molecular domain. */
export function isMolecular(observations: readonly unknown[]): boolean {
  return observations.slice(0, 3).some((o) => isObject(o) && MOLECULAR_KEYS.some((k) => k in o || (isObject(o['context']) && k in o['context'])));
}

/** JSON with every object's keys sorted: the same observation written with its keys in another order is the same. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (isObject(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x));
}

/** Why merging into these observations would drop some, or null when it would not. */
export function unmergeableReason(observations: readonly { episode_id: string }[]): string | null {
  // Every merge asks, under the lock: one id each (the usual case) is settled without serializing anything.
  if (new Set(observations.map((o) => o.episode_id)).size === observations.length) return null;
  const first = new Map<string, string>();
  const clashes = new Map<string, number>();
  for (const o of observations) {
    const text = canonical(o);
    const seen = first.get(o.episode_id);
    if (seen === undefined) first.set(o.episode_id, text);
    else if (seen !== text) clashes.set(o.episode_id, (clashes.get(o.episode_id) ?? 1) + 1);
  }
  if (clashes.size === 0) return null;
  const [id, n] = [...clashes][0]!;
  const mode = isMolecular(observations) ? " (the reference tool's molecular mode, which keys observations by molecule_id or smiles and keeps up to 10000)" : '';
  return `holds different observations under one episode_id${mode} (${clashes.size === 1 ? '' : `${clashes.size} ids, e.g. `}\`${id}\` ×${n}), of which ace-orch's merge, keyed by episode_id, would keep one`;
}

/** What a text holding `n` numbers JavaScript cannot write back digit for digit holds, said once for every message. */
export function roundedPhrase(n: number): string {
  return `holds ${n} integer${n === 1 ? '' : 's'} beyond 2^53 or too large for a double (Python writes integers of any size)`;
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
  const rounded = roundedIntegersIn(playbook);
  if (rounded) {
    throw new BadInputError(`${file} ${roundedPhrase(rounded)}, which a write would store in other digits; nothing was written`, file);
  }
}
