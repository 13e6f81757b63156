/**
 * ace-orch: registers one module per command. Handlers return exit codes;
 * `cliExitCode` alone turns errors into one-line messages and an exit code.
 * Importing this module runs nothing: src/bin.ts is the executable entry.
 */
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import type { Arguments, Argv, MiddlewareFunction } from 'yargs';
import { hideBin, Parser } from 'yargs/helpers';
import { processIo } from './commands/io.js';
import { interruptSignal } from './interrupts.js';
import type { Io } from './commands/io.js';
import type { AuditArgs } from './commands/audit.js';
import type { BenchArgs } from './commands/bench.js';
import type { ChaosArgs } from './commands/chaos.js';
import type { CompareArgs } from './commands/compare.js';
import type { ExportArgs } from './commands/export.js';
import type { RepairArgs } from './commands/repair.js';
import type { ReportArgs } from './commands/report.js';
import type { RunArgs } from './commands/run.js';
import type { WorkerArgs } from './commands/worker.js';
import { AceError, BadInputError, UsageError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { kebab, oneLine } from '../core/validate.js';
import { unusableFlagValue } from './commands/flags.js';
import type { DeclaredFlags } from './commands/flags.js';

function packageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ace-orchestrator' && pkg.version) return pkg.version;
    } catch {
      // Try the next layout (src/cli/ under tsx, dist/src/cli/ when built).
    }
  }
  return 'unknown';
}

/** What a command module gives the CLI: its flags and the function that returns its exit code. */
interface LoadedCommand {
  builder: (y: Argv) => Argv<unknown>;
  // The builder declares the flags execute reads; yargs' inferred types stop at this table.
  execute: (args: any, io: Io, signal: () => AbortSignal) => Promise<number>;
}

/**
 * One entry per command. A command's module is imported only when that command runs (or shows its
 * help): each command pulls in its own part of the product, and every `ace-orch` start would
 * otherwise load and compile all of them.
 */
interface CommandSpec {
  command: string;
  describe: string;
  load: () => Promise<LoadedCommand>;
}

const COMMANDS: CommandSpec[] = [
  {
    command: 'run [experiment]',
    describe: 'Run an experiment (episodes per domain on a worker-thread pool), then audit the run',
    load: async () => {
      const m = await import('./commands/run.js');
      return { builder: m.runBuilder, execute: (args: RunArgs, io, signal) => m.executeRun(args, io, signal()) };
    },
  },
  {
    command: 'audit',
    describe: 'Print the observation-loss table of a store; exit 1 if anything was lost',
    load: async () => {
      const m = await import('./commands/audit.js');
      return { builder: m.auditBuilder, execute: (args: AuditArgs, io) => m.executeAudit(args, io) };
    },
  },
  {
    command: 'compare [files..]',
    describe: 'Run an experiment once per write mode (unlocked, locked) on fresh stores and compare lost observations; or diff two saved reports',
    load: async () => {
      const m = await import('./commands/compare.js');
      return { builder: m.compareBuilder, execute: (args: CompareArgs, io, signal) => m.executeCompare(args, io, signal()) };
    },
  },
  {
    command: 'report <sources..>',
    describe: 'Write one self-contained HTML page: loss table, comparison and lock charts, the run timeline, playbooks and failures',
    load: async () => {
      const m = await import('./commands/report.js');
      return { builder: m.reportBuilder, execute: (args: ReportArgs, io) => m.executeReport(args, io) };
    },
  },
  {
    command: 'repair',
    describe: 'Re-merge episodes that crashed between their episode file and their merge; --rebuild a corrupt playbook',
    load: async () => {
      const m = await import('./commands/repair.js');
      return { builder: m.repairBuilder, execute: (args: RepairArgs, io) => m.executeRepair(args, io) };
    },
  },
  {
    command: 'chaos',
    describe: 'Kill (SIGKILL) and pause (SIGSTOP) writer processes at the worst moments, then count what was acknowledged, survived and lost',
    load: async () => {
      const m = await import('./commands/chaos.js');
      return { builder: m.chaosBuilder, execute: (args: ChaosArgs, io) => m.executeChaos(args, io) };
    },
  },
  {
    command: 'bench',
    describe: 'Measure merge throughput and lock contention (W writers over P processes); --matrix runs the fixed comparison with the baseline',
    load: async () => {
      const m = await import('./commands/bench.js');
      return { builder: m.benchBuilder, execute: (args: BenchArgs, io) => m.executeBench(args, io) };
    },
  },
  {
    command: 'export',
    describe: 'Write a PostgreSQL store in the reference file layout (playbooks, episode files, manifests) into a new directory',
    load: async () => {
      const m = await import('./commands/export.js');
      return { builder: m.exportBuilder, execute: (args: ExportArgs, io) => m.executeExport(args, io) };
    },
  },
  {
    command: 'worker',
    describe: 'Claim episodes from a PostgreSQL queue (pg-boss), play them on this host, commit them to their run\'s store; SIGTERM finishes in-flight episodes',
    load: async () => {
      const m = await import('./commands/worker.js');
      return { builder: m.workerBuilder, execute: (args: WorkerArgs, io, signal) => m.executeWorker(args, io, signal()) };
    },
  },
];

