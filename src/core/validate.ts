/**
 * Shape checks for what the tool reads from disk. Pure: each takes the text
 * and the file name, and throws a BadInputError naming the file and the problem.
 */
import { BadInputError, EpisodeResultError, TornFileError } from './errors.js';
import { parsePythonJson } from './python-json.js';
import type { Deltas, Observation, Playbook, RunManifest } from './types.js';
import { SECTION_NAMES } from './types.js';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short rendering of a bad value for messages. */
export function show(v: unknown): string {
  if (typeof v === 'number') return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** `where: Expected \`name\` to be a positive integer[ up to max], got \`value\`` (exit 2) unless it is one. */
export function positiveInt(value: unknown, name: string, where: string, max = Infinity, file?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new BadInputError(`${where}: Expected \`${name}\` to be a positive integer${max < Infinity ? ` up to ${max}` : ''}, got \`${show(value)}\``, file);
  }
  return value;
}

/**
 * Why `text` is not JSON, in one line: JSON.parse quotes the text around the fault, line breaks
 * included, and a message must stay one line (they are shown escaped).
 */
export function notJsonReason(text: string, err: unknown): string {
  if (text.trim() === '') return 'the file is empty';
  return `not valid JSON (${oneLine((err as Error).message)})`;
}

/** Line breaks shown as `\n`, so that a message quoting a file stays one line. */
export function oneLine(text: string): string {
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

/** A run id as a manifest's file name (runs/<id>.json) can carry it: letters, digits, '.', '_' and '-'. */
export const isRunId = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v);

/** A camelCase option key as its flag is spelled (`episodeTimeout` → `episode-timeout`). */
export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function parseJson(text: string, file: string, what: string): unknown {
  try {
    // Python's json.dump writes NaN and Infinity: a playbook the reference tool wrote may hold them.
    return what === 'playbook' ? parsePythonJson(text) : JSON.parse(text);
  } catch (err) {
    // "the file is empty" reads as a reason of its own, not after "playbook is".
    const reason = notJsonReason(text, err);
    throw new TornFileError(`${file}: ${text.trim() === '' ? `${reason} (${what})` : `${what} is ${reason}`}`, file);
  }
}

/** A check of one field of an object read from disk: throws a BadInputError, or returns nothing. */
type FieldCheck = ((value: unknown, o: Record<string, unknown>, where: string, file: string) => void) | 'carried';

/**
 * Every field of Observation, with what the tool checks before it relies on
 * it. The mapped type makes the compiler refuse a field without an entry, so
 * the checks cannot drift from the type. `carried`: the tool copies the field
 * as written (other tools' playbooks may omit it or shape it their way) and
 * never reads it for a decision.
 */
const OBSERVATION_FIELDS: { [K in keyof Observation]-?: FieldCheck } = {
  episode_id: (v, _o, where, file) => {
    if (typeof v !== 'string' || v === '') throw new BadInputError(`${file}: ${where} has no \`episode_id\` string, got ${show(v)}`, file);
  },
  // Absent, the reference tool reads it as 0 (`x.get('score', 0)`), and so does the merge (src/core/merge.ts).
  score: (v, o, where, file) => {
    // null too: Python's NaN, read as null (src/core/python-json.ts), which the reference reads back as a score.
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw new BadInputError(`${file}: ${where} (${o['episode_id']}) has a \`score\` that is not a number: ${show(v)}`, file);
  },
  // Other tools write reliabilities such as SYNTHETIC_HIGH; src/core/reliability.ts ranks any string. Absent, the
  // reference tool ranks it as LOW (`x.get('reliability', 'LOW')`), and so does the merge.
  reliability: (v, o, where, file) => {
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw new BadInputError(`${file}: ${where} (${o['episode_id']}) has a \`reliability\` that is not a string: ${show(v)}`, file);
  },
  timestamp: 'carried',
  beliefs: 'carried',
  context: 'carried',
  reason: 'carried',
  metadata: 'carried',
};

function checkObservation(o: unknown, where: string, file: string): Observation {
  if (!isObject(o)) throw new BadInputError(`${file}: ${where} is not an object`, file);
  for (const [field, check] of Object.entries(OBSERVATION_FIELDS)) if (check !== 'carried') check(o[field], o, where, file);
  return o as unknown as Observation;
}

/**
 * The playbook, checked; a section it lacks is read as empty, as the reference tool reads it
 * (`current_playbook.get(section, [])`), and written back empty.
 */
