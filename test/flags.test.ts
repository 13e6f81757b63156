import test from 'ava';
import { intFlag } from '../src/cli/commands/flags.js';
import { BadInputError } from '../src/core/errors.js';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { tempDir } from './helpers.js';

test('intFlag keeps valid integers and refuses the rest with the flag, the bound and the value', (t) => {
  t.is(intFlag('cap')(3), 3);
  t.is(intFlag('seed', { min: 0 })(0), 0);
  t.throws(() => intFlag('cap')(0), { instanceOf: BadInputError, message: '--cap: Expected a positive integer, got `0`' });
  // Not a number at all: passed on for the CLI, which names what was typed (see below).
  t.true(Number.isNaN(intFlag('cap')(Number.NaN)));
  t.throws(() => intFlag('lock-timeout', { unit: 'ms' })(1.5), { message: '--lock-timeout: Expected a positive integer (ms), got `1.5`' });
  t.throws(() => intFlag('seed', { min: 0 })(-1), { message: '--seed: Expected a non-negative integer, got `-1`' });
  // Given twice: passed on for the CLI's "given more than once" message.
  t.deepEqual(intFlag('cap')([1, 2] as unknown as number), [1, 2]);
});

test('a coerced flag the CLI refuses exits 2 with its one-line message, not as an internal error', async (t) => {
  const [cap, writers] = await Promise.all([cliHere(['audit', '--cap', '0']), cliHere(['bench', '--writers', 'x'])]);
  assertOneLineError(t, cap, '--cap: Expected a positive integer, got `0`');
  assertOneLineError(t, writers, '--writers: Expected a number, got `x`');
  t.notRegex(cap.stderr + writers.stderr, /internal error/);
});

