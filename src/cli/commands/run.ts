/** `ace-orch run`: run an experiment on a store, then audit the run. */
import type { Argv } from 'yargs';
import { checkWritePath, DEFAULT_COMMIT, runExperiment } from '../../run/coordinator.js';
import { poolThreads } from '../../run/episode-pool.js';
import type { ResumePlan, RunEvent } from '../../run/coordinator.js';
import { planResume, readRunToResume } from '../../run/resume.js';
import { resolveExperiment } from '../../run/experiment.js';
import { assertStoreExists } from '../../store/snapshot.js';
import { EXIT, runExitCode } from '../../core/exit-codes.js';
import { formatEfficiency } from '../../core/efficiency.js';
import { auditJson, count, formatAudit, formatContention, formatRetries } from '../format.js';
import { summarizeRetries } from '../../core/retries.js';
import { BadInputError, CapRefusedError, UsageError } from '../../core/errors.js';
import { intFlag } from './flags.js';
import { DEFAULT_LOCK_OPTIONS } from '../../store/lock-options.js';
import { Store } from '../../store/store.js';
import { isPostgresUrl } from '../../store/backend.js';
import type { StoreBackend } from '../../store/backend.js';
import type { PgStore } from '../../store/pg/pg-store.js';
import { maskUrl } from '../../store/pg/url.js';
import { openStore } from '../../store/open.js';
import { commitOption, experimentAndCapFromArgs, experimentOptions } from './experiment-args.js';
import type { CommitMode, EpisodeEntry, ExperimentConfig } from '../../core/types.js';
import { emptyProgress, nextLineAt, progressLine } from '../progress.js';
import type { ExperimentArgs } from './experiment-args.js';
import type { Io } from './io.js';
import { prepareReport, reportOption, reportRun } from './report-flag.js';
import { checkQueueArgs, queueOptions, queuedRun } from './run-queue.js';
import { storeArg } from '../../core/store-arg.js';
import type { QueueRunArgs } from './run-queue.js';

export interface RunArgs extends ExperimentArgs, QueueRunArgs {
  experiment?: string;
  store: string;
  /** Undefined when not given (locked): a resume can then tell that it was, and refuse it. */
  lock?: boolean;
  lockTimeout: number;
  /** Undefined when not given (DEFAULT_COMMIT), for the same reason. */
  commit?: CommitMode;
  json: boolean;
  progress: 'auto' | 'lines' | 'none';
  resume?: string;
  report?: string;
}

