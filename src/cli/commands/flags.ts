/** Flag coercions shared by the commands: yargs `coerce` functions that refuse a bad value with one line. */
import { BadInputError } from '../../core/errors.js';
import { kebab } from '../../core/validate.js';

/**
 * `coerce` for an integer flag of at least `min` (1 unless told): a bad value throws
 * `--flag: Expected a positive integer[ unit], got \`value\`` (exit 2). A flag given twice
 * arrives as an array and is passed on, for the CLI's "given more than once" message.
 */
export function intFlag(flag: string, options: { min?: 0 | 1; unit?: string } = {}): (value: number) => number {
  const min = options.min ?? 1;
  const expected = `${min === 1 ? 'a positive' : 'a non-negative'} integer${options.unit ? ` (${options.unit})` : ''}`;
  return (value) => {
    // Not a number at all (NaN): the CLI names what was typed (unusableFlagValue), which this never sees.
    if (value === undefined || Array.isArray(value) || Number.isNaN(value)) return value;
    if (!Number.isInteger(value) || value < min) throw new BadInputError(`--${flag}: Expected ${expected}, got \`${value}\``);
    return value;
  };
}

/** The command's declared flags, as yargs' getOptions() gives them: every key, and those that take no value. */
export interface DeclaredFlags {
  key: Record<string, unknown>;
  boolean?: string[];
  count?: string[];
}

/**
 * What yargs lets through for a flag given without a usable value: a number flag given text arrives as
 * NaN, and a flag given no value at all as undefined, '' or its default, so it would silently act as if
 * never given (`--store` with its path forgotten would write ./memory). The first such flag in the order
 * given, as a one-line message naming it and what was typed; undefined when there is none. Only declared
 * flags are judged (an unknown one is yargs' to refuse), and never one that takes no value.
 */
export function unusableFlagValue(argv: Record<string, unknown>, args: readonly string[], declared: DeclaredFlags): string | undefined {
  const switches = new Set([...(declared.boolean ?? []), ...(declared.count ?? [])].map(kebab));
  const known = new Set(Object.keys(declared.key).map(kebab));
  const byFlag = new Map(Object.entries(argv).map(([k, v]) => [kebab(k), v]));
  // yargs' own rule: a next argument that starts with '-' is a flag, not this one's value, unless it is a negative number.
  const isFlag = (arg: string | undefined): boolean => arg === undefined || (arg.startsWith('-') && !/^-(\d+(\.\d+)?|\.\d+)$/.test(arg));
  for (const [i, arg] of args.entries()) {
    if (arg === '--') break;
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!m) continue;
    const flag = kebab(m[1]!);
    // yargs reads --no-X as X = false, which a flag that takes a value would then use as its value.
    if (flag.startsWith('no-') && known.has(flag.slice(3)) && !switches.has(flag.slice(3)) && !known.has(flag)) return `--${flag.slice(3)} takes a value; --${flag} is not accepted`;
    if (!known.has(flag) || !byFlag.has(flag) || switches.has(flag) || (flag.startsWith('no-') && switches.has(flag.slice(3)))) continue;
    const typed = m[2] ?? (isFlag(args[i + 1]) ? undefined : args[i + 1]);
    if (typed === undefined || typed === '') return `--${flag}: given no value${args[i + 1]?.startsWith('-') && m[2] === undefined ? ` (a value that starts with '-' goes as --${flag}=${args[i + 1]})` : ''}`;
    const value = byFlag.get(flag);
    if (typeof value === 'number' && Number.isNaN(value)) return `--${flag}: Expected a number, got \`${typed}\``;
  }
  return undefined;
}
