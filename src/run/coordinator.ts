/**
 * The coordinator: runs an experiment's episodes on a worker pool (or across
 * several shard processes, each with its own pool), records every outcome,
 * writes the run manifest and audits the run. Workers persist through the
 * store themselves; the coordinator never writes a playbook.
 */
import { randomBytes } from 'node:crypto';
import { SettingError } from '../core/errors.js';
import { episodeTrace, epochMs } from './episode-clock.js';
import { runEfficiency } from '../core/efficiency.js';
import { episodeId } from '../core/episode.js';
import { attemptFields, withEarlierAttempts } from './messages.js';
import type { Assignment, EpisodeOutcome, MergeTiming } from './messages.js';
import { rateGate } from './rate-gate.js';
import { roundRobin, scheduleEpisodes } from './scheduler.js';
import { closeRun, openRun, runningManifest } from './run-frame.js';
import { episodePool } from './episode-pool.js';
import type { EpisodePool } from './episode-pool.js';
import { runShards } from './shards.js';
import { summarizeMerges } from '../core/stats.js';
import type { StoreBackend } from '../store/backend.js';
import type { AuditReport, CommitMode, EpisodeEntry, ExperimentConfig, LockStats, RunManifest, WriteMode } from '../core/types.js';

/** How a run commits merges unless told otherwise. */
export const DEFAULT_COMMIT: CommitMode = 'batched';

export interface RunOptions {
  experiment: ExperimentConfig;
  store: StoreBackend;
  /** @default a new unique id */
  runId?: string;
  /** @default 'locked' */
  mode?: WriteMode;
  /** @default DEFAULT_COMMIT */
  commit?: CommitMode;
  /**
   * True when `experiment.cap` is only the default (no `--cap`, no `cap` in the file): the
   * store's recorded cap replaces it. Otherwise `experiment.cap` is the requested cap,
   * checked against the store (src/core/cap.ts). @default false
   */
  capFromStore?: boolean;
  /** An interruption: stops scheduling and fires in-flight episodes' ctx.signal; episodes that complete still write. */
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** Finish an earlier run (see src/run/resume.ts): its manifest, the entries kept, and the episodes left to play. */
  resume?: ResumePlan;
}

/** What `--resume` carries over from an interrupted run. */
export interface ResumePlan {
  manifest: RunManifest;
  /** Entries of episodes that have their file: done, never played again. */
  keep: EpisodeEntry[];
  /** Episodes without a file, with their original domains and indices (hence ids). */
  assignments: Assignment[];
}

export type RunEvent =
  | { type: 'started'; runId: string; total: number }
  | { type: 'episode'; outcome: EpisodeOutcome; done: number; total: number }
  /** A queued run sees no episode's outcome, only counts in the store and queue: done includes failed. */
  | { type: 'progress'; done: number; failed: number; inFlight: number; total: number; /** Episodes the queue handed out again (claim expired, commit failed). */ retried: number }
  | { type: 'episode-started'; assignment: Assignment }
  /** Its play ended (ok or not): its slot is free, its commit may still be pending. */
  | { type: 'episode-played'; assignment: Assignment }
  | { type: 'retry'; assignment: Assignment; error: string }
  /**
   * No new episode starts. In flight: `cancelled`, told to stop through their ctx.signal (an interrupt; what finishes
   * is still written), `finishing` (a failure limit, a fatal error), or `on-workers` (a queued run's claimed episodes).
   */
  | { type: 'stopping'; reason: string; inFlight: 'cancelled' | 'finishing' | 'on-workers' }
  | { type: 'shard-error'; message: string }
  | { type: 'warning'; message: string };

export interface RunResult {
  manifest: RunManifest;
  report: AuditReport;
  /** Episodes this invocation played (a resume's kept and carried-over episodes are not). */
  played?: number;
  /** Set when the run stopped on bad input or a lock timeout: the CLI exits 2 with this message. */
  fatal?: { code: string; message: string };
}

