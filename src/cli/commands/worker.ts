/** `ace-orch worker`: claim episodes from a pg-boss queue on any host, play them here, commit them to the run's store. */
import type { Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { QUEUE_ENV } from '../../queue/local-workers.js';
import { intFlag } from './flags.js';
import { count } from '../format.js';
import type { Io } from './io.js';

export interface WorkerArgs {
  queue?: string;
  threads: number;
  concurrency?: number;
  name?: string;
  host?: string;
  verbose: boolean;
}

export function workerBuilder<T>(y: Argv<T>) {
  return y
    .usage(
      '$0 worker [options]\n\nClaim episodes from a PostgreSQL queue (pg-boss), play them on this host and commit them to their run\'s store. Runs until SIGTERM or SIGINT, which let the episodes in flight commit, then exits 0. Each run\'s jobs carry its --claim-seconds, --episode-timeout and --retries; this command sets only how much this host plays at once.',
    )
    .option('queue', { type: 'string', describe: `The queue: postgres://user@host:5432/db[?schema=NAME] (pg-boss schema, default pgboss); the runs' stores live in the same database. Default: $${QUEUE_ENV}, which keeps a password off the command line` })
    .option('threads', { type: 'number', default: 2, coerce: intFlag('threads'), describe: 'Worker threads playing episodes on this host' })
    .option('concurrency', { type: 'number', coerce: intFlag('concurrency'), describe: 'Episodes playing at once (default: --threads); raise it for episodes that mostly wait on model calls' })
    .option('name', { type: 'string', describe: 'This worker\'s name in run manifests (default <hostname>:<pid>)' })
    .option('host', { type: 'string', describe: 'The host name recorded in run manifests (default the OS host name)' })
    .option('verbose', { type: 'boolean', default: false, describe: 'Also print a line for every episode claimed and every episode committed (for logs)' });
}

export async function executeWorker(args: WorkerArgs, io: Io, signal: AbortSignal): Promise<number> {
  // pg-boss is loaded by the one command that needs it, not by every command of the CLI.
  const queue = args.queue ?? process.env[QUEUE_ENV];
  if (!queue) throw new UsageError(`worker needs --queue postgres://… (or $${QUEUE_ENV})`);
  const { runWorker } = await import('../../queue/worker.js');
  // Draining can take as long as the slowest episode in flight: said at once, so the silence is not taken for a hang.
  signal.addEventListener('abort', () => io.err(`worker: ${String(signal.reason)}: claiming no more episodes; finishing the ones in flight and committing them, then exiting`), { once: true });
  const totals = await runWorker({
    queue,
    threads: args.threads,
    concurrency: args.concurrency ?? args.threads,
    id: { ...(args.host ? { host: args.host } : {}), ...(args.name ? { worker: args.name } : {}) },
    signal,
    onEvent: (e) => {
      if (e.type === 'started') {
        io.err(`worker ${e.worker.worker} on ${e.worker.host}: claiming episodes (SIGTERM finishes in-flight episodes, then exits)`);
        // Started by `run --workers` (src/queue/local-workers.ts): the run queues its episodes once its workers claim.
        process.send?.({ type: 'claiming' });
      }
      if (e.type === 'warning') io.err(`warning: ${e.message}`);
      if (args.verbose && e.type === 'claimed') io.err(`claimed ${e.episode_id}`);
      if (args.verbose && e.type === 'episode' && e.outcome === 'committed') io.err(`committed ${e.episode_id}`);
      if (e.type === 'episode' && e.outcome === 'failed') io.err(`episode ${e.episode_id} failed: ${e.error}`);
      if (e.type === 'episode' && e.outcome === 'claim-lost') io.err(`claim lost ${e.episode_id}: it expired before the commit; another worker plays the episode`);
      if (e.type === 'episode' && e.outcome === 'requeued') io.err(`episode ${e.episode_id}: commit failed (${e.error}); queued again`);
    },
  });
  io.out(`worker stopped: ${count(totals.committed, 'episode')} committed, ${totals.claimLost} dropped after losing their claim, ${totals.failed} failed, ${totals.requeued} queued again after a failed commit`);
  return EXIT.ok;
}
