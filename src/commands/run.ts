/** `ace-orch run`: run an experiment on a store, then audit the run. */
import type { Argv } from 'yargs';
import { runExperiment } from '../coordinator.js';
import type { RunEvent } from '../coordinator.js';
import { EXIT } from '../exit-codes.js';
import { auditJson, formatAudit, formatContention } from '../format.js';
import { BadInputError } from '../errors.js';
import { DEFAULT_LOCK_OPTIONS } from '../store/lock.js';
import { Store } from '../store/store.js';
import { commitOption, experimentFromArgs, experimentOptions } from './experiment-args.js';
import type { CommitMode } from '../types.js';
import type { ExperimentArgs } from './experiment-args.js';
import type { Io } from './io.js';
import { prepareReport, reportOption, reportRun } from './report-flag.js';

export interface RunArgs extends ExperimentArgs {
  experiment?: string;
  store: string;
  lock: boolean;
  lockTimeout: number;
  commit: CommitMode;
  json: boolean;
  report?: string;
}

export function runBuilder<T>(y: Argv<T>) {
  return experimentOptions(y.positional('experiment', { type: 'string', describe: 'Experiment JSON file (see experiments/); flags override its fields' }))
    .option('store', { type: 'string', default: './memory', describe: 'Store directory; created if missing, never wiped' })
    .option('lock', {
      type: 'boolean',
      default: true,
      describe: 'Write through the locked merge store; --no-lock uses the pre-fix unlocked read-modify-write, to reproduce the loss',
    })
    .option('commit', commitOption)
    .option('lock-timeout', { type: 'number', default: 30_000, describe: 'Give up (exit 2) when a playbook lock cannot be had within this many ms' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as one JSON object on stdout' })
    .option('report', reportOption);
}

function progressLine(e: Extract<RunEvent, { type: 'episode' }>, failed: number): string {
  const width = 24;
  const filled = Math.round((e.done / e.total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.done}/${e.total} episodes${failed ? `, ${failed} failed` : ''}`;
}

export async function executeRun(args: RunArgs, io: Io, signal?: AbortSignal): Promise<number> {
  const experiment = await experimentFromArgs(args.experiment, args);
  if (!Number.isInteger(args.lockTimeout) || args.lockTimeout < 1) throw new BadInputError(`--lock-timeout: Expected a positive integer (ms), got \`${args.lockTimeout}\``);
  const reportFile = await prepareReport(args.report);
  const store = new Store(args.store, { cap: experiment.cap, lock: { ...DEFAULT_LOCK_OPTIONS, timeoutMs: args.lockTimeout } });
  let failed = 0;
  const result = await runExperiment({
    experiment,
    store,
    mode: args.lock ? 'locked' : 'unlocked',
    commit: args.commit,
    signal,
    onEvent: (e) => {
      if (e.type === 'started') io.progress(`run ${e.runId}: ${e.total} episodes on ${experiment.threads} threads`);
      if (e.type === 'episode') {
        if (!e.outcome.ok) {
          failed++;
          io.err(`episode ${e.outcome.domain} #${e.outcome.index} failed: ${e.outcome.error.message}`);
        }
        io.progress(progressLine(e, failed));
      }
      if (e.type === 'stopping') io.err(`stopping (${e.reason}): letting in-flight episodes finish their writes`);
      if (e.type === 'shard-error') io.err(e.message);
      if (e.type === 'warning') io.err(`warning: ${e.message}`);
    },
  });
  io.progress('');
  const { manifest, report } = result;
  if (args.json) {
    io.out(JSON.stringify({ ...auditJson(report), mode: manifest.mode, status: manifest.status, timings: manifest.timings, contention: manifest.contention }));
  } else {
    const where = experiment.processes > 1 ? `${experiment.processes} processes × ${experiment.threads} threads` : `${experiment.threads} threads`;
    const unlocked = manifest.mode === 'unlocked' ? ' [UNLOCKED pre-fix write path]' : '';
    const commit = manifest.mode === 'locked' ? `, commit ${manifest.commit}` : '';
    io.out(`Run ${manifest.run_id} (${experiment.name})${unlocked}: ${manifest.status}, ${manifest.episodes?.length ?? 0} episodes in ${manifest.timings?.seconds} s on ${where}${commit}; store ${store.root}`);
    io.out('');
    io.out(formatAudit(report));
    io.out(formatContention(manifest.contention ?? {}));
  }
  if (reportFile) await reportRun(reportFile, manifest, store.root, io);
  if (result.fatal) {
    io.err(`ace-orch: ${result.fatal.message}`);
    return EXIT.usage;
  }
  if (!report.zeroLoss) return EXIT.loss;
  return manifest.status === 'interrupted' ? EXIT.interrupted : EXIT.ok;
}
