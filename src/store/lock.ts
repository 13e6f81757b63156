/**
 * The cross-process lock around a playbook merge: proper-lockfile's mkdir
 * lock with stale detection, taken with our own retry loop so a lock held for
 * milliseconds changes hands in milliseconds (proper-lockfile's own retry
 * schedule starts at 1 s), with jitter so waiters don't retry in lockstep,
 * and with an exact deadline.
 */
import fs from 'node:fs';
import lockfile from 'proper-lockfile';
import { LeaseLostError, LockCompromisedError, LockTimeoutError } from '../errors.js';

export interface LockOptions {
  /** A lock whose owner stopped refreshing it for this long is reclaimed. @default 10000 */
  staleMs: number;
  /** Give up (LockTimeoutError) after waiting this long. @default 30000 */
  timeoutMs: number;
  /** First retry delay. @default 1 */
  minRetryMs: number;
  /** Retry delays grow ×1.5 up to this. @default 16 */
  maxRetryMs: number;
}

export const DEFAULT_LOCK_OPTIONS: LockOptions = { staleMs: 10_000, timeoutMs: 30_000, minRetryMs: 1, maxRetryMs: 16 };

/** The holder's view of its lock: a lease that proper-lockfile may report lost. */
export interface Lease {
  readonly file: string;
  /** Throws LockCompromisedError when the lease was lost; call right before committing. */
  assertHeld(): void;
}

export interface LockTiming {
  waitMs: number;
  holdMs: number;
  retries: number;
  /** The lock was taken over from a holder that stopped refreshing it (crashed or paused). */
  reclaimed: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `critical` while holding the lock on `file`. The lock is a directory
 * `${file}.lock`; `file` itself need not exist.
 */
export async function withLock<T>(
  file: string,
  options: LockOptions,
  critical: (lease: Lease) => Promise<T>,
): Promise<{ value: T; timing: LockTiming }> {
  const started = performance.now();
  let compromised: Error | null = null;
  let retries = 0;
  let delay = options.minRetryMs;
  let release: () => Promise<void>;
  let reclaimed = false;
  // While acquiring, proper-lockfile removes the lock directory only to reclaim a stale lock: count those.
  const watchedFs = {
    ...fs,
    rmdir: (path: fs.PathLike, cb: fs.NoParamCallback) => {
      reclaimed = true;
      fs.rmdir(path, cb);
    },
  };
  for (;;) {
    try {
      release = await lockfile.lock(file, {
        stale: options.staleMs,
        realpath: false,
        retries: 0,
        fs: watchedFs,
        // The default throws from a timer and kills the process; a lost lease only voids this merge.
        onCompromised: (err) => {
          compromised = err;
        },
      });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      if (performance.now() - started >= options.timeoutMs) throw new LockTimeoutError(file, options.timeoutMs, retries);
      retries++;
      await sleep(delay * (0.5 + Math.random()));
      delay = Math.min(options.maxRetryMs, delay * 1.5);
    }
  }
  const acquired = performance.now();
  // Read now: releasing the lock later also goes through rmdir.
  const reclaimedStale = reclaimed;
  const lease: Lease = {
    file,
    assertHeld() {
      if (compromised) throw new LockCompromisedError(file, compromised.message);
    },
  };
  let value: T;
  try {
    value = await critical(lease);
  } catch (err) {
    // A lost lease means another writer holds the lock directory now: removing it would let a third writer in.
    if (!(err instanceof LeaseLostError)) await releaseQuietly(release!, () => compromised !== null);
    throw err;
  }
  const holdMs = performance.now() - acquired;
  await releaseQuietly(release!, () => compromised !== null);
  return { value, timing: { waitMs: acquired - started, holdMs, retries, reclaimed: reclaimedStale } };
}

/** Releasing a lock proper-lockfile already marked compromised fails (ERELEASED); there is nothing to release. */
async function releaseQuietly(release: () => Promise<void>, compromised: () => boolean): Promise<void> {
  await release().catch((err: unknown) => {
    if (!compromised()) throw err;
  });
}