const commandName = (c: CommandSpec): string => c.command.split(' ')[0]!;

const NAME_A_COMMAND = `Name a command: ${COMMANDS.slice(0, -1).map(commandName).join(', ')} or ${commandName(COMMANDS.at(-1)!)}`;

/**
 * The commands whose modules this start loads: the one yargs will run, and no other, found as the first
 * positional the way yargs' own parser reads the arguments (so a flag's value is not taken for a command).
 * With none, no module: yargs can dispatch nothing and prints the overview from the table. With one that
 * is no command, every module, so yargs judges the arguments exactly as if all were loaded.
 */
function commandsToLoad(args: readonly string[]): ReadonlySet<CommandSpec> {
  const first = firstWord(args);
  if (first === undefined) return new Set();
  const named = commandNamed(first);
  return new Set(named ? [named] : COMMANDS);
}

/** The first positional of `args`, read as yargs' own parser reads it: a flag's value is not taken for it. */
function firstWord(args: readonly string[]): string | undefined {
  const first = Parser([...args])._[0];
  return first === undefined ? undefined : String(first);
}

/** The command a first word names; undefined for none or an unknown one. */
function commandNamed(first: string | undefined): CommandSpec | undefined {
  return first === undefined ? undefined : COMMANDS.find((c) => commandName(c) === first);
}

/**
 * A yargs validation message as one line: "Invalid values:" and its indented detail joined, and an unknown
 * flag named once (yargs also lists its camelCase alias).
 */
function yargsMessageLine(msg: string, args: readonly string[]): string {
  const unknown = /^Unknown arguments?: (.*)$/s.exec(msg);
  // A first word that is no command: said as such, with the commands there are, not as a stray argument.
  const first = firstWord(args);
  const named = commandNamed(first);
  if (unknown && first !== undefined && !named) {
    return `Unknown command: ${first}; ${NAME_A_COMMAND.toLowerCase()}`;
  }
  // A required positional left out (`report` with no source): named as the command's usage names it.
  const positional = /^Not enough non-option arguments/.exec(msg) && named?.command.match(/<([^>.]+)(\.\.)?>/);
  if (positional) return `Missing ${positional[2] ? 'at least one' : 'the'} <${positional[1]}> argument`;
  if (unknown) {
    const names = unknown[1]!.split(', ');
    const kept = names.filter((n) => kebab(n) === n || !names.includes(kebab(n)));
    // As typed: a flag with its dashes, a stray word (an unknown command, say) without.
    const typed = (n: string): string => args.find((a) => a === `--${n}` || a.startsWith(`--${n}=`) || a === `-${n}`)?.split('=')[0] ?? n;
    return `Unknown argument${kept.length === 1 ? '' : 's'}: ${kept.map(typed).join(', ')}`;
  }
  return msg.replace(/:?\s*\n\s*/g, ': ');
}

/**
 * Once a command's handler starts, yargs renders that command's whole help and caches it, to show if the
 * handler fails later. This CLI never shows help on a failure (showHelpOnFail is off and `fail` throws), so
 * the rendering, about 20 ms of every start (most of it measuring string widths), is skipped; asking for
 * help still renders it. The hook is yargs' internal usage instance, which keeps its identity across resets.
 */
function skipHelpCache(cli: Argv): void {
  // Internal to yargs: a release that reshapes it only costs the saving, never a start.
  const usage = (cli as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } }).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

/**
 * Refuses, before any command runs, a flag given twice (it arrives as an array) and a flag given without a
 * usable value (unusableFlagValue). yargs passes itself to a middleware as the second argument, which its
 * types leave out; the flags that take no value come from it.
 */
