/**
 * ace-orch: registers one module per command. Handlers return exit codes;
 * `main` alone turns errors into one-line messages and an exit code.
 * Importing this module runs nothing: src/bin.ts is the executable entry.
 */
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { auditBuilder, executeAudit } from './commands/audit.js';
import type { AuditArgs } from './commands/audit.js';
import { compareBuilder, executeCompare } from './commands/compare.js';
import type { CompareArgs } from './commands/compare.js';
import { benchBuilder, executeBench } from './commands/bench.js';
import type { BenchArgs } from './commands/bench.js';
import { chaosBuilder, executeChaos } from './commands/chaos.js';
import type { ChaosArgs } from './commands/chaos.js';
import { executeExport, exportBuilder } from './commands/export.js';
import type { ExportArgs } from './commands/export.js';
import { processIo } from './commands/io.js';
import type { Io } from './commands/io.js';
import { executeRepair, repairBuilder } from './commands/repair.js';
import { executeReport, reportBuilder } from './commands/report.js';
import type { ReportArgs } from './commands/report.js';
import type { RepairArgs } from './commands/repair.js';
import { executeRun, runBuilder } from './commands/run.js';
import { executeWorker, workerBuilder } from './commands/worker.js';
import type { WorkerArgs } from './commands/worker.js';
import type { RunArgs } from './commands/run.js';
import { AceError, BadInputError, UsageError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';

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

/** First SIGINT/SIGTERM stops scheduling and lets in-flight writes finish; a second exits at once. */
function interruptSignal(io: ReturnType<typeof processIo>): AbortSignal {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      io.err(`ace-orch: second ${sig}, exiting now; run \`ace-orch audit\` to check the store`);
      process.exit(EXIT.interrupted);
    }
    controller.abort(`${sig} received`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

/** One entry per command module: yargs parses, the module's execute function returns the exit code. */
interface CommandSpec {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<unknown>;
  // The builder declares the flags execute reads; yargs' inferred types stop at this table.
  execute: (args: any, io: Io, signal: () => AbortSignal) => Promise<number>;
}

const COMMANDS: CommandSpec[] = [
  {
    command: 'run [experiment]',
    describe: 'Run an experiment (episodes per domain on a worker-thread pool), then audit the run',
    builder: runBuilder,
    execute: (args: RunArgs, io, signal) => executeRun(args, io, signal()),
  },
  { command: 'audit', describe: 'Print the observation-loss table of a store; exit 1 if anything was lost', builder: auditBuilder, execute: (args: AuditArgs, io) => executeAudit(args, io) },
  {
    command: 'compare [files..]',
    describe: 'Run an experiment once per write mode (unlocked, locked) on fresh stores and compare lost observations; or diff two saved reports',
    builder: compareBuilder,
    execute: (args: CompareArgs, io, signal) => executeCompare(args, io, signal()),
  },
  {
    command: 'report <sources..>',
    describe: 'Write one self-contained HTML page: loss table, comparison and lock charts, the run timeline, playbooks and failures',
    builder: reportBuilder,
    execute: (args: ReportArgs, io) => executeReport(args, io),
  },
  {
    command: 'repair',
    describe: 'Re-merge episodes that crashed between their episode file and their merge; --rebuild a corrupt playbook',
    builder: repairBuilder,
    execute: (args: RepairArgs, io) => executeRepair(args, io),
  },
  {
    command: 'chaos',
    describe: 'Kill (SIGKILL) and pause (SIGSTOP) writer processes at the worst moments, then count what was acknowledged, survived and lost',
    builder: chaosBuilder,
    execute: (args: ChaosArgs, io) => executeChaos(args, io),
  },
  {
    command: 'bench',
    describe: 'Measure merge throughput and lock contention (W writers over P processes); --matrix runs the fixed comparison with the baseline',
    builder: benchBuilder,
    execute: (args: BenchArgs, io) => executeBench(args, io),
  },
  {
    command: 'export',
    describe: 'Write a PostgreSQL store in the reference file layout (playbooks, episode files, manifests) into a new directory',
    builder: exportBuilder,
    execute: (args: ExportArgs, io) => executeExport(args, io),
  },
  {
    command: 'worker',
    describe: 'Claim episodes from a PostgreSQL queue (pg-boss), play them on this host, commit them to their run\'s store; SIGTERM finishes in-flight episodes',
    builder: workerBuilder,
    execute: (args: WorkerArgs, io, signal) => executeWorker(args, io, signal()),
  },
];

/** Parses `argv` (as `process.argv`) and runs the command; resolves to its exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const io = processIo();
  let code: number = EXIT.ok;
  let cli = yargs(hideBin([...argv]))
    .scriptName('ace-orch')
    .usage('$0 <command> [options]\n\nRuns parallel agent episodes into locked ACE playbooks and audits them for lost observations.')
    .demandCommand(1, 'Name a command: run, audit, compare, report, repair, chaos, bench, export or worker')
    .middleware((argv) => {
      // A flag given twice arrives as an array; say so rather than fail later on a strange value.
      for (const [key, value] of Object.entries(argv)) {
        if (key !== '_' && key !== 'files' && key !== 'sources' && Array.isArray(value)) throw new UsageError(`--${key} was given more than once`);
      }
    }, true)
    .strict()
    .showHelpOnFail(false)
    .version(packageVersion())
    .epilogue('Exit codes: 0 no loss, 1 observations lost or episode files missing, 2 usage error or bad input, 3 internal error, 4 nothing lost but episodes failed, 130 interrupted.')
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err) => {
      // yargs rethrows a `coerce` error (src/cli/commands/flags.ts) as a YError carrying only its message.
      if (err?.name === 'YError') throw new BadInputError(err.message);
      throw err ?? new UsageError(`${msg} (see ace-orch --help)`);
    });
  for (const c of COMMANDS) {
    cli = cli.command(c.command, c.describe, c.builder, async (argv) => {
      code = await c.execute(argv, io, () => interruptSignal(io));
    });
  }
  await cli.parseAsync();
  return code;
}

/** Runs the CLI and sets `process.exitCode`: an AceError becomes its one-line message, anything else an internal error. */
export async function runCli(argv: readonly string[] = process.argv): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (err: unknown) {
    if (err instanceof AceError) {
      process.stderr.write(`ace-orch: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      const e = err as Error;
      process.stderr.write(`ace-orch: internal error: ${e?.message ?? String(err)}${process.env['ACE_DEBUG'] ? `\n${e?.stack}` : ' (set ACE_DEBUG=1 for a stack trace)'}\n`);
      process.exitCode = EXIT.internal;
    }
  }
}
