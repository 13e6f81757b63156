/**
 * Experiments: a JSON file (see experiments/) with flags layered on top.
 * Validated once, with messages that name the file or flag and the value.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { loadDomainModules, resolveModules } from '../domains/load.js';
import { availableParallelism } from 'node:os';
import { BUILTIN_DOMAINS, domainNames, findDomain } from '../domains/index.js';
import { BadInputError } from '../core/errors.js';
import { DEFAULT_CAP } from '../core/merge.js';
import type { ExperimentConfig } from '../core/types.js';
import { kebab, parseJson, positiveInt, show } from '../core/validate.js';

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

const LIMITS = { episodes: 1_000_000, threads: 256, processes: 64, cap: 10_000, episodeMs: 600_000, concurrency: 100_000, rate: 100_000, retries: 100, timeoutMs: 86_400_000 } as const;

/** Names that differ from the experiment field, in messages and as flags (other flags are the field in kebab case). */
const FLAG_NAMES: Record<string, string> = { episodeTimeoutMs: 'episode-timeout', retryDelayMs: 'retry-delay', episodeMs: 'episode-ms' };

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
  assertKnownKeys(v as Record<string, unknown>, file, file);
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

/**
 * Refuses a key no experiment field has (a typo would otherwise leave its field at the default): the file
 * or option named, each unknown key, and every key accepted. `description` and `$`-keys (`$schema`) are notes.
 */
export function assertKnownKeys(input: Record<string, unknown>, where: string, file?: string): void {
  const known = new Set(Object.keys(RULES));
  // A saved `--json` result where an experiment was expected (`compare A.json` given one report of two): say what it is.
  if ('zeroLoss' in input && Array.isArray(input['domains'])) {
    throw new BadInputError(`${where}: a saved result (the --json of run, audit or compare), not an experiment; to compare two results: ace-orch compare A.json B.json`, file);
  }
  const unknown = Object.keys(input).filter((k) => !known.has(k) && !k.startsWith('$') && k !== 'description');
  if (unknown.length) throw new BadInputError(`${where}: unknown experiment key${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `\`${k}\``).join(', ')}; expected ${[...known, 'description'].join(', ')}`, file);
}

function nonNegativeInt(value: unknown, name: string, where: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new BadInputError(`${where}: Expected \`${name}\` to be a non-negative integer up to ${max}, got \`${show(value)}\``);
  }
  return value;
}

/** Where a field's value came from, for its message: the field as a flag-like name, and the file or flag that set it. */
interface FieldAt {
  name: string;
  where: string;
}

/** Checks one field and returns it; `undefined` leaves an optional field absent (its TSDoc default applies). */
type FieldRule<T> = (value: unknown, at: FieldAt, checked: Partial<ExperimentConfig>) => T;

const optional =
  <T>(rule: (value: unknown, name: string, where: string) => T): FieldRule<T | undefined> =>
  (v, at) =>
    v === undefined ? undefined : rule(v, at.name, at.where);

/**
 * The one definition of a valid experiment. The mapped type makes the compiler
 * refuse an ExperimentConfig field without a rule here, and the file's known
 * keys come from this table, so the checks cannot drift from the type. Rules
 * run in this order (the config's key order); `concurrency` reads the checked
 * `threads`.
 */
const RULES: { [K in keyof ExperimentConfig]-?: FieldRule<ExperimentConfig[K]> } = {
  name: (v, { where }) => {
    if (typeof v !== 'string' || v === '') throw new BadInputError(`${where}: Expected \`name\` to be a non-empty string, got \`${show(v)}\``);
    return v;
  },
  domains: (v, { where }) => {
    if (!Array.isArray(v) || v.length === 0 || !v.every((d) => typeof d === 'string')) {
      throw new BadInputError(`${where}: Expected \`domains\` to be a non-empty list of domain names, got \`${show(v)}\``);
    }
    const unknown = v.filter((d) => !findDomain(d));
    if (unknown.length) throw new BadInputError(`${where}: unknown domain ${unknown.map((d) => `\`${d}\``).join(', ')}; known: ${domainNames().join(', ')}`);
    if (new Set(v).size !== v.length) throw new BadInputError(`${where}: a domain is listed twice in ${show(v)}`);
    return v as string[];
  },
  episodes: (v, at) => positiveInt(v, at.name, at.where, LIMITS.episodes),
  threads: (v, at) => positiveInt(v, at.name, at.where, LIMITS.threads),
  concurrency: (v, at, checked) => (v === undefined ? checked.threads! : positiveInt(v, at.name, at.where, LIMITS.concurrency)),
  episodeTimeoutMs: optional((v, n, at) => nonNegativeInt(v, n, at, LIMITS.timeoutMs)),
  retries: optional((v, n, at) => nonNegativeInt(v, n, at, LIMITS.retries)),
  retryDelayMs: optional((v, n, at) => nonNegativeInt(v, n, at, LIMITS.timeoutMs)),
  // Whole starts per second: the bound is counted per rolling second, and the limiter counts whole starts.
  rate: optional((v, n, at) => positiveInt(v, n, at, LIMITS.rate)),
  maxFailures: optional((v, n, at) => nonNegativeInt(v, n, at, LIMITS.episodes)),
  processes: (v, at) => positiveInt(v, at.name, at.where, LIMITS.processes),
  episodeMs: (v, at) => nonNegativeInt(v, at.name, at.where, LIMITS.episodeMs),
  cap: (v, at) => positiveInt(v, at.name, at.where, LIMITS.cap),
  seed: (v, { where }) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new BadInputError(`${where}: Expected \`seed\` to be a non-negative integer, got \`${show(v)}\``);
    return v;
  },
  // Checked (and imported) by readExperimentFile, relative to the file; an empty list is no modules.
  modules: (v) => (Array.isArray(v) && v.length ? (v as string[]) : undefined),
};

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
      from[k] = source.startsWith('--') ? `--${FLAG_NAMES[k] ?? kebab(k)}` : source;
    }
  }
  // The checks run in an order where a field's message is the one a user sees first.
  const order: (keyof ExperimentConfig)[] = ['domains', 'seed', 'name', 'threads'];
  const checked: Partial<Record<keyof ExperimentConfig, unknown>> = {};
  for (const k of [...order, ...(Object.keys(RULES) as (keyof ExperimentConfig)[]).filter((k) => !order.includes(k))]) {
    const rule = RULES[k] as FieldRule<unknown>;
    // Named as where it was set: a flag as the flag (`episode-timeout`), a file's or the library's field as the field (`episodeTimeoutMs`).
    const viaFlag = from[k]?.startsWith('--') ?? false;
    checked[k] = rule(merged[k], { name: viaFlag ? (FLAG_NAMES[k] ?? kebab(k)) : k, where: from[k] ?? 'defaults' }, checked as Partial<ExperimentConfig>);
  }
  // In the table's order, without the optional fields left absent.
  return Object.fromEntries(Object.keys(RULES).flatMap((k) => (checked[k as keyof ExperimentConfig] === undefined ? [] : [[k, checked[k as keyof ExperimentConfig]]]))) as unknown as ExperimentConfig;
}