function checkFlagValues(args: readonly string[]): MiddlewareFunction {
  const check = (argv: Arguments, y: { getOptions(): DeclaredFlags }): void => {
    for (const [key, value] of Object.entries(argv)) {
      // `--` holds what follows a `--` separator: positional text, not a flag.
      if (key !== '_' && key !== '--' && key !== 'files' && key !== 'sources' && Array.isArray(value)) throw new UsageError(`--${kebab(key)} was given more than once`);
    }
    const unusable = unusableFlagValue(argv, args, y.getOptions());
    if (unusable) throw new BadInputError(unusable);
  };
  return check as unknown as MiddlewareFunction;
}

/**
 * Parses `args` (what follows `ace-orch`) and runs the command; resolves to its exit code. With
 * `releaseSignals`, the command's interrupt handlers go when it returns.
 */
async function main(args: string[], io: Io, releaseSignals: boolean): Promise<number> {
  let code: number = EXIT.ok;
  const interrupts: (() => void)[] = [];
  const signal = (): AbortSignal => {
    const { signal, release } = interruptSignal(io);
    interrupts.push(release);
    return signal;
  };
  let cli = yargs(args)
    .scriptName('ace-orch')
    .usage('$0 <command> [options]\n\nRuns parallel agent episodes into locked ACE playbooks and audits them for lost observations.')
    .demandCommand(1, NAME_A_COMMAND)
    .middleware(checkFlagValues(args), true)
    .strict()
    .showHelpOnFail(false)
    .version(packageVersion())
    .epilogue('Exit codes: 0 no loss, 1 observations lost or episode files missing, 2 usage error or bad input, 3 internal error, 4 nothing lost but episodes failed, 130 interrupted.')
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err) => {
      // yargs rethrows a `coerce` error (src/cli/commands/flags.ts) as a YError carrying only its message.
      if (err?.name === 'YError') throw new BadInputError(err.message);
      const command = commandNamed(firstWord(args));
      throw err ?? new UsageError(`${yargsMessageLine(msg, args)} (see ace-orch ${command ? `${commandName(command)} ` : ''}--help)`);
    });
  const toLoad = commandsToLoad(args);
  for (const c of COMMANDS) {
    const loaded = toLoad.has(c) ? await c.load() : undefined;
    if (!loaded) {
      // Listed for `--help` and yargs' command matching; yargs dispatches only to the command loaded above.
      cli = cli.command(c.command, c.describe, (y) => y, () => {
        throw new UsageError(`name the command first: ace-orch ${commandName(c)} [options]`);
      });
      continue;
    }
    cli = cli.command(c.command, c.describe, loaded.builder, async (argv) => {
      code = await loaded.execute(argv, io, signal);
    });
  }
  skipHelpCache(cli);
  try {
    await cli.parseAsync();
  } finally {
    if (releaseSignals) for (const release of interrupts) release();
  }
  return code;
}

/**
 * Runs the CLI on `args` (what follows `ace-orch`), writing to `io`, and resolves to the exit code: an
 * AceError becomes its one-line message, anything else an internal error. `--help` and `--version` print
 * to stdout themselves and exit the process, as yargs does. A command's SIGINT/SIGTERM handlers are
 * removed when it returns, so the calling process keeps its own, unless `keepSignalHandlers`.
 */
export async function cliExitCode(args: readonly string[], io: Io = processIo(), { keepSignalHandlers = false } = {}): Promise<number> {
  try {
    return await main([...args], io, !keepSignalHandlers);
  } catch (err: unknown) {
    if (err instanceof AceError) {
      // One line, whatever a message quotes.
      io.err(`ace-orch: ${oneLine(err.message)}`);
      return err.exitCode;
    }
    const e = err as Error;
    io.err(`ace-orch: internal error: ${e?.message ?? String(err)}${process.env['ACE_DEBUG'] ? `\n${e?.stack}` : ' (set ACE_DEBUG=1 for a stack trace)'}`);
    return EXIT.internal;
  }
}

/**
 * The executable's CLI: `process.argv` in, `process.exitCode` out. The interrupt handlers stay until the
 * process exits: a Ctrl-C between the command's return and the exit must not replace its exit code.
 */
export async function runCli(): Promise<void> {
  process.exitCode = await cliExitCode(hideBin(process.argv), processIo(), { keepSignalHandlers: true });
}
