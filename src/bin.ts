#!/usr/bin/env node
/** The `ace-orch` executable: the only module that runs the CLI on import. */
import { runCli } from './cli/cli.js';
import { describeError } from './core/errors.js';
import { EXIT } from './core/exit-codes.js';

// A promise nobody awaited rejected: a bug in ace-orch. One line and the internal exit code, not Node's stack dump.
process.on('unhandledRejection', (err) => {
  process.stderr.write(`ace-orch: internal error (unhandled rejection): ${describeError(err)}${process.env['ACE_DEBUG'] ? `\n${(err as Error)?.stack}` : ' (set ACE_DEBUG=1 for a stack trace)'}\n`);
  process.exit(EXIT.internal);
});

// A reader that stops early (`ace-orch run ... | head`) closes stdout: the command's work and its exit
// code stand, and what it still prints goes nowhere rather than crashing it with EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

await runCli();
