/** The `--queue` side of `ace-orch run`: flags, checks and progress for a distributed run. */
import type { Argv } from 'yargs';
import { worstPlayMs } from '../../run/attempts.js';
import type { RunEvent, RunResult } from '../../run/coordinator.js';
import { BadInputError } from '../../core/errors.js';
import type { StoreBackend } from '../../store/backend.js';
import type { PgStore } from '../../store/pg/pg-store.js';
import type { ExperimentConfig } from '../../core/types.js';
import { intFlag } from './flags.js';
import { count } from '../format.js';
import type { Io } from './io.js';

export interface QueueRunArgs {
  queue?: string;
  workers: number;
  claimSeconds?: number;
}

export function queueOptions<T>(y: Argv<T>) {
  return y
    .option('queue', { type: 'string', describe: 'Distribute the episodes through this pg-boss queue (postgres://…, the same database as --store) to `ace-orch worker`s on any host' })
    .option('workers', { type: 'number', default: 0, coerce: intFlag('workers', { min: 0 }), describe: 'With --queue: also start this many local workers (each with --threads threads)' })
    .option('claim-seconds', { type: 'number', coerce: intFlag('claim-seconds'), describe: 'With --queue: a claim not committed within this many seconds expires and its episode goes to another worker (default 60)' });
}

/** How long a worker may hold an episode before it goes to another, unless --claim-seconds says otherwise. */
const DEFAULT_CLAIM_SECONDS = 60;

/** Checks the queue flags whether or not --queue is given, so a stray --workers or --claim-seconds is not silently ignored. */
export function checkQueueArgs(args: QueueRunArgs, processes: number, rate?: number, commit?: string): void {
  if (args.queue === undefined && args.workers > 0) throw new BadInputError('--workers starts queue workers; give --queue postgres://… too');
  if (args.queue === undefined && args.claimSeconds !== undefined) throw new BadInputError('--claim-seconds is how long a queue worker may hold an episode; give --queue postgres://… too');
  if (args.queue !== undefined && processes > 1) throw new BadInputError('--processes and --queue both spread episodes; use --workers with --queue');
  // Workers on other hosts start episodes as they claim them: no limiter is shared with them yet, and a rate the
  // run records but never applies would overrun the model API it was meant to protect.
  if (args.queue !== undefined && rate) throw new BadInputError('--rate (or the experiment\'s `rate`) limits the starts of a local run; a queued run\'s workers claim episodes as fast as their --concurrency allows (drop it, or lower the workers\' --concurrency)');
  // Workers commit each claim's episodes in their own batches: the one write path a queued run has.
  if (args.queue !== undefined && commit !== undefined && commit !== 'batched') throw new BadInputError(`--commit ${commit}: a queued run's workers commit their claimed episodes in batches, each in one transaction (drop --commit)`);
}

/**
 * A claim must outlast an episode's attempts, or its episode goes to a second worker while the first
 * still plays it (and that worker's play is wasted). Refuses a claim shorter than the worst case; a
 * warning when no --episode-timeout bounds the play.
 */
function checkClaimLength(experiment: ExperimentConfig, claimSeconds: number): string | undefined {
  const timeoutMs = experiment.episodeTimeoutMs ?? 0;
  const retries = experiment.retries ?? 0;
  const worst = worstPlayMs(timeoutMs, retries, experiment.retryDelayMs ?? 1000);
  if (!worst) return `no --episode-timeout: an episode that plays longer than --claim-seconds ${claimSeconds} loses its claim and is played again by another worker`;
  if (worst.ms <= claimSeconds * 1000) return undefined;
  const attempts = `${retries + 1} attempt${retries ? 's' : ''} × --episode-timeout ${timeoutMs} ms${retries ? ` + up to ${worst.backoffMs} ms of retry backoff` : ''}`;
  throw new BadInputError(`--claim-seconds ${claimSeconds} is shorter than an episode's longest play (${attempts} = ${Math.ceil(worst.ms / 1000)} s): raise --claim-seconds above it, or lower --episode-timeout or --retries`);
}

export async function queuedRun(store: StoreBackend, experiment: ExperimentConfig, capFromStore: boolean, args: QueueRunArgs & { queue: string }, io: Io, onEvent: (e: RunEvent) => void, signal?: AbortSignal): Promise<RunResult> {
  if (store.kind !== 'postgres') throw new BadInputError(`--queue needs a PostgreSQL --store the workers can reach (postgres://…, the queue's database), not ${store.location}`);
  const claimSeconds = args.claimSeconds ?? DEFAULT_CLAIM_SECONDS;
  const warning = checkClaimLength(experiment, claimSeconds);
  // pg-boss is loaded only for a queued run.
  const { runDistributed } = await import('../../queue/distributed-run.js');
  const result = await runDistributed({
    experiment,
    store: store as PgStore,
    queue: args.queue,
    workers: args.workers,
    concurrency: experiment.concurrency,
    claimSeconds,
    capFromStore,
    signal,
    // Said once the queue and the store have been checked: a refused run gets its one line, not this first.
    ...(warning ? { warnings: [warning] } : {}),
    onEvent: (e) => {
      if (e.type === 'started') io.err(`run ${e.runId}: ${count(e.total, 'episode')} queued; ${args.workers ? `${count(args.workers, 'local worker')} started` : 'start `ace-orch worker --queue …` on your hosts'}`);
      onEvent(e);
    },
  });
  // All local workers exited with episodes unplayed: the run stopped (exit 4), and says why in one line.
  if (result.manifest.status === 'stopped' && result.manifest.stop_reason) io.err(`ace-orch: ${result.manifest.stop_reason}`);
  return result;
}
