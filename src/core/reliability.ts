/**
 * How the playbook ranks a reliability it finds on disk. Pure.
 *
 * ace-orch writes HIGH, MEDIUM and LOW. Playbooks and episode files written by
 * the reference tool's other scripts also carry `SYNTHETIC_HIGH`,
 * `SYNTHETIC_MEDIUM` and `SYNTHETIC_LOW`, and anything may appear in a
 * hand-edited file. The rule is the reference tool's own priority
 * (`_reliability_priority` in `ace_playbook.py`), so the audit predicts what
 * that tool kept:
 *
 *   HIGH > SYNTHETIC_HIGH > MEDIUM = SYNTHETIC_MEDIUM > LOW = SYNTHETIC_LOW > anything else
 */
import type { Reliability } from './types.js';

const RANK: Readonly<Record<string, number>> = { HIGH: 0, SYNTHETIC_HIGH: 1, MEDIUM: 2, SYNTHETIC_MEDIUM: 2, LOW: 3, SYNTHETIC_LOW: 3 };
/** Where a reliability the table does not name sorts: after LOW. */
const UNKNOWN_RANK = 4;

/** Smaller sorts first (kept first under the cap). */
export function reliabilityRank(r: unknown): number {
  return typeof r === 'string' && Object.hasOwn(RANK, r) ? RANK[r]! : UNKNOWN_RANK;
}

/** True for the three reliabilities ace-orch itself writes. */
export function isStandardReliability(r: unknown): r is Reliability {
  return r === 'HIGH' || r === 'MEDIUM' || r === 'LOW';
}

/** The level a reliability stands for (`SYNTHETIC_HIGH` → HIGH), or null when it names none. */
export function baseReliability(r: unknown): Reliability | null {
  if (isStandardReliability(r)) return r;
  if (typeof r === 'string' && r.startsWith('SYNTHETIC_')) {
    const base = r.slice('SYNTHETIC_'.length);
    return isStandardReliability(base) ? base : null;
  }
  return null;
}
