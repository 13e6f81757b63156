/**
 * The cap is a property of the store, not of a run. Pure: the store's I/O
 * side (src/store/store-meta.ts) reads what is on disk and asks these
 * functions what to do.
 *
 * - A store ace-orch created records its cap in `metadata/store.json` at its
 *   first write (older ace-orch stores: in their run manifests).
 * - `run` and `repair` without `--cap` use the recorded cap. `--cap` equal to
 *   it, or larger (raising drops nothing; the new cap is recorded and said on
 *   stderr), is accepted; smaller is refused with exit 2 naming both, because
 *   a lower cap would drop observations the store promised to keep.
 * - A store with no recorded cap and playbooks (one the reference tool wrote)
 *   takes `--cap` if given, but never below what a playbook holds (if one holds
 *   more, nothing is written and the user is told the flag to pass); without
 *   `--cap`, the cap the audit infers: the reference tool's 100, or its largest
 *   playbook if larger. An empty new store takes `--cap`, else 10.
 */
import { CapRefusedError, SettingError } from './errors.js';
import { DEFAULT_CAP } from './merge.js';
import type { RunManifest } from './types.js';

/** The reference tool's cap for its toy domains (`MAX_TOY_OBSERVATIONS` in `ace_playbook.py`). */
export const REFERENCE_CAP = 100;
/** The cap of the reference tool's earlier version (commit 7e84754). */
const EARLY_REFERENCE_CAP = 10;

/** A cap the store already has, and where it is written. */
export interface RecordedCap {
  cap: number;
  /** The file that records it: `metadata/store.json`, or a run manifest of an older ace-orch store. */
  source: string;
}

/** How many observations a playbook holds now. */
/** What a store records about its cap (`metadata/store.json`, or the PostgreSQL `meta` row). */
export interface CapRecord {
  /** Observations each playbook of this store keeps. */
  cap: number;
  recorded_by: 'ace-orch';
  recorded_at: string;
  /** Earlier caps, oldest first, when the cap was raised. */
  previous_caps?: number[];
}

/** The record after writing `cap`: earlier caps are kept, the one replaced is appended. */
export function nextCapRecord(previous: CapRecord | null, cap: number, now: string): CapRecord {
  const earlier = previous && previous.cap !== cap ? [...(previous.previous_caps ?? []), previous.cap] : previous?.previous_caps;
  return { cap, recorded_by: 'ace-orch', recorded_at: now, ...(earlier ? { previous_caps: earlier } : {}) };
}

/** For a store written before the cap was recorded: the largest cap any of its run manifests names. */
export function capFromManifests(manifests: readonly RunManifest[], sourceOf: (m: RunManifest) => string): RecordedCap | null {
  let best: RecordedCap | null = null;
  for (const m of manifests) {
    const cap = m.config?.cap;
    if (typeof cap === 'number' && (!best || cap > best.cap)) best = { cap, source: sourceOf(m) };
  }
  return best;
}

export interface PlaybookSize {
  domain: string;
  file: string;
  observations: number;
}

export interface CapDecision {
  cap: number;
  /** True when `metadata/store.json` must be (re)written: a first write, or a raised cap. */
  record: boolean;
  /** A line for stderr when the decision changes the store (a raised cap). */
  note?: string;
}

/**
 * The cap a writing command (`run`, `repair`) uses, or a BadInputError (exit 2)
 * before anything is written. `requested` is `--cap` (or the experiment
 * file's `cap`); undefined when the user asked for none.
 */
