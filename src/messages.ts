/**
 * The typed messages between the coordinator (main thread) and the episode
 * workers (workers/episode-worker.ts). Nothing else crosses the boundary.
 */
import type { EpisodeClock } from './episode-clock.js';
import type { LockOptions } from './store/lock.js';
import type { CommitMode, Deltas, ExperimentConfig, Reliability, WriteMode } from './types.js';

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
}

export interface MergeTiming {
  waitMs: number;
  holdMs: number;
  retries: number;
  bytes: number;
  changed: boolean;
  /** Writes refused by the fence (or a lost lease) before this merge landed. */
  refused: number;
  /** Stale locks reclaimed by this merge. */
  reclaimed: number;
  /** Episodes carried by this merge (1 unless group-committed). @default 1 */
  batch?: number;
}

export interface EpisodeDone {
  ok: true;
  episode_id: string;
  domain: string;
  index: number;
  score: number;
  reliability: Reliability;
  ms: number;
  /** Absent while the deltas wait for the group committer. */
  merge?: MergeTiming;
  /** Set by a worker in `batched` mode: the deltas to commit; the episode is acknowledged only after. */
  deltas?: Deltas;
  /** Where and when it ran; `acked` is stamped by the scheduler. */
  clock?: EpisodeClock;
}

export interface EpisodeFailed {
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

/** Coordinator -> shard process. */
export type ToShard = { type: 'start'; job: ShardJob } | { type: 'stop'; reason: string };

/** Shard process -> coordinator. */
export type FromShard =
  | { type: 'started'; assignment: Assignment }
  | { type: 'outcome'; outcome: EpisodeOutcome }
  | { type: 'done' }
  | { type: 'error'; code: string; message: string };
