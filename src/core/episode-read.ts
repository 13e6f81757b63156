/**
 * Reads an episode file for the audit without ever stopping on it. Pure:
 * text in, a usable record (perhaps with notes) or a finding out. Files the
 * reference tool and its sibling scripts write vary: no `outcome` (synthetic
 * episodes), `null` or object actions, `null` observations, reliabilities
 * such as `SYNTHETIC_HIGH`. Each is a finding the audit reports, never exit 2 or 3.
 */
import { isStandardReliability } from './reliability.js';
import type { EpisodeRecord } from './types.js';
import { notJsonReason, show } from './validate.js';
import { parsePythonJson } from './python-json.js';

/** An episode file the audit could not use, or used with a caveat. */
export interface FileFinding {
  file: string;
  /** When the file names one. */
  episode_id?: string;
  /** False: the file was skipped (counted as unreadable). True: used, with this note. */
  used: boolean;
  problem: string;
}

export type EpisodeRead = { ok: true; record: EpisodeRecord; notes: string[] } | { ok: false; finding: FileFinding };

/** Top-level keys of episode files written by ace-orch or the reference tool. */
const KNOWN_KEYS = new Set(['episode_id', 'timestamp', 'trajectory', 'outcome', 'run_id', 'domain', 'index']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScore(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function readEpisodeText(text: string, file: string): EpisodeRead {
  const skip = (problem: string, episode_id?: string): EpisodeRead => ({ ok: false, finding: { file, ...(episode_id ? { episode_id } : {}), used: false, problem } });
  // A file that names no episode is still the file of the episode it is named after (`<episode_id>.json`): its
  // observation in the playbook is not one without a file, and no run's episode is missing its file.
  const named = /([^/\\]+)\.json$/.exec(file)?.[1];
  let v: unknown;
  try {
    // Python's json.dump writes NaN and Infinity (read as null here): the reference tool's files may hold them.
    v = parsePythonJson(text);
  } catch (err) {
    return skip(notJsonReason(text, err), named);
  }
  if (!isObject(v)) return skip('not a JSON object', named);
  const id = typeof v['episode_id'] === 'string' && v['episode_id'] !== '' ? v['episode_id'] : undefined;
  if (!id) return skip('no `episode_id` string', named);
  const unknown = Object.keys(v).filter((k) => !KNOWN_KEYS.has(k));
  const extra = unknown.length ? `; unknown fields ${unknown.slice(0, 4).join(', ')}${unknown.length > 4 ? ', …' : ''}` : '';
  const outcome = v['outcome'];
  if (!isObject(outcome)) {
    const rel = typeof v['reliability'] === 'string' ? ` (reliability ${v['reliability']}: written by another tool)` : '';
    return skip(`no \`outcome\` object${rel}${extra}`, id);
  }
  const notes: string[] = [];
  if (unknown.length) notes.push(`unknown fields ${unknown.slice(0, 4).join(', ')}${unknown.length > 4 ? ', …' : ''}`);
  const o = outcome['observation'];
  if (o !== undefined) {
    if (!isObject(o) || typeof o['episode_id'] !== 'string' || !isScore(o['score']) || typeof o['reliability'] !== 'string') {
      return skip(`\`outcome.observation\` is not an observation (needs episode_id, numeric score, reliability): ${show(o)}`, id);
    }
    if (!isStandardReliability(o['reliability'])) notes.push(`reliability ${o['reliability']} ranked by the documented rule`);
  } else if (!isScore(outcome['score'])) {
    return skip(`neither \`outcome.observation\` nor a numeric \`outcome.score\` (got ${show(outcome['score'])})`, id);
  }
  const t = v['trajectory'];
  if (t !== undefined && !isObject(t)) notes.push('`trajectory` is not an object: read as empty');
  if (isObject(t)) {
    const actions = Array.isArray(t['actions']) ? (t['actions'] as unknown[]) : [];
    const nulls = actions.filter((a) => a === null).length;
    const objects = actions.filter((a) => a !== null && typeof a !== 'string').length;
    if (nulls) notes.push(`${nulls} null action(s) skipped`);
    if (objects) notes.push(`${objects} non-string action(s) read as Python str()`);
    const observations = Array.isArray(t['observations']) ? (t['observations'] as unknown[]) : [];
    const bad = observations.filter((x) => !isObject(x)).length;
    if (bad) notes.push(`${bad} null or non-object trajectory observation(s) skipped`);
  }
  return { ok: true, record: v as unknown as EpisodeRecord, notes };
}
