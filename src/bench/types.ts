/** Shapes of `ace-orch bench`: what a benchmark is, what its processes and threads exchange, what it reports. */
import type { CommitMode, Deltas, ObservationKey, Percentiles } from '../core/types.js';
import type { LockOptions } from '../store/lock.js';

/** How writers write: the store's locked merge, the pre-fix unlocked overwrite, or the original fix (100 ms poll, no fsync). */
export type BenchMethod = 'locked' | 'unlocked' | 'baseline';

export interface BenchOptions {
  /** Writer threads in all, spread over the processes. @default 4 */
  writers: number;
  /** @default 1 */
  processes: number;
  /** Merges per writer. @default 200 */
  merges: number;
  /** @default 'each' */
  commit: CommitMode;
  /** @default 'locked' */
  method: BenchMethod;
  /** Observations the playbook keeps. @default 10 */
  playbookSize: number;
}

export interface BenchResult {
  method: BenchMethod;
  writers: number;
  processes: number;
  /** Merges in all (writers × merges per writer). */
  merges: number;
  mergesPerWriter: number;
  commit: CommitMode;
  seconds: number;
  mergesPerSec: number;
  lockWaitMs: Percentiles;
  lockHoldMs: Percentiles;
  /**
   * Per merge, from the writer handing it over (to the store, or to its process's committer) to the
   * writer seeing it acknowledged: the one latency taken the same way in every mode. Lock wait is not
   * (a folded batch's wait includes the holder's write; a delta's time in its committer's queue is in none).
   */
  ackMs: Percentiles;
  retries: number;
  /** Expected observations (the top playbookSize of all merged) missing from the playbook. */
  lost: number;
}

/** One writer thread's job. */
export interface WriterTask {
  store: string;
  writer: number;
  merges: number;
  method: BenchMethod;
  commit: CommitMode;
  cap: number;
  lock: LockOptions;
  /** Batched mode: where to hand deltas to the process's committer. */
  port?: import('node:worker_threads').MessagePort;
  /** Shared start barrier: Int32 [ready count, go flag], then the start time (Float64 at byte 8, nowUs). */
  barrier: SharedArrayBuffer;
  parties: number;
}

export interface WriterTimings {
  writer: number;
  waitMs: number[];
  holdMs: number[];
  retries: number;
  /** See BenchResult.ackMs. */
  ackMs: number[];
  keys: ObservationKey[];
  /**
   * When this writer's last merge was acknowledged, in microseconds of process.hrtime: CLOCK_MONOTONIC,
   * one clock for every process on the host, so the orchestrator can stop its clock there.
   */
  lastAckUs: number;
  /** When this writer left the start barrier (nowUs): never before the start time it was given. */
  startedUs: number;
}

/** Writer thread -> its process's committer (a burst of requests per message), and back (a reply per request). */
export interface CommitRequest {
  seq: number;
  deltas: Deltas;
}
export interface CommitReply {
  seq: number;
  waitMs: number;
  holdMs: number;
  retries: number;
  error?: string;
}

/**
 * A bench process's job (JSON), in this environment variable rather than its arguments: the store
 * may be a URL with a password, and arguments are visible to every user in `ps`.
 */
export const BENCH_JOB_ENV = 'ACE_BENCH_JOB';

/** What a bench process runs: its writers' shared settings and which writers are its own. */
export type BenchJob = Omit<WriterTask, 'writer' | 'port' | 'barrier' | 'parties'> & { writers: number[] };

/**
 * Bench process <-> bench orchestrator. `atUs`: when every writer starts (nowUs), far enough ahead that the
 * message has reached every process by then.
 */
export type ToBenchProcess = { type: 'go'; atUs: number };
export type FromBenchProcess = { type: 'ready' } | { type: 'done'; timings: WriterTimings[] } | { type: 'error'; message: string };
