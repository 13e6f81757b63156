/**
 * Shape checks for what the tool reads from disk. Pure: each takes the text
 * and the file name, and throws a BadInputError naming the file and the problem.
 */
import { BadInputError } from './errors.js';
import type { Observation, Playbook, RunManifest } from './types.js';
import { SECTION_NAMES } from './types.js';

function isObject(v: unknown): v is Record<string, unknown> {
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

export function parseJson(text: string, file: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = text.trim() === '' ? 'the file is empty' : `not valid JSON (${(err as Error).message})`;
    throw new BadInputError(`${file}: ${what} is ${reason}`, file);
  }
}

function checkObservation(o: unknown, where: string, file: string): Observation {
  if (!isObject(o)) throw new BadInputError(`${file}: ${where} is not an object`, file);
  if (typeof o['episode_id'] !== 'string' || o['episode_id'] === '') {
    throw new BadInputError(`${file}: ${where} has no \`episode_id\` string, got ${show(o['episode_id'])}`, file);
  }
  if (typeof o['score'] !== 'number' || !Number.isFinite(o['score'])) {
    throw new BadInputError(`${file}: ${where} (${o['episode_id']}) has a \`score\` that is not a number: ${show(o['score'])}`, file);
  }
  // Other tools write reliabilities such as SYNTHETIC_HIGH; src/reliability.ts ranks any string.
  if (typeof o['reliability'] !== 'string' || o['reliability'] === '') {
    throw new BadInputError(`${file}: ${where} (${o['episode_id']}) has a \`reliability\` that is not a string: ${show(o['reliability'])}`, file);
  }
  return o as unknown as Observation;
}

export function checkPlaybook(value: unknown, file: string): Playbook {
  if (!isObject(value)) throw new BadInputError(`${file}: playbook is not a JSON object`, file);
  for (const key of ['observations', ...SECTION_NAMES]) {
    if (!Array.isArray(value[key])) throw new BadInputError(`${file}: playbook section \`${key}\` is missing or not an array`, file);
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
