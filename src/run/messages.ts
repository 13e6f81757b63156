/**
 * The typed messages between the coordinator (main thread) and the episode
 * workers (workers/episode-worker.ts). Nothing else crosses the boundary.
 */
import type { EpisodeClock } from './episode-clock.js';
import type { LockOptions } from '../store/lock.js';
import type { AnyReliability, AttemptFields, CommitMode, Deltas, EpisodeEntry, EpisodeFile, EpisodeRecord, ExperimentConfig, MergeTiming, WriteMode } from '../core/types.js';

export type { MergeTiming };

/** A flag shared by a process's scheduler and its worker threads: 1 once the run is stopping. */
export function createStopFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

export function raiseStopFlag(flag: Int32Array): void {
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

export interface EpisodeTask {
  store: string;
  runId: string;
  domain: string;
  index: number;
  seed: number;
  cap: number;
  lock: LockOptions;
  /** Think time spread over the episode, standing in for model calls. */
  episodeMs: number;
  /** User domain modules to import before looking the domain up. */
  modules: string[];
  mode: WriteMode;
  /** `batched`: write the episode file and hand the deltas back for the process's group committer. */
  commit: CommitMode;
  /** 0 for the first attempt; retries of the same episode count up. */
  attempt: number;
  /** Abandon the attempt after this many ms (0: never). */
  timeoutMs: number;
  /** Shared with the scheduler (a SharedArrayBuffer): set when the run stops, firing the episodes' ctx.signal. */
  stopFlag: Int32Array;
}

/** How many attempts an episode took, what each failed one raised, and when the first began. */
export interface AttemptLog {
  /** Attempts made, the last included. @default 1 */
  attempts?: number;
  /** `CODE: message` of each failed attempt, in order. */
  attemptErrors?: string[];
  /** ISO 8601 start of the first attempt. */
  started_at?: string;
  /** ms spent in the domain's play (think time included), summed over attempts: the agent's own time, without ace-orch's overhead. */
  playMs?: number;
}

/** An outcome's AttemptFields: the one place a local run and a queue worker take them from. */
export function attemptFields(outcome: EpisodeOutcome): AttemptFields {
  return {
    ms: Math.round(outcome.ms),
    ...(outcome.started_at ? { started_at: outcome.started_at } : {}),
    ...(outcome.attempts ? { attempts: outcome.attempts } : {}),
    ...(outcome.attemptErrors ? { attempt_errors: outcome.attemptErrors } : {}),
  };
}

/**
 * An episode's attempt fields with those of the run it resumes, where that run recorded it failed: a resume plays it
 * again, and the attempts (each a paid model call, perhaps) made before still happened.
 */
export function withEarlierAttempts(now: AttemptFields, earlier: Pick<EpisodeEntry, 'status' | 'error' | 'attempts' | 'attempt_errors'> | undefined): AttemptFields {
  if (earlier?.status !== 'failed') return now;
  const before = earlier.attempt_errors ?? (earlier.error ? [earlier.error] : []);
  return { ...now, attempts: (earlier.attempts ?? 1) + (now.attempts ?? 1), attempt_errors: [...before, ...(now.attempt_errors ?? [])] };
}

/** The timing fields of a merge's result, as they cross the thread or process boundary (nothing else of it does). */
export function mergeTiming(r: Omit<MergeTiming, 'batch'>, batch?: number): MergeTiming {
  const { waitMs, holdMs, retries, bytes, changed, refused, foreignWrites, reclaimed } = r;
  return { waitMs, holdMs, retries, bytes, changed, refused, foreignWrites, reclaimed, ...(batch !== undefined ? { batch } : {}) };
}

export interface EpisodeDone extends AttemptLog {
  ok: true;
  episode_id: string;
  domain: string;
  index: number;
  score: number;
  reliability: AnyReliability;
  ms: number;
  /** Absent while the deltas wait for the group committer. */
  merge?: MergeTiming;
  /** Set by a worker in `batched` mode: the deltas to commit; the episode is acknowledged only after. */
  deltas?: Deltas;
  /**
   * Set with `deltas`: the episode file, which the group committer makes durable (with others of its
   * batch) before the merge. For the file store, already serialized by the worker (its thread, not the
   * committer's, pays for the JSON, and a string crosses the thread boundary cheaper than the object).
   */
  record?: EpisodeRecord | EpisodeFile;
  /** Where and when it ran; `acked` is stamped by the scheduler. */
  clock?: EpisodeClock;
}

export interface EpisodeFailed extends AttemptLog {
  ok: false;
  episode_id: string;
  domain: string;
  index: number;
  ms: number;
  error: {
    code: string;
    message: string;
    /** Bad input (a corrupt playbook, an unwritable store) or a lock timeout: the run must stop. */
    fatal: boolean;
    /** False when a retry cannot help (the error said `retryable: false`, or the play succeeded and persisting failed). @default true */
    retryable?: boolean;
  };
  clock?: EpisodeClock;
}

export type EpisodeOutcome = EpisodeDone | EpisodeFailed;

/** One episode to play: a domain and its index within the run. */
export interface Assignment {
  domain: string;
  index: number;
}

/** What a shard process runs: its share of one run's episodes, on its own pool. */
export interface ShardJob {
  store: string;
  runId: string;
  experiment: ExperimentConfig;
  mode: WriteMode;
  commit: CommitMode;
  lock: LockOptions;
  assignments: Assignment[];
}

/** Coordinator -> shard process. `go` grants start request `id` of the run's rate limit at time `at`. */
export type ToShard = { type: 'start'; job: ShardJob } | { type: 'stop'; reason: string; cancel?: boolean } | { type: 'go'; id: number; at: number };

/** Shard process -> coordinator. `gate` asks the coordinator's rate limit for a start. */
export type FromShard =
  | { type: 'started'; assignment: Assignment }
  | { type: 'played'; assignment: Assignment }
  | { type: 'retry'; assignment: Assignment; error: string }
  | { type: 'gate'; id: number }
  | { type: 'outcome'; outcome: EpisodeOutcome }
  | { type: 'done' }
  | { type: 'error'; code: string; message: string };
