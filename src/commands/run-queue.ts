/** The `--queue` side of `ace-orch run`: flags, checks and progress for a distributed run. */
import type { Argv } from 'yargs';
import type { RunEvent, RunResult } from '../coordinator.js';
import { BadInputError } from '../errors.js';
import type { StoreBackend } from '../store/backend.js';
import type { PgStore } from '../store/pg/pg-store.js';
import type { ExperimentConfig } from '../types.js';
import { intFlag } from './flags.js';
import type { Io } from './io.js';

export interface QueueRunArgs {
  queue?: string;
  workers: number;
  claimSeconds: number;
}

export function queueOptions<T>(y: Argv<T>) {
  return y
    .option('queue', { type: 'string', describe: 'Distribute the episodes through this pg-boss queue (postgres://…, the same database as --store) to `ace-orch worker`s on any host' })
    .option('workers', { type: 'number', default: 0, coerce: intFlag('workers', { min: 0 }), describe: 'With --queue: also start this many local workers (each with --threads threads)' })
    .option('claim-seconds', { type: 'number', default: 60, coerce: intFlag('claim-seconds'), describe: 'With --queue: a claim not committed within this many seconds expires and its episode goes to another worker' });
}

/** Checks the queue flags whether or not --queue is given, so a stray --workers is not silently ignored. */
export function checkQueueArgs(args: QueueRunArgs, processes: number): void {
  if (args.queue === undefined && args.workers > 0) throw new BadInputError('--workers starts queue workers; give --queue postgres://… too');
  if (args.queue !== undefined && processes > 1) throw new BadInputError('--processes and --queue both spread episodes; use --workers with --queue');
}

export async function queuedRun(store: StoreBackend, experiment: ExperimentConfig, capFromStore: boolean, args: QueueRunArgs & { queue: string }, io: Io, onEvent: (e: RunEvent) => void, signal?: AbortSignal): Promise<RunResult> {
  if (store.kind !== 'postgres') throw new BadInputError(`--queue needs a PostgreSQL --store the workers can reach (postgres://…, the queue's database), not ${store.location}`);
  // pg-boss is loaded only for a queued run.
  const { runDistributed } = await import('../queue/distributed-run.js');
  return runDistributed({
    experiment,
    store: store as PgStore,
    queue: args.queue,
    workers: args.workers,
    concurrency: experiment.concurrency,
    claimSeconds: args.claimSeconds,
    capFromStore,
    signal,
    onEvent: (e) => {
      if (e.type === 'started') io.err(`run ${e.runId}: ${e.total} episodes queued; ${args.workers ? `${args.workers} local workers started` : 'start `ace-orch worker --queue …` on your hosts'}`);
      onEvent(e);
    },
  });
}