export function checkPlaybook(value: unknown, file: string): Playbook {
  if (!isObject(value)) throw new BadInputError(`${file}: playbook is not a JSON object`, file);
  for (const key of ['observations', ...SECTION_NAMES]) {
    if (value[key] === undefined) value[key] = [];
    if (!Array.isArray(value[key])) throw new BadInputError(`${file}: playbook section \`${key}\` is not an array`, file);
  }
  (value['observations'] as unknown[]).forEach((o, i) => checkObservation(o, `observations[${i}]`, file));
  for (const section of SECTION_NAMES) {
    (value[section] as unknown[]).forEach((e, i) => {
      if (!isObject(e) || typeof e['content'] !== 'string' || typeof e['source_episode'] !== 'string') {
        throw new BadInputError(`${file}: ${section}[${i}] needs string \`content\` and \`source_episode\``, file);
      }
    });
  }
  return value as Playbook;
}

/**
 * The deltas of one played episode, checked as every later read of the playbook will check them: what a
 * domain's play or reflect returned that would make the playbook unreadable (a score that is no number,
 * a reliability that is no string) fails the episode, before anything of it is written. Scores are 0..1.
 */
export function checkEpisodeDeltas(deltas: Deltas, domain: string): void {
  const where = `domain \`${domain}\` returned a result that cannot be merged`;
  try {
    checkPlaybook({ ...deltas }, where);
  } catch (err) {
    if (err instanceof BadInputError) throw new EpisodeResultError(err.message);
    throw err;
  }
  // A stored playbook may lack them (the reference reads defaults); an episode played here states both.
  const o = deltas.observations[0] as Partial<Observation> | undefined;
  if (o && typeof o.score !== 'number') throw new EpisodeResultError(`${where}: it has no \`score\``);
  if (o && typeof o.reliability !== 'string') throw new EpisodeResultError(`${where}: it has no \`reliability\``);
  const score = o?.score;
  if (score !== undefined && (score < 0 || score > 1)) throw new EpisodeResultError(`${where}: \`score\` ${score} is outside 0..1`);
  // What JSON cannot hold (a BigInt, a cycle) would fail the episode file's write later, after the play was paid for; say it now.
  let text: string;
  try {
    text = JSON.stringify(deltas);
  } catch (err) {
    throw new EpisodeResultError(`${where}: it cannot be written as JSON (${oneLine((err as Error).message)})`);
  }
  // What JSON would drop without a word (a function, a symbol, undefined in a list) is data the agent meant to keep.
  const dropped = unwritable(deltas, 'result');
  if (dropped) throw new EpisodeResultError(`${where}: ${dropped}, which JSON cannot hold`);
  if (text.length > MAX_RESULT_CHARS) {
    throw new EpisodeResultError(`${where}: it is ${text.length} characters as JSON; an episode's observation and entries may be at most ${MAX_RESULT_CHARS} (1 MB: the playbook keeps up to its cap of them, and every episode reads it)`);
  }
}

/** The first value under `v` that JSON would silently drop or change, as "`path` is a function"; null when none. No cycles: JSON.stringify ran first. */
function unwritable(v: unknown, path: string): string | null {
  if (typeof v === 'function' || typeof v === 'symbol') return `\`${path}\` is a ${typeof v}`;
  if (v instanceof Map || v instanceof Set) return `\`${path}\` is a ${v instanceof Map ? 'Map' : 'Set'} (JSON writes it as {})`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (v[i] === undefined) return `\`${path}[${i}]\` is undefined`;
      const found = unwritable(v[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      const found = unwritable(x, `${path}.${k}`);
      if (found) return found;
    }
  }
  return null;
}

/**
 * The most an episode's deltas may take as JSON. A playbook keeps `cap` observations and every episode reads
 * it whole: 100 observations of 5 MB made a 500 MB playbook that no merge could write (V8's string limit). The
 * trajectory is not counted: it goes into the episode's own file only.
 */
export const MAX_RESULT_CHARS = 2 ** 20;

export function parsePlaybook(text: string, file: string): Playbook {
  return checkPlaybook(parseJson(text, file, 'playbook'), file);
}

export function parseManifest(text: string, file: string): RunManifest {
  const v = parseJson(text, file, 'run manifest');
  if (!isObject(v) || typeof v['run_id'] !== 'string' || !isObject(v['config'])) {
    throw new BadInputError(`${file}: not a run manifest (needs \`run_id\` and \`config\`)`, file);
  }
  if (v['episodes'] !== undefined && !Array.isArray(v['episodes'])) throw new BadInputError(`${file}: \`episodes\` is not an array`, file);
  return v as unknown as RunManifest;
}