export function runBuilder<T>(y: Argv<T>) {
  return queueOptions(experimentOptions(y.positional('experiment', { type: 'string', describe: 'Experiment JSON file (see experiments/); flags override its fields' }))
    .option('store', { type: 'string', default: './memory', describe: 'Store: a directory (created if missing, never wiped) or postgres://user@host:5432/db[?schema=NAME]' })
    .option('lock', {
      type: 'boolean',
      describe: 'Write through the locked merge store (the default); --no-lock uses the pre-fix unlocked read-modify-write, to reproduce the loss',
    })
    .option('commit', { choices: commitOption.choices, describe: `${commitOption.describe} (default ${DEFAULT_COMMIT})` })
    .option('lock-timeout', { type: 'number', default: 30_000, coerce: intFlag('lock-timeout', { unit: 'ms' }), describe: 'Give up (exit 2) when a playbook lock cannot be had within this many ms' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as one JSON object on stdout' })
    .option('progress', {
      choices: ['auto', 'lines', 'none'] as const,
      default: 'auto' as const,
      describe: 'auto: one updating line on an interactive terminal, nothing otherwise; lines: a line per 10% (for logs); none',
    })
    .option('resume', { type: 'string', describe: 'Finish run RUN_ID of --store: merge what it left unmerged, play only its episodes without a file, same ids, config and write path; only how fast may change (threads, concurrency, rate)' })
    .option('report', reportOption));
}

/**
 * With --resume the run's own config applies; experiment flags would silently differ from it. How fast the rest is
 * played may change (--threads, --concurrency, --rate): a queued run's config holds no concurrency of its workers,
 * and its resume would otherwise crawl at the default.
 */
const EXPERIMENT_FLAGS = ['domains', 'episodes', 'processes', 'episodeMs', 'cap', 'seed', 'episodeTimeout', 'retries', 'retryDelay', 'maxFailures'] as const;

async function resumePlan(args: RunArgs, io: Io): Promise<{ plan?: ResumePlan; experiment: ExperimentConfig; done?: number }> {
  const extra = [
    args.experiment && 'an experiment file',
    ...EXPERIMENT_FLAGS.filter((k) => args[k] !== undefined).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`),
    // The write path is the run's too: its manifest's mode and commit.
    args.lock !== undefined && (args.lock ? '--lock' : '--no-lock'),
    args.commit !== undefined && '--commit',
  ].filter(Boolean);
  if (extra.length) throw new UsageError(`--resume runs the run's own config; drop ${extra.join(', ')}`);
  if (args.queue !== undefined) throw new UsageError('--resume plays the run here; a distributed run (--queue) resumes by starting workers again');
  const store = await openStore(args.store);
  try {
    if (store instanceof Store) await assertStoreExists(store);
    const manifest = await readRunToResume(store, args.resume!);
    if (manifest.queue) {
      // Episodes still queued or claimed are its workers' to play: playing them here too would play (and pay for) them
      // twice. A run that stopped withdrew its unclaimed ones, so what is left of it is played here.
      // Loaded here only: the queue's module brings pg-boss, which a run on a file store never needs.
      const { queuedEpisodesLeft } = await import('../../queue/left.js');
      const left = await queuedEpisodesLeft(store as PgStore, manifest.run_id, manifest.queue);
      if (left > 0) throw new BadInputError(`--resume: run ${manifest.run_id} still has ${count(left, 'episode')} in queue ${manifest.queue}; start \`ace-orch worker --queue ...\` to finish ${left === 1 ? 'it' : 'them'}`);
    }
    const { complete, plan, recovered } = await planResume(store, manifest);
    const record = store.kind === 'file' ? 'file' : 'record';
    if (complete) {
      io.out(`Run ${manifest.run_id} is complete: every episode has its ${record} and its merge; nothing to do, nothing written.`);
      return { experiment: manifest.config, done: EXIT.ok };
    }
    io.err(`resuming run ${manifest.run_id}: ${plan.keep.length} episodes done (${recovered.length} merged from their ${record}s now), ${plan.assignments.length} to play`);
    const pace = { threads: args.threads, concurrency: args.concurrency, rate: args.rate };
    // --threads alone means what it means for a new run, one episode in flight per thread: not the recorded concurrency.
    const { concurrency: _recorded, ...config } = manifest.config;
    const experiment = resolveExperiment([
      { input: args.threads !== undefined && args.concurrency === undefined ? config : manifest.config, source: `run ${manifest.run_id}` },
      { input: pace, source: '--flags' },
    ]);
    return { plan, experiment };
  } finally {
    await store.close();
  }
}

export async function executeRun(args: RunArgs, io: Io, signal?: AbortSignal): Promise<number> {
  const reportFile = await prepareReport(args.report);
  let resume: ResumePlan | undefined;
  let experiment: ExperimentConfig;
  let capRequested = false;
  if (args.resume !== undefined) {
    const r = await resumePlan(args, io);
    if (r.done !== undefined) return r.done;
    resume = r.plan;
    experiment = r.experiment;
  } else {
    // Before the store is opened: opening a PostgreSQL store may create its tables.
    checkWritePath(args.lock === false ? 'unlocked' : 'locked', args.commit ?? DEFAULT_COMMIT, isPostgresUrl(args.store) ? 'postgres' : 'file', maskUrl(args.store));
    ({ experiment, capRequested } = await experimentAndCapFromArgs(args.experiment, args));
  }
  const store = await openStore(args.store, { cap: experiment.cap, lock: { ...DEFAULT_LOCK_OPTIONS, timeoutMs: args.lockTimeout } });
  try {
    return await runOn(store, { experiment, capRequested, reportFile, ...(resume ? { resume } : {}) }, args, io, signal);
  } catch (err) {
    // The cap came from the experiment file, not from a --cap the user never typed: name the file's field.
    if (err instanceof CapRefusedError && args.cap === undefined && args.experiment !== undefined) {
      const file = args.experiment;
      throw err.sayAs({ name: (_, value) => (value === undefined ? 'its `cap`' : `${file}: \`cap\` ${value}`), give: (_, value) => `set its \`cap\` to ${value}` });
    }
    throw err;
  } finally {
    await store.close();
  }
}

/** How often the interactive progress line is redrawn at most. */
const PROGRESS_REDRAW_MS = 100;

interface RunPlan {
  experiment: ExperimentConfig;
  capRequested: boolean;
  reportFile: string | undefined;
  resume?: ResumePlan;
}

async function runOn(store: StoreBackend, { experiment, capRequested, reportFile, resume }: RunPlan, args: RunArgs, io: Io, signal?: AbortSignal): Promise<number> {
  checkQueueArgs(args, experiment.processes, experiment.rate, args.commit);
  const progress = { ...emptyProgress(0), ...(args.queue !== undefined ? { retriedAs: 'handed out again' as const } : {}) };
  const t0 = performance.now();
  let nextLine = 0;
  let drawnAt = -Infinity;
  const show = (): void => {
    const now = performance.now();
    progress.elapsedMs = now - t0;
    if (args.progress === 'auto') {
      // A redraw per episode start and end is a synchronous terminal write each on the thread that feeds the pool: 10 a second are plenty.
      if (now - drawnAt < PROGRESS_REDRAW_MS && progress.done !== progress.total) return;
      drawnAt = now;
      io.progress(progressLine(progress));
    } else if (args.progress === 'lines' && (progress.done >= nextLine || progress.done === progress.total)) {
      io.err(progressLine(progress));
      nextLine = nextLineAt(progress.done, progress.total);
    }
  };
  // Local and queued runs report through the same events, so --progress means the same for both.
  const onEvent = (e: RunEvent): void => {
    if (e.type === 'started') {
      progress.total = e.total;
      nextLine = nextLineAt(0, e.total);
      if (args.queue === undefined && args.progress !== 'none') io.progress(`run ${e.runId}: ${count(e.total, 'episode')}, ${experiment.concurrency ?? experiment.threads} in flight on ${count(experiment.threads, 'thread')}`);
    }
    if (e.type === 'progress') Object.assign(progress, { done: e.done, failed: e.failed, inFlight: e.inFlight, retried: e.retried });
    if (e.type === 'episode-started') progress.inFlight++;
    if (e.type === 'retry') progress.retried++;
    // In flight means playing: a played episode's slot is free while its commit is pending.
    if (e.type === 'episode-played') progress.inFlight = Math.max(0, progress.inFlight - 1);
    if (e.type === 'episode') {
      progress.done = e.done;
      if (!e.outcome.ok) {
        progress.failed++;
        io.err(`episode ${e.outcome.domain} #${e.outcome.index} failed: ${e.outcome.error.code}: ${e.outcome.error.message}`);
      }
    }
    if (e.type === 'episode-started' || e.type === 'episode-played' || e.type === 'episode' || e.type === 'progress') show();
    if (e.type === 'stopping') {
      const inFlight = {
        cancelled: 'episodes in flight are told to stop (their ctx.signal); those that finish are written; a second Ctrl-C leaves at once',
        finishing: 'letting in-flight episodes finish their writes',
        'on-workers': 'episodes workers have claimed finish there and are written',
      }[e.inFlight];
      io.err(`stopping (${e.reason}): no new episodes; ${inFlight}`);
    }
    if (e.type === 'shard-error') io.err(e.message);
    if (e.type === 'warning') io.err(`warning: ${e.message}`);
  };
  const result = args.queue !== undefined ? await queuedRun(store, experiment, !capRequested, { ...args, queue: args.queue }, io, onEvent, signal) : await runExperiment({
    experiment,
    store,
    mode: resume ? resume.manifest.mode : args.lock === false ? 'unlocked' : 'locked',
    commit: resume?.manifest.commit ?? args.commit ?? DEFAULT_COMMIT,
    // A resumed run keeps the cap its manifest recorded; a new one takes the store's unless --cap was given.
    capFromStore: resume ? false : !capRequested,
    signal,
    ...(resume ? { resume } : {}),
    onEvent,
  });
  io.progress('');
  const { manifest, report } = result;
  const done = manifest.episodes?.length ?? 0;
  const planned = Object.values(manifest.domains).reduce((n, d) => n + d.scheduled, 0);
  const retries = summarizeRetries(manifest.episodes ?? []);
  // A queued run's episodes the queue handed out again: each a play started again, not in any attempt count.
  const handedOut = manifest.queue ? handedOutAgain(manifest.episodes ?? []) : undefined;
  if (args.json) {
    io.out(JSON.stringify({ ...auditJson(report), mode: manifest.mode, status: manifest.status, timings: manifest.timings, contention: manifest.contention, retries, ...(handedOut ? { handedOut } : {}) }));
  } else {
    // The threads its pool started: never more than it had episodes to play.
    const played = resume ? resume.assignments.length : experiment.domains.length * experiment.episodes;
    const where = manifest.queue ? `queue ${manifest.queue}` : experiment.processes > 1 ? `${experiment.processes} processes × ${experiment.threads} threads` : count(poolThreads(experiment.threads, played), 'thread');
    const unlocked = manifest.mode === 'unlocked' ? ' [UNLOCKED pre-fix write path]' : '';
    const commit = manifest.mode === 'locked' ? `, commit ${manifest.commit}` : '';
    // A resumed run's episodes include those its first invocation played; its time, efficiency and lock line are this invocation's.
    const failed = report.domains.reduce((n, d) => n + (d.failed ?? 0), 0);
    const counted = `${count(done, 'episode')}${manifest.status !== 'complete' && done < planned ? ` of ${planned}` : ''}${failed ? ` (${failed} failed)` : ''}${resume ? ` (${result.played ?? resume.assignments.length} played by this resume)` : ''}`;
    io.out(`Run ${manifest.run_id} (${experiment.name})${unlocked}: ${manifest.status}, ${counted} in ${manifest.timings?.seconds} s on ${where}${commit}; store ${store.location}`);
    // A queued run's episodes are played by workers it does not know the number of.
    // A resume with nothing left to play has no lane to be efficient in.
    if (manifest.timings?.concurrency !== undefined && manifest.timings.lanes !== 0) io.out(formatEfficiency(manifest.timings));
    io.out('');
    io.out(formatAudit(report));
    // A queued run's workers report their lock timings in their jobs' output; workers of an earlier version report none.
    io.out(
      manifest.mode === 'unlocked'
        ? 'lock: none (the unlocked mode overwrites the playbook without one)'
        : manifest.queue && !manifest.contention
          ? 'lock: not recorded (this run\'s workers reported no lock timings)'
          : formatContention(manifest.contention ?? {}),
    );
    const retryLine = formatRetries(retries, experiment.rate);
    if (retryLine) io.out(retryLine);
    if (handedOut?.episodes) io.out(`queue: ${count(handedOut.episodes, 'episode')} handed out again, ${count(handedOut.plays, 'play')} started again (claims that expired, workers that died, commits that failed)`);
  }
  if (reportFile) await reportRun(reportFile, manifest, store, io);
  // Stopped or interrupted before every episode ran (or before its failed ones were played again, which a resume
  // that stopped early keeps as failed): the one command that finishes it (a queued run's workers do).
  if (!manifest.queue && manifest.status !== 'complete' && (done < planned || manifest.episodes?.some((e) => e.status === 'failed'))) {
    io.err(`to finish run ${manifest.run_id}: ace-orch run --resume ${manifest.run_id} --store ${storeArg(store.location)}`);
  }
  if (result.fatal) {
    io.err(`ace-orch: ${result.fatal.message}`);
    return EXIT.usage;
  }
  return runExitCode(report.zeroLoss, manifest);
}

/** Episodes a queue handed out more than once, and the plays that started again because of it. */
function handedOutAgain(entries: readonly EpisodeEntry[]): { episodes: number; plays: number } {
  const again = entries.filter((e) => (e.handed_out ?? 0) > 0);
  return { episodes: again.length, plays: again.reduce((n, e) => n + e.handed_out!, 0) };
}
