/**
 * The cross-process lock around a playbook merge: proper-lockfile's mkdir
 * lock with stale detection, behind a FIFO queue of waiters so that a lock
 * held for a millisecond changes hands in about a millisecond and no writer
 * starves (a writer that just released cannot barge ahead of the ones
 * already waiting).
 *
 * The queue is a directory `${file}.waiters/` of marker files named by
 * arrival time. A writer takes the fast path (straight to the lock) only
 * when nobody waits; otherwise it enqueues and polls until its marker is the
 * oldest live one, then takes the lock. Waiters refresh their markers; a
 * marker not refreshed within the stale time belongs to a dead or paused
 * waiter and is removed, so the queue cannot jam.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import lockfile from 'proper-lockfile';
import { LeaseLostError, LockCompromisedError, LockTimeoutError } from '../errors.js';

export interface LockOptions {
  /** A lock (or waiter) whose owner stopped refreshing it for this long is reclaimed. @default 10000 */
  staleMs: number;
  /** Give up (LockTimeoutError) after waiting this long. @default 30000 */
  timeoutMs: number;
  /** Poll interval while waiting at the head of the queue. @default 1 */
  minRetryMs: number;
  /** Poll interval further back in the queue. @default 4 */
  maxRetryMs: number;
}

export const DEFAULT_LOCK_OPTIONS: LockOptions = { staleMs: 10_000, timeoutMs: 30_000, minRetryMs: 1, maxRetryMs: 4 };

/** The holder's view of its lock: a lease that proper-lockfile may report lost. */
export interface Lease {
  readonly file: string;
  /** Throws LockCompromisedError when the lease was lost; call right before committing. */
  assertHeld(): void;
}

export interface LockTiming {
  waitMs: number;
  holdMs: number;
  /** Failed attempts at the lock itself (polls while queued behind others are not counted). */
  retries: number;
  /** The lock was taken over from a holder that stopped refreshing it (crashed or paused). */
  reclaimed: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Sleeps up to `ms`, waking early when the lock directory next to `file` is
 * removed (inotify, through fs.watch): the head of the queue takes a released
 * lock in microseconds instead of a poll interval. Polling remains the
 * fallback where watching is unavailable.
 */
class ReleaseWaiter {
  private watcher: fs.FSWatcher | null = null;
  private wake: (() => void) | null = null;

  constructor(file: string) {
    const lockName = `${basename(file)}.lock`;
    try {
      this.watcher = fs.watch(dirname(file), (_event, name) => {
        if (name === lockName) this.wake?.();
      });
      this.watcher.on('error', () => this.close());
    } catch {
      this.watcher = null;
    }
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
  }
}

/** Marker names sort by arrival: a zero-padded monotonic clock reading, then who. */
function markerName(): string {
  return `${process.hrtime.bigint().toString().padStart(20, '0')}-${process.pid}-${threadId}-${randomBytes(3).toString('hex')}`;
}

class WaitQueue {
  readonly dir: string;
  private marker: string | null = null;
  private refreshedAt = 0;
  /** The waiter ahead at the head, and since when we have seen it there. */
  private head: { name: string; since: number } | null = null;

  constructor(file: string, private readonly staleMs: number) {
    this.dir = `${file}.waiters`;
  }

  private list(): string[] {
    try {
      return fs.readdirSync(this.dir).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** True when nobody is queued: the caller may try the lock without queueing. */
  empty(): boolean {
    return this.list().length === 0;
  }

  enqueue(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    this.marker = markerName();
    fs.writeFileSync(join(this.dir, this.marker), '');
    this.refreshedAt = Date.now();
  }

  /**
   * This waiter's place in the queue (0: head); removes a dead waiter stuck at
   * the head; re-enqueues if its own marker was removed while it was paused.
   */
  position(): number {
    const now = Date.now();
    if (now - this.refreshedAt > this.staleMs / 3) {
      try {
        fs.utimesSync(join(this.dir, this.marker!), now / 1000, now / 1000);
        this.refreshedAt = now;
      } catch {
        // Our marker was removed as stale while we were paused: queue again, at the back.
        this.enqueue();
      }
    }
    const names = this.list();
    const mine = names.indexOf(this.marker!);
    const first = names[0];
    if (mine <= 0 || first === undefined) return 0;
    // Only a head that stays put for a stale time can be dead: stat it then, not on every poll.
    if (this.head?.name !== first) this.head = { name: first, since: now };
    else if (now - this.head.since >= this.staleMs) {
      const mtime = fs.statSync(join(this.dir, first), { throwIfNoEntry: false })?.mtimeMs;
      if (mtime !== undefined && now - mtime > this.staleMs) fs.rmSync(join(this.dir, first), { force: true });
      this.head = null;
    }
    return mine;
  }

  leave(): void {
    if (this.marker) fs.rmSync(join(this.dir, this.marker), { force: true });
    this.marker = null;
  }
}

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
  let reclaimed = false;
  let retries = 0;
  // While acquiring, proper-lockfile removes the lock directory only to reclaim a stale lock: count those.
  const watchedFs = {
    ...fs,
    rmdirSync: (path: fs.PathLike) => {
      reclaimed = true;
      fs.rmdirSync(path);
    },
  };
  const tryLock = (): (() => void) | null => {
    try {
      return lockfile.lockSync(file, {
        stale: options.staleMs,
        realpath: false,
        fs: watchedFs,
        // The default throws from a timer and kills the process; a lost lease only voids this merge.
        onCompromised: (err) => {
          compromised = err;
        },
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      retries++;
      return null;
    }
  };

  const queue = new WaitQueue(file, options.staleMs);
  let release = queue.empty() ? tryLock() : null;
  if (!release) {
    queue.enqueue();
    // The head and the next in line watch for the release; the rest poll, faster the closer they are.
    let waiter: ReleaseWaiter | null = null;
    try {
      for (;;) {
        const place = queue.position();
        if (place === 0 && (release = tryLock())) break;
        if (performance.now() - started >= options.timeoutMs) throw new LockTimeoutError(file, options.timeoutMs, retries);
        if (place <= 1) {
          waiter ??= new ReleaseWaiter(file);
          await waiter.sleep(options.minRetryMs);
        } else await sleep(Math.min(options.maxRetryMs, Math.max(options.minRetryMs, place / 2)));
      }
    } finally {
      waiter?.close();
      queue.leave();
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
    if (!(err instanceof LeaseLostError)) releaseQuietly(release, () => compromised !== null);
    throw err;
  }
  const holdMs = performance.now() - acquired;
  releaseQuietly(release, () => compromised !== null);
  return { value, timing: { waitMs: acquired - started, holdMs, retries, reclaimed: reclaimedStale } };
}

/** Releasing a lock proper-lockfile already marked compromised fails (ERELEASED); there is nothing to release. */
function releaseQuietly(release: () => void, compromised: () => boolean): void {
  try {
    release();
  } catch (err) {
    if (!compromised()) throw err;
  }
}