export function decideWriteCap(recorded: RecordedCap | null, requested: number | undefined, sizes: readonly PlaybookSize[], only?: readonly string[]): CapDecision {
  let decision: CapDecision;
  if (recorded === null && requested === undefined && sizes.length > 0) {
    // Playbooks and no record: another tool's store (the reference keeps up to REFERENCE_CAP). Its cap, as the audit
    // infers it, not the default of a new store, which would rank out observations the store was keeping.
    const { cap } = inferAuditCap(undefined, null, sizes);
    decision = { cap, record: true, note: `this store records no cap (it was not created by ace-orch): using ${cap}, the reference tool's cap${cap > REFERENCE_CAP ? ' raised to its largest playbook' : ''}, as the audit does, so nothing it holds is ranked out; recorded in the store; --cap overrides` };
  } else if (recorded === null) decision = { cap: requested ?? DEFAULT_CAP, record: true };
  else if (requested === undefined || requested === recorded.cap) decision = { cap: recorded.cap, record: false };
  else if (requested > recorded.cap) {
    decision = { cap: requested, record: true, note: `cap raised from ${recorded.cap} to ${requested} for this store (recorded in ${recorded.source}); nothing it holds is dropped` };
  } else {
    throw new CapRefusedError(requested, recorded.cap, recorded.source);
  }
  // Every playbook counts for the cap a store without one takes; only those the command writes can refuse it.
  const over = sizes.filter((s) => s.observations > decision.cap && (!only || only.includes(s.domain))).sort((a, b) => b.observations - a.observations);
  if (over.length) {
    const worst = over[0]!;
    const list = over.map((s) => `${s.file} holds ${s.observations}`).join(', ');
    throw new SettingError(
      (n) => `${list} observations, more than the cap of ${decision.cap}${recorded ? '' : ' (this store records no cap: it was not created by ace-orch)'}; nothing was written. To keep every observation, ${n.give('cap', worst.observations)} or more`,
      worst.file,
    );
  }
  return decision;
}

/** The cap the audit ranks by, and why: it is printed under the table and in `--json`. */
export interface AuditCap {
  cap: number;
  reason: string;
}

/**
 * The audit's cap: `--cap`, else the store's recorded cap, else (a store
 * ace-orch did not create) the larger of the reference tool's cap and the
 * largest playbook, so observations a playbook legitimately holds are never
 * read as ranked out and loss is never under-counted.
 */
export function inferAuditCap(flag: number | undefined, recorded: RecordedCap | null, sizes: readonly PlaybookSize[], from: 'flag' | 'run' = 'flag'): AuditCap {
  if (flag !== undefined) return { cap: flag, reason: from === 'run' ? 'the cap this run merged with' : 'as given by --cap' };
  if (recorded) return { cap: recorded.cap, reason: `the store's cap, recorded in ${recorded.source}` };
  const largest = [...sizes].sort((a, b) => b.observations - a.observations)[0];
  if (largest && largest.observations > REFERENCE_CAP) {
    return { cap: largest.observations, reason: `this store records no cap; inferred from its largest playbook (${largest.domain}, ${largest.observations} observations), above the reference tool's ${REFERENCE_CAP}; --cap overrides` };
  }
  // Every playbook holding exactly 10: the mark of the reference tool's earlier version (7e84754), which kept 10.
  const tens = sizes.length > 0 && sizes.every((s) => s.observations === EARLY_REFERENCE_CAP);
  const hint = tens ? `; every playbook holds exactly ${EARLY_REFERENCE_CAP}: if the reference tool's earlier version, which keeps ${EARLY_REFERENCE_CAP}, wrote this store, \`--cap ${EARLY_REFERENCE_CAP}\` audits it by that cap` : '';
  return { cap: REFERENCE_CAP, reason: `this store records no cap; assumed the reference tool's cap of ${REFERENCE_CAP} (no playbook holds more); --cap overrides${hint}` };
}

/**
 * The last guard, inside every merge: a playbook holding more distinct
 * observations than the merge's cap was not written under this cap (another
 * tool, or a cap raised by a concurrent run). Merging would cut it; refuse instead.
 */
export function assertWithinCap(observations: readonly { episode_id: string }[], cap: number, file: string): void {
  const held = new Set(observations.map((o) => o.episode_id)).size;
  if (held > cap) {
    throw new SettingError((n) => `${file} holds ${held} observations, more than the cap of ${cap}; nothing was written. To keep every observation, ${n.give('cap', held)} or more`, file);
  }
}