test('a flag given text for a number, or no value, is named with what was typed, exit 2, and nothing is written', async (t) => {
  const store = join(await tempDir(), 'store');
  const cases: [string[], string][] = [
    [['run', '--episodes', 'abc'], '--episodes: Expected a number, got `abc`'],
    [['run', '--concurrency=1x'], '--concurrency: Expected a number, got `1x`'],
    [['run', '--episode-timeout'], '--episode-timeout: given no value'],
    [['run', '--episodes', '--threads', '2'], '--episodes: given no value'],
    [['run', '--threads', '2', '--retry-delay', 'soon', '--rate', 'x'], '--retry-delay: Expected a number, got `soon`'],
    [['bench', '--merges', 'many'], '--merges: Expected a number, got `many`'],
    [['run', '--commit', '--threads', '2'], '--commit: given no value'],
    [['run', '--domains='], '--domains: given no value'],
    // yargs takes an argument starting with '-' (not a negative number) for a flag, and the default would stand in.
    [['run', '--report', '-'], "--report: given no value (a value that starts with '-' goes as --report=-)"],
    [['run', '--cap', '-1e3'], '--cap: given no value'],
    [['report', 'a.json', '--no-out'], '--out takes a value; --no-out is not accepted'],
    [['run', '--no-cap'], '--cap takes a value; --no-cap is not accepted'],
  ];
  for (const [args, line] of cases) {
    const r = await cliHere([...args, '--store', store]);
    assertOneLineError(t, r, line);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  t.false(existsSync(store), 'no store created');
});

test('run --help labels every number flag [number], those validated as whole numbers included', async (t) => {
  const r = await cli(['run', '--help']);
  t.is(r.code, 0, r.stderr);
  const help = r.stdout.replace(/\n\s+/g, ' ');
  for (const flag of ['episodes', 'threads', 'concurrency', 'episode-timeout', 'retries', 'retry-delay', 'rate', 'max-failures']) {
    t.regex(help, new RegExp(`--${flag} .*?\\[number\\]`), `--${flag} is labelled a number`);
    t.notRegex(help, new RegExp(`--${flag} [^\\[]*\\[string\\]`), `--${flag} is not labelled a string`);
  }
});

test('a flag whose default would stand in for a forgotten value is refused: --store with no path writes nothing anywhere', async (t) => {
  const cwd = await tempDir();
  const r = await cli(['run', '--episodes', '1', '--domains', 'hot_pot', '--no-lock', '--store'], undefined, { cwd });
  t.is(r.code, 2, r.stderr);
  t.is(r.stderr, 'ace-orch: --store: given no value\n');
  t.deepEqual(await readdir(cwd), [], 'not even ./memory, the default');
  // A switch takes no value: one followed by another flag is not refused for it.
  assertOneLineError(t, await cliHere(['run', '--json', '--no-lock', '--episodes', 'x']), '--episodes: Expected a number, got `x`');
});

test('yargs refusals are one line: an unknown flag named once as typed, a bad choice with its choices, the command\'s own help', async (t) => {
  const unknown = await cliHere(['run', '--bogus-flag', '--episodes', '1']);
  assertOneLineError(t, unknown, 'Unknown argument: --bogus-flag (see ace-orch run --help)');
  t.notRegex(unknown.stderr, /bogusFlag|given no value/);
  const choice = await cliHere(['run', '--commit', 'bogus']);
  assertOneLineError(t, choice, 'Given: "bogus", Choices: "each", "batched", "shared" (see ace-orch run --help)');
  t.is(choice.stderr.trim().split('\n').length, 1, choice.stderr);
  assertOneLineError(t, await cliHere(['audit', '--nope']), 'Unknown argument: --nope (see ace-orch audit --help)');
});

test('a message quoting a file stays one line', async (t) => {
  const file = join(await tempDir(), 'notes.json');
  await writeFile(file, 'hi\nthere\n');
  const r = await cliHere(['report', file, '--out', join(await tempDir(), 'r.html')]);
  assertOneLineError(t, r, file, 'not valid JSON', '\\n');
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('what follows a -- separator is no flag given twice', async (t) => {
  const r = await cliHere(['audit', '--store', join(await tempDir(), 'none'), '--', 'a', 'b']);
  t.notRegex(r.stderr, /more than once/);
  t.regex(r.stderr, /does not exist or is not a directory/);
});

test('an unknown command and a missing required argument are said as such in one line, exit 2; report --help shows no default for its sources', async (t) => {
  const [bogus, noSources, help] = await Promise.all([cliHere(['bogus', '--store', 'x']), cliHere(['report']), cli(['report', '--help'])]);
  assertOneLineError(t, bogus, 'ace-orch: Unknown command: bogus; name a command: run, audit, compare, report, repair, chaos, bench, export or worker (see ace-orch --help)');
  assertOneLineError(t, noSources, 'ace-orch: Missing at least one <sources> argument (see ace-orch report --help)');
  t.is(help.code, 0, help.stderr);
  t.regex(help.stdout, /\[array\] \[required\]\n/);
  t.notRegex(help.stdout, /default: \[\]/);
});

test('a --store meant as a URL that is not a PostgreSQL one is refused with its password masked, and no directory is made of it', async (t) => {
  const cwd = await tempDir();
  for (const store of ['postgres//root:s3cret@127.0.0.1:5432/db', 'postgres:/root:s3cret@127.0.0.1/db', 'postgress://root:s3cret@h/db', 'mysql://u:s3/cret@h/db']) {
    for (const args of [
      ['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store],
      ['audit', '--store', store],
      ['report', store, '--out', join(cwd, 'r.html')],
      ['compare', '--domains', 'hot_pot', '--episodes', '1', '--store', store],
      ['chaos', '--kills', '1', '--store', store],
    ]) {
      const r = await cli(args, undefined, { cwd });
      t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      t.regex(r.stderr, /^ace-orch: (--store|report source) \S+: neither a PostgreSQL URL \(postgres:\/\/USER@HOST:PORT\/DATABASE\) nor a directory to use as a store\n$/);
      t.false(r.stderr.includes('s3cret') || r.stderr.includes('s3/cret'), r.stderr);
    }
  }
  t.deepEqual(await readdir(cwd), [], 'nothing written');
  // A directory called postgres is still a store, and so is one whose name only looks like a URL, once it exists.
  const r = await cli(['run', '--domains', 'hot_pot', '--episodes', '1', '--episode-ms', '0', '--store', 'postgres'], undefined, { cwd });
  t.is(r.code, 0, r.stderr);
  const odd = join(cwd, 'postgres-old@2024:v1');
  const made = await cli(['run', '--domains', 'hot_pot', '--episodes', '1', '--episode-ms', '0', '--store', odd]);
  t.is(made.code, 0, made.stderr);
  for (const name of [odd, 'postgres-old@2024:v1']) {
    const audit = await cli(['audit', '--store', name], undefined, { cwd });
    t.is(audit.code, 0, audit.stderr);
  }
});
