/**
 * Experiments: a JSON file (see experiments/) with flags layered on top.
 * Validated once, with messages that name the file or flag and the value.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { loadDomainModules, resolveModules } from './domains/load.js';
import { availableParallelism } from 'node:os';
import { BUILTIN_DOMAINS, domainNames, findDomain } from './domains/index.js';
import { BadInputError } from './errors.js';
import { DEFAULT_CAP } from './merge.js';
import type { ExperimentConfig } from './types.js';
import { parseJson, positiveInt, show } from './validate.js';

export const DEFAULT_EXPERIMENT: ExperimentConfig = {
  name: 'default',
  domains: [...BUILTIN_DOMAINS],
  episodes: 10,
  threads: Math.max(2, availableParallelism()),
  processes: 1,
  episodeMs: 0,
  cap: DEFAULT_CAP,
  seed: 1,
};

/** Fields a file or the flags may set; anything absent falls back to the defaults. */
export type ExperimentInput = Partial<Record<keyof ExperimentConfig, unknown>>;

const LIMITS = { episodes: 1_000_000, threads: 256, processes: 64, cap: 10_000, episodeMs: 600_000, concurrency: 100_000, retries: 100, timeoutMs: 86_400_000 } as const;

/** Optional fields: absent means the default their TSDoc names (ExperimentConfig). */
const OPTIONAL_KEYS = ['modules', 'concurrency', 'episodeTimeoutMs', 'retries', 'retryDelayMs', 'rate', 'maxFailures'] as const;

/** Flags whose names differ from their experiment field. */
const FLAG_NAMES: Record<string, string> = { episodeTimeoutMs: 'episode-timeout', retryDelayMs: 'retry-delay' };

export async function readExperimentFile(file: string): Promise<ExperimentInput> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BadInputError(code === 'ENOENT' ? `experiment file ${file} does not exist` : `experiment file ${file} cannot be read: ${(err as Error).message}`, file);
  }
  const v = parseJson(text, file, 'experiment');
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadInputError(`${file}: experiment is not a JSON object`, file);
  const known = new Set([...Object.keys(DEFAULT_EXPERIMENT), ...OPTIONAL_KEYS]);
  const unknown = Object.keys(v).filter((k) => !known.has(k) && !k.startsWith('$') && k !== 'description');
  if (unknown.length) throw new BadInputError(`${file}: unknown experiment key(s) ${unknown.map((k) => `\`${k}\``).join(', ')}; expected ${[...known].join(', ')}`, file);
  const modules = (v as Record<string, unknown>)['modules'];
  if (modules !== undefined) {
    if (!Array.isArray(modules) || !modules.every((m) => typeof m === 'string')) throw new BadInputError(`${file}: Expected \`modules\` to be a list of file paths, got \`${show(modules)}\``, file);
    // Paths are relative to the experiment file; they are imported now so `domains` can name them.
    const urls = resolveModules(modules, dirname(file));
    await loadDomainModules(urls);
    return { ...(v as ExperimentInput), modules: urls };
  }
  return v as ExperimentInput;
}

function nonNegativeInt(value: unknown, name: string, where: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new BadInputError(`${where}: Expected \`${name}\` to be a non-negative integer up to ${max}, got \`${show(value)}\``);
  }
  return value;
}

function positiveNumber(value: unknown, name: string, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new BadInputError(`${where}: Expected \`${name}\` to be a positive number, got \`${show(value)}\``);
  }
  return value;
}

/**
 * Builds the experiment from defaults, then the file, then flags. `sources`
 * names where each field came from, so an error points at the right place.
 */
export function resolveExperiment(layers: { input: ExperimentInput; source: string }[]): ExperimentConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_EXPERIMENT };
  const from: Record<string, string> = {};
  for (const { input, source } of layers) {
    for (const [k, v] of Object.entries(input)) {
      if (v === undefined) continue;
      merged[k] = v;
      from[k] = source.startsWith('--') ? `--${FLAG_NAMES[k] ?? k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : source;
    }
  }
  const where = (k: string): string => from[k] ?? 'defaults';
  const domains = merged['domains'];
  if (!Array.isArray(domains) || domains.length === 0 || !domains.every((d) => typeof d === 'string')) {
    throw new BadInputError(`${where('domains')}: Expected \`domains\` to be a non-empty list of domain names, got \`${show(domains)}\``);
  }
  const unknown = domains.filter((d) => !findDomain(d));
  if (unknown.length) throw new BadInputError(`${where('domains')}: unknown domain ${unknown.map((d) => `\`${d}\``).join(', ')}; known: ${domainNames().join(', ')}`);
  if (new Set(domains).size !== domains.length) throw new BadInputError(`${where('domains')}: a domain is listed twice in ${show(domains)}`);
  const seed = merged['seed'];
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) throw new BadInputError(`${where('seed')}: Expected \`seed\` to be a non-negative integer, got \`${show(seed)}\``);
  const name = merged['name'];
  if (typeof name !== 'string' || name === '') throw new BadInputError(`${where('name')}: Expected \`name\` to be a non-empty string, got \`${show(name)}\``);
  const threads = positiveInt(merged['threads'], 'threads', where('threads'), LIMITS.threads);
  const optional = (k: (typeof OPTIONAL_KEYS)[number], check: (v: unknown, name: string, at: string) => number): Partial<ExperimentConfig> =>
    merged[k] === undefined ? {} : { [k]: check(merged[k], FLAG_NAMES[k] ?? k, where(k)) };
  return {
    name,
    domains: domains as string[],
    episodes: positiveInt(merged['episodes'], 'episodes', where('episodes'), LIMITS.episodes),
    threads,
    concurrency: merged['concurrency'] === undefined ? threads : positiveInt(merged['concurrency'], 'concurrency', where('concurrency'), LIMITS.concurrency),
    ...optional('episodeTimeoutMs', (v, n, at) => nonNegativeInt(v, n, at, LIMITS.timeoutMs)),
    ...optional('retries', (v, n, at) => nonNegativeInt(v, n, at, LIMITS.retries)),
    ...optional('retryDelayMs', (v, n, at) => nonNegativeInt(v, n, at, LIMITS.timeoutMs)),
    ...optional('rate', positiveNumber),
    ...optional('maxFailures', (v, n, at) => nonNegativeInt(v, n, at, LIMITS.episodes)),
    processes: positiveInt(merged['processes'], 'processes', where('processes'), LIMITS.processes),
    episodeMs: nonNegativeInt(merged['episodeMs'], 'episode-ms', where('episodeMs'), LIMITS.episodeMs),
    cap: positiveInt(merged['cap'], 'cap', where('cap'), LIMITS.cap),
    seed,
    ...(Array.isArray(merged['modules']) && merged['modules'].length ? { modules: merged['modules'] as string[] } : {}),
  };
}
