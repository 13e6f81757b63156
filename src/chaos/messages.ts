/** Typed messages of `chaos`: the orchestrator, its writer processes, and their writer threads. */
import type { FaultPoint } from '../store/store.js';
import type { LockOptions } from '../store/lock.js';

export type FaultAction = 'kill' | 'pause';

export interface WriterJob {
  store: string;
  domains: string[];
  cap: number;
  seed: number;
  lock: LockOptions;
  /** Unique per writer process incarnation; episode ids are built from it. */
  tag: string;
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
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'ack'; ack: Ack }
  | { type: 'at-point'; point: FaultPoint; action: FaultAction }
  | { type: 'error'; message: string };

/** Writer process -> one of its threads. */
export type ToThread = ToWriter;