/** Sortable, and unique across processes: time to the second plus 48 random bits. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(6).toString('hex')}`;
}

/**
 * The write path's flags against the store, before anything is written or played. `location` is
 * already masked. Shared commits fold the file store's pending batch files under its lock: a
 * PostgreSQL store commits each batch in one transaction, and the unlocked path takes no lock.
 */
export function checkWritePath(mode: WriteMode, commit: CommitMode, kind: StoreBackend['kind'], location: string): void {
  if (mode === 'unlocked' && kind !== 'file') throw new SettingError((n) => `${n.name('mode', 'unlocked')} reproduces the file store's pre-fix loss; it has no meaning for ${location}`);
  if (commit !== 'shared') return;
  if (kind !== 'file') throw new SettingError((n) => `${n.name('commit', 'shared')} folds the file store's pending batch files; ${location} is a PostgreSQL store, which commits each batch in one transaction (use ${n.name('commit', 'batched')})`);
  if (mode === 'unlocked') throw new SettingError((n) => `${n.name('commit', 'shared')} folds batches under the playbook lock; ${n.name('mode', 'unlocked')} takes none (use ${n.name('commit', 'each')} or ${n.name('commit', 'batched')})`);
}

export async function runExperiment(options: RunOptions): Promise<RunResult> {
  // Once per run, before anything is written or played: not per episode after its (paid) model calls.
  checkWritePath(options.mode ?? 'locked', options.commit ?? DEFAULT_COMMIT, options.store.kind, options.store.location);
  const { store } = options;
  const emit = options.onEvent ?? (() => {});
  // The worker threads start once the store has been checked (a store that refuses the run costs no
  // thread start-up), and boot while the rest of the store is prepared and the manifest written.
  // Shard processes start their own.
  const planned = options.resume?.assignments.length ?? options.experiment.domains.length * options.experiment.episodes;
  let pool: EpisodePool | undefined;
  const startPool = (checked: ExperimentConfig): void => {
    if (checked.processes === 1) pool = episodePool(checked.threads, checked.concurrency ?? checked.threads, planned);
  };
  try {
    const experiment = await openRun(store, options.experiment, options.capFromStore ?? false, (message) => emit({ type: 'warning', message }), startPool, options.resume?.manifest.run_id);
    return await runOpened(options, experiment, pool);
  } finally {
    // Already destroyed by the scheduler, unless setting up the run failed.
    await pool?.destroy();
  }
}

