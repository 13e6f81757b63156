/** The lock's settings, apart from the lock: a store that only reads never loads proper-lockfile. */
export interface LockOptions {
  /** A lock (or waiter) whose owner stopped refreshing it for this long is reclaimed. @default 10000 */
  staleMs: number;
  /** Give up (LockTimeoutError) after waiting this long. @default 30000 */
  timeoutMs: number;
  /** Shortest wait between two looks at the lock. @default 1 */
  minRetryMs: number;
  /** Longest: the fallback when no change notification arrives (stale locks, dead waiters, no inotify). @default 25 */
  maxRetryMs: number;
}

export const DEFAULT_LOCK_OPTIONS: LockOptions = { staleMs: 10_000, timeoutMs: 30_000, minRetryMs: 1, maxRetryMs: 25 };
