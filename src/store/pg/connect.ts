/**
 * Connections to the PostgreSQL store: error classification (bad input at
 * open, transient mid-run) and the retry policy for transient failures.
 * Retrying a whole transaction is safe because every write is idempotent:
 * episodes insert ON CONFLICT DO NOTHING and the merge rules are top-K.
 */
import { createRequire } from 'node:module';
import pRetry from 'p-retry';
import type pg from 'pg';
import { BadInputError } from '../../core/errors.js';

/** SQLSTATE classes and socket errors that a reconnect can cure. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '40001', '40P01', '53300']);

function isTransient(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e?.code && TRANSIENT_CODES.has(e.code)) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(e?.message ?? '');
}

/** Why a store cannot be opened, as one line naming the URL (password masked). */
export function openError(masked: string, err: unknown, what: 'store' | 'queue' | '--pg' = 'store'): BadInputError {
  const e = err as { code?: string; message?: string };
  const why =
    e.code === '28P01' || e.code === '28000'
      ? `rejected the credentials (${e.message})`
      : e.code === '3D000'
        ? `has no such database (${e.message})`
        : e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' || e.code === 'EHOSTUNREACH' || /timeout/i.test(e.message ?? '')
          ? `cannot be reached (${e.code ?? e.message})`
          : `cannot be opened (${e.message ?? String(err)})`;
  return new BadInputError(`${what} ${masked} ${why}`);
}

/** Merges hold their transaction for milliseconds; one silent for this long lost its client. */
const IDLE_IN_TRANSACTION_MS = 10_000;

// pg is loaded on the first pool, not on import: modules that only name the backend's helpers (the queue's
// job types, URL checks) must not cost a file-store process pg's ~65 ms of loading.
const requireModule = createRequire(import.meta.url);
let pgModule: typeof pg | undefined;

/** A small pool: the process's committer and its threads each hold their own. */
export function createPool(connectionString: string, max: number): pg.Pool {
  pgModule ??= requireModule('pg') as typeof pg;
  const pool = new pgModule.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 5_000,
    keepAlive: true,
    // A writer cut off mid-transaction must not hold a playbook row's lock for long: the server aborts it (nothing committed).
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
  });
  // An idle client whose server went away errors here; the next query reconnects (and is retried).
  pool.on('error', () => {});
  return pool;
}

export interface RetryReport {
  attempt: number;
  error: string;
}

/** Retries transient failures with backoff (about half a minute in all), reporting each; anything else fails at once. */
export async function withRetry<T>(fn: () => Promise<T>, onRetry: (r: RetryReport) => void): Promise<T> {
  return pRetry(fn, {
      retries: 8,
      shouldRetry: ({ error }) => isTransient(error),
      minTimeout: 100,
      maxTimeout: 5_000,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0 && isTransient(error)) onRetry({ attempt: attemptNumber, error: (error as { code?: string }).code ?? error.message });
      },
  });
}
