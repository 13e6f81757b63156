/** Typed messages of `chaos`: the orchestrator, its writer processes, and their writer threads. */
import type { FaultPoint } from '../store/store.js';
import type { LockOptions } from '../store/lock.js';
import type { CommitMode, Deltas, EpisodeRecord } from '../core/types.js';

export type FaultAction = 'kill' | 'pause';

/** The environment variable that carries a writer process's job (JSON). */
export const CHAOS_JOB_ENV = 'ACE_CHAOS_JOB';

export interface WriterJob {
  store: string;
  domains: string[];
  cap: number;
  seed: number;
  lock: LockOptions;
  /** Unique per writer process incarnation; episode ids are built from it. */
  tag: string;
  /** `batched` and `shared`: threads hand their deltas to the process's group committer, where faults are aimed; `shared` committers also fold each other's pending batches. */
  commit: CommitMode;
}

export interface Ack {
  episode_id: string;
  domain: string;
  refused: number;
  reclaimed: number;
  waitMs: number;
}

/** Orchestrator -> writer process. */
export type ToWriter = { type: 'arm'; action: FaultAction; point: FaultPoint } | { type: 'disarm' } | { type: 'continue' } | { type: 'stop' };

/** Writer process -> orchestrator (and writer thread -> its process, which forwards). */
export type FromWriter =
  /** Every writer thread runs and has started its first episode: aims at this process can be reached. */
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'ack'; ack: Ack }
  | { type: 'at-point'; point: FaultPoint; action: FaultAction }
  | { type: 'error'; message: string };

/** Writer thread -> its process, in batched mode: write this episode file (with the batch's others), commit these deltas, then acknowledge. */
export interface CommitAsk {
  type: 'commit';
  seq: number;
  domain: string;
  episode_id: string;
  deltas: Deltas;
  record: EpisodeRecord;
}

/** Writer process -> one of its threads. */
export type ToThread = ToWriter | { type: 'committed'; seq: number; error?: string };
