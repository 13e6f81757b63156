/** Flag coercions shared by the commands: yargs `coerce` functions that refuse a bad value with one line. */
import { BadInputError } from '../../core/errors.js';

/**
 * `coerce` for an integer flag of at least `min` (1 unless told): a bad value throws
 * `--flag: Expected a positive integer[ unit], got \`value\`` (exit 2). A flag given twice
 * arrives as an array and is passed on, for the CLI's "given more than once" message.
 */
export function intFlag(flag: string, options: { min?: 0 | 1; unit?: string } = {}): (value: number) => number {
  const min = options.min ?? 1;
  const expected = `${min === 1 ? 'a positive' : 'a non-negative'} integer${options.unit ? ` (${options.unit})` : ''}`;
  return (value) => {
    if (value === undefined || Array.isArray(value)) return value;
    if (!Number.isInteger(value) || value < min) throw new BadInputError(`--${flag}: Expected ${expected}, got \`${value}\``);
    return value;
  };
}
