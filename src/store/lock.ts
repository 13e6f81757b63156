/**
 * The cross-process lock around a playbook merge: proper-lockfile's mkdir
 * lock with stale detection, taken with our own retry loop so a lock held for
 * milliseconds changes hands in milliseconds (proper-lockfile's own retry
 * schedule starts at 1 s), with jitter so waiters don't retry in lockstep,
 * and with an exact deadline.
 */
import lockfile from 'proper-lockfile';
import { LockCompromisedError, LockTimeoutError } from '../errors.js';

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
  for (;;) {
    try {
      release = await lockfile.lock(file, {
        stale: options.staleMs,
        realpath: false,
        retries: 0,
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
  const lease: Lease = {
    file,
    assertHeld() {
      if (compromised) throw new LockCompromisedError(file, compromised.message);
    },
  };
  try {
    const value = await critical(lease);
    return { value, timing: { waitMs: acquired - started, holdMs: performance.now() - acquired, retries } };
  } finally {
    // Releasing a compromised lock fails with ERELEASED/ENOTACQUIRED; there is nothing left to release.
    await release!().catch((err) => {
      if (!compromised) throw err;
    });
  }
}