async function runOpened(options: RunOptions, experiment: ExperimentConfig, pool: EpisodePool | undefined): Promise<RunResult> {
  const { store } = options;
  const mode = options.mode ?? 'locked';
  const commit = options.commit ?? DEFAULT_COMMIT;
  const emit = options.onEvent ?? (() => {});
  const resume = options.resume;
  const runId = resume?.manifest.run_id ?? options.runId ?? newRunId();
  const assignments = resume?.assignments ?? roundRobin(experiment.domains, experiment.episodes);
  const counts = (d: string) => ({
    scheduled: experiment.episodes,
    completed: resume?.keep.filter((e) => e.domain === d).length ?? 0,
    failed: 0,
  });
  const manifest: RunManifest = {
    ...resume?.manifest,
    ...runningManifest(runId, experiment, mode, commit, { store: store.location }),
    domains: Object.fromEntries(experiment.domains.map((d) => [d, counts(d)])),
    ...(resume ? { started_at: resume.manifest.started_at, resumed_at: [...(resume.manifest.resumed_at ?? []), new Date().toISOString()] } : {}),
  };
  // A resumed run's manifest says `running` again, with this pid and only its done episodes, until the end.
  delete manifest.finished_at;
  delete manifest.stop_reason;
  delete manifest.audit;
  // The episodes it recorded failed, which it plays again, stay in the record until they are played: a resume that
  // is killed, or stops first, keeps their attempts for the next (the carry-over at the end does the same).
  const plannedIds = new Set(assignments.map((a) => episodeId(runId, a.domain, a.index)));
  const carried = (resume?.manifest.episodes ?? []).filter((e) => e.status === 'failed' && plannedIds.has(e.episode_id));
  if (resume) manifest.episodes = [...resume.keep, ...carried];
  // A queued run resumed here is played here: what is left of it has no queue (its episodes keep their workers).
  delete manifest.queue;
  await store.writeManifest(manifest);
  emit({ type: 'started', runId, total: assignments.length });

  const entries: EpisodeEntry[] = [...(resume?.keep ?? [])];
  let failures = 0;
  let tooManyFailures = false;
  let busyMs = 0;
  // Epoch ms of the first episode start any thread or process reported: the end of worker start-up.
  let firstStart = Infinity;
  const merges = new Map<string, MergeTiming[]>(experiment.domains.map((d) => [d, []]));
  const stopper = new AbortController();
  let fatal: RunResult['fatal'];
  const stop = (reason: string, inFlight: 'cancelled' | 'finishing' = 'finishing'): void => {
    if (stopper.signal.aborted) return;
    stopper.abort(reason);
    emit({ type: 'stopping', reason, inFlight });
  };
  // The caller's signal also reaches every episode in flight (their ctx.signal): see scheduleEpisodes' `cancel`.
  const onAbort = (): void => stop(String(options.signal?.reason ?? 'interrupted'), 'cancelled');
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) onAbort();

  // A resumed run's episodes that its earlier process recorded failed: their attempts are added to the new ones.
  const earlier = new Map(carried.map((e) => [e.episode_id, e]));
  const onOutcome = (outcome: EpisodeOutcome): void => {
    const counts = manifest.domains[outcome.domain]!;
    busyMs += outcome.playMs ?? outcome.ms;
    if (outcome.clock && outcome.clock.start < firstStart) firstStart = outcome.clock.start;
    // The unlocked mode takes no lock: its zero timings are not lock timings.
    const trace = episodeTrace(outcome.clock, traceOrigin, outcome.ok && mode === 'locked' ? outcome.merge : undefined);
    const base: EpisodeEntry = {
      episode_id: outcome.episode_id,
      domain: outcome.domain,
      index: outcome.index,
      status: 'unknown',
      ...withEarlierAttempts(attemptFields(outcome), earlier.get(outcome.episode_id)),
      ...(trace ? { trace } : {}),
    };
    if (outcome.ok) {
      counts.completed++;
      if (outcome.merge) merges.get(outcome.domain)!.push(outcome.merge);
      entries.push({ ...base, status: 'ok', score: outcome.score, reliability: outcome.reliability });
    } else {
      counts.failed++;
      // An episode that failed because the run was interrupted is no failure of the agent's for --max-failures to count.
      if (outcome.error.code !== 'E_STOPPED') failures++;
      entries.push({ ...base, status: 'failed', error: `${outcome.error.code}: ${outcome.error.message}` });
    }
    emit({ type: 'episode', outcome, done: entries.length - (resume?.keep.length ?? 0), total: assignments.length });
    // After the episode's own event, so that what stops the run is said before the stop.
    if (outcome.ok) return;
    if (outcome.error.fatal && !fatal) {
      fatal = { code: outcome.error.code, message: outcome.error.message };
      stop(outcome.error.message);
    }
    if (experiment.maxFailures !== undefined && failures > experiment.maxFailures && !tooManyFailures) {
      tooManyFailures = true;
      stop(`more than ${experiment.maxFailures} episodes failed (--max-failures)`);
    }
  };
  // Episodes whose shard process died after starting them: their fate is unknown until the audit (or repair) decides.
  // A shard process that died took its in-flight episodes (never acknowledged: failed, and --resume plays them again,
  // or repair merges one that wrote its file) and the ones it had not started (not run) with it: the run stopped.
  let shardFailure: string | undefined;
  const onShardError = (message: string, inFlightThere: Assignment[]): void => {
    emit({ type: 'shard-error', message });
    shardFailure ??= message;
    for (const a of inFlightThere) {
      const id = episodeId(runId, a.domain, a.index);
      entries.push({ episode_id: id, domain: a.domain, index: a.index, status: 'failed', ...withEarlierAttempts({}, earlier.get(id)), error: `E_SHARD: in flight when ${message}` });
      manifest.domains[a.domain]!.failed++;
    }
  };

  const started = performance.now();
  const scheduled = epochMs();
  // A resume's episodes go on the run's one timeline: their traces count from the run's first origin, as the
  // episodes it keeps do (a new origin would draw both from 0, one over the other, in the report).
  const earlierOrigin = resume?.manifest.trace_origin ? Date.parse(resume.manifest.trace_origin) : NaN;
  const traceOrigin = Number.isFinite(earlierOrigin) ? earlierOrigin : scheduled;
  manifest.trace_origin = new Date(traceOrigin).toISOString();
  const job = { store: store.root, runId, experiment, mode, commit, lock: store.options.lock, signal: stopper.signal };
  const hooks = {
    onOutcome,
    onStart: (assignment: Assignment) => emit({ type: 'episode-started', assignment }),
    onPlayed: (assignment: Assignment) => emit({ type: 'episode-played', assignment }),
    onRetry: (assignment: Assignment, error: string) => emit({ type: 'retry', assignment, error }),
    ...(experiment.rate ? { gate: rateGate(experiment.rate) } : {}),
  };
  if (experiment.processes > 1) {
    await runShards({ job, assignments, processes: experiment.processes, signal: stopper.signal, cancel: options.signal, onShardError, ...hooks });
  } else {
    await scheduleEpisodes({ ...job, assignments, cancel: options.signal, ...(pool ? { pool } : {}), ...hooks });
  }
  const seconds = (performance.now() - started) / 1000;
  const inFlight = (experiment.concurrency ?? experiment.threads) * experiment.processes;
  const startupMs = Number.isFinite(firstStart) ? firstStart - scheduled : 0;
  const efficiency = runEfficiency({ playMs: busyMs, wallMs: seconds * 1000, startupMs, concurrency: inFlight, episodes: assignments.length });
  options.signal?.removeEventListener('abort', onAbort);

  // Episodes the resumed run recorded failed that this invocation did not get to (it stopped first) keep their entry,
  // and with it their attempts: the next resume adds to them.
  const playedHere = entries.length - (resume?.keep.length ?? 0);
  if (resume) {
    const recorded = new Set(entries.map((e) => e.episode_id));
    for (const e of earlier.values()) {
      if (recorded.has(e.episode_id)) continue;
      entries.push(e);
      manifest.domains[e.domain]!.failed++;
    }
  }
  entries.sort((a, b) => (a.episode_id < b.episode_id ? -1 : 1));
  const contention: Record<string, LockStats> = Object.fromEntries([...merges].map(([d, m]) => [d, summarizeMerges(m)]));
  Object.assign(manifest, {
    status: fatal || tooManyFailures || shardFailure ? 'stopped' : stopper.signal.aborted ? 'interrupted' : 'complete',
    finished_at: new Date().toISOString(),
    episodes: entries,
    timings: {
      seconds: Math.round(seconds * 1000) / 1000,
      episodesPerSec: Math.round((playedHere / seconds) * 10) / 10,
      concurrency: inFlight,
      lanes: efficiency.lanes,
      efficiency: efficiency.efficiency,
      startupSeconds: Math.round(startupMs) / 1000,
      efficiencyAfterStartup: efficiency.afterStartup,
    },
    contention,
    ...(stopper.signal.aborted ? { stop_reason: String(stopper.signal.reason) } : shardFailure ? { stop_reason: shardFailure } : {}),
  } satisfies Partial<RunManifest>);

  const report = await closeRun(store, manifest, (d) => counts(d).completed, (message) => emit({ type: 'warning', message }));
  return { manifest, report, played: playedHere, ...(fatal ? { fatal } : {}) };
}
