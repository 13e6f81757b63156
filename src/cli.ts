#!/usr/bin/env node
/**
 * ace-orch: registers one module per command. Handlers return exit codes;
 * this file alone turns errors into one-line messages and sets the exit code.
 */
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { auditBuilder, executeAudit } from './commands/audit.js';
import type { AuditArgs } from './commands/audit.js';
import { compareBuilder, executeCompare } from './commands/compare.js';
import type { CompareArgs } from './commands/compare.js';
import { benchBuilder, executeBench } from './commands/bench.js';
import type { BenchArgs } from './commands/bench.js';
import { chaosBuilder, executeChaos } from './commands/chaos.js';
import type { ChaosArgs } from './commands/chaos.js';
import { processIo } from './commands/io.js';
import { executeRepair, repairBuilder } from './commands/repair.js';
import type { RepairArgs } from './commands/repair.js';
import { executeRun, runBuilder } from './commands/run.js';
import type { RunArgs } from './commands/run.js';
import { AceError, UsageError } from './errors.js';
import { EXIT } from './exit-codes.js';

function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ace-orchestrator' && pkg.version) return pkg.version;
    } catch {
      // Try the next layout (src/ under tsx, dist/src/ when built).
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

async function main(): Promise<number> {
  const io = processIo();
  let code: number = EXIT.ok;
  const cli = yargs(hideBin(process.argv))
    .scriptName('ace-orch')
    .usage('$0 <command> [options]\n\nRuns parallel agent episodes into locked ACE playbooks and audits them for lost observations.')
    .command(
      'run [experiment]',
      'Run an experiment (episodes per domain on a worker-thread pool), then audit the run',
      (y) => runBuilder(y),
      async (argv) => {
        code = await executeRun(argv as unknown as RunArgs, io, interruptSignal(io));
      },
    )
    .command(
      'audit',
      'Print the observation-loss table of a store; exit 1 if anything was lost',
      (y) => auditBuilder(y),
      async (argv) => {
        code = await executeAudit(argv as unknown as AuditArgs, io);
      },
    )
    .command(
      'compare [files..]',
      'Run an experiment once per write mode (unlocked, locked) on fresh stores and compare lost observations; or diff two saved reports',
      (y) => compareBuilder(y),
      async (argv) => {
        code = await executeCompare(argv as unknown as CompareArgs, io, interruptSignal(io));
      },
    )
    .command(
      'repair',
      'Re-merge episodes that crashed between their episode file and their merge; --rebuild a corrupt playbook',
      (y) => repairBuilder(y),
      async (argv) => {
        code = await executeRepair(argv as unknown as RepairArgs, io);
      },
    )
    .command(
      'chaos',
      'Kill (SIGKILL) and pause (SIGSTOP) writer processes at the worst moments, then count what was acknowledged, survived and lost',
      (y) => chaosBuilder(y),
      async (argv) => {
        code = await executeChaos(argv as unknown as ChaosArgs, io);
      },
    )
    .command(
      'bench',
      'Measure merge throughput and lock contention (W writers over P processes); --matrix runs the fixed comparison with the baseline',
      (y) => benchBuilder(y),
      async (argv) => {
        code = await executeBench(argv as unknown as BenchArgs, io);
      },
    )
    .demandCommand(1, 'Name a command: run, audit, compare, repair, chaos or bench')
    .middleware((argv) => {
      // A flag given twice arrives as an array; say so rather than fail later on a strange value.
      for (const [key, value] of Object.entries(argv)) {
        if (key !== '_' && key !== 'files' && Array.isArray(value)) throw new UsageError(`--${key} was given more than once`);
      }
    }, true)
    .strict()
    .showHelpOnFail(false)
    .version(packageVersion())
    .epilogue('Exit codes: 0 no loss, 1 observations lost or episode files missing, 2 usage error or bad input, 3 internal error, 130 interrupted.')
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err) => {
      throw err ?? new UsageError(`${msg} (see ace-orch --help)`);
    });
  await cli.parseAsync();
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof AceError) {
      process.stderr.write(`ace-orch: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      const e = err as Error;
      process.stderr.write(`ace-orch: internal error: ${e?.message ?? String(err)}${process.env['ACE_DEBUG'] ? `\n${e?.stack}` : ' (set ACE_DEBUG=1 for a stack trace)'}\n`);
      process.exitCode = EXIT.internal;
    }
  },
);
