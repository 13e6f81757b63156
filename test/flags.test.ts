import test from 'ava';
import { intFlag } from '../src/cli/commands/flags.js';
import { BadInputError } from '../src/core/errors.js';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';

test('intFlag keeps valid integers and refuses the rest with the flag, the bound and the value', (t) => {
  t.is(intFlag('cap')(3), 3);
  t.is(intFlag('seed', { min: 0 })(0), 0);
  t.throws(() => intFlag('cap')(0), { instanceOf: BadInputError, message: '--cap: Expected a positive integer, got `0`' });
  t.throws(() => intFlag('cap')(Number.NaN), { message: '--cap: Expected a positive integer, got `NaN`' });
  t.throws(() => intFlag('lock-timeout', { unit: 'ms' })(1.5), { message: '--lock-timeout: Expected a positive integer (ms), got `1.5`' });
  t.throws(() => intFlag('seed', { min: 0 })(-1), { message: '--seed: Expected a non-negative integer, got `-1`' });
  // Given twice: passed on for the CLI's "given more than once" message.
  t.deepEqual(intFlag('cap')([1, 2] as unknown as number), [1, 2]);
});

test('a coerced flag the CLI refuses exits 2 with its one-line message, not as an internal error', async (t) => {
  const [cap, writers] = await Promise.all([cliHere(['audit', '--cap', '0']), cliHere(['bench', '--writers', 'x'])]);
  assertOneLineError(t, cap, '--cap: Expected a positive integer, got `0`');
  assertOneLineError(t, writers, '--writers: Expected a positive integer, got `NaN`');
  t.notRegex(cap.stderr + writers.stderr, /internal error/);
});
