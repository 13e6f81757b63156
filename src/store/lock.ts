/**
 * The cross-process lock around a playbook merge: proper-lockfile's mkdir
 * lock with stale detection, behind a FIFO queue of waiters so that a lock
 * held for a millisecond changes hands in about a millisecond and no writer
 * starves (a writer that just released cannot barge ahead of the ones
 * already waiting).
 *
 * The queue is a directory `${file}.waiters/` of marker files named by
 * arrival time. A writer takes the fast path (straight to the lock) only
 * when nobody waits; otherwise it enqueues and sleeps until its marker is the
 * oldest, then takes the lock (an MCS-style queue: each waiter watches only
 * the one ahead). Waiters refresh their markers; a marker not refreshed
 * within the stale time belongs to a dead or paused waiter and is removed,
 * so the queue cannot jam.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import lockfile from 'proper-lockfile';
import { LeaseLostError, LockCompromisedError, LockTimeoutError } from '../core/errors.js';
import { hashKey } from '../core/rng.js';
import { processAlive } from './liveness.js';
import { takeTurn } from './local-turns.js';

import type { LockOptions } from './lock-options.js';

export { DEFAULT_LOCK_OPTIONS } from './lock-options.js';
export type { LockOptions } from './lock-options.js';

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

/**
 * Marker names sort by arrival: a zero-padded wall-clock reading in microseconds (comparable between
 * processes and, up to clock skew, between hosts sharing the store), then who, which breaks ties.
 * A monotonic clock would be finer but means nothing on another host or after a reboot.
 */
function markerName(): string {
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
  return `${micros.toString().padStart(20, '0')}-${HOST}-${process.pid}-${threadId}-${randomBytes(3).toString('hex')}`;
}

/** Who a lock directory is: a reclaimed and re-created lock has another inode or birth time. */
function dirIdentity(dir: string): string | null {
  const st = fs.statSync(dir, { bigint: true, throwIfNoEntry: false });
  return st ? `${st.dev}:${st.ino}:${st.birthtimeNs}` : null;
}

/** This machine, as it appears in marker names: a waiter's pid means something only on its own host. */
const HOST = hashKey(hostname()).toString(36);

/** A waiter ahead that has not moved for this long is checked for a dead process. */
const DEAD_CHECK_MS = 100;

/** True when the marker names a process on this host that no longer exists (killed while waiting). */
function ownerIsDead(marker: string): boolean {
  const [, host, pid] = marker.split('-');
  return host === HOST && Boolean(pid) && !processAlive(Number(pid));
}

/**
 * Resolves when one of `paths` changes or disappears (inotify through fs.watch), or
 * after `ms` at the latest: the timer is the fallback for missed events and
 * file systems without notification. Resolves at once if a path is gone.
 */
function watchOnce(paths: readonly string[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const watchers: fs.FSWatcher[] = [];
    const done = (): void => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const path of paths) {
      try {
        const watcher = fs.watch(path, done);
        watchers.push(watcher);
        watcher.on('error', done);
      } catch {
        // ENOENT: it is already gone, which is what we were waiting for.
        done();
        return;
      }
    }
  });
}

/**
 * The FIFO queue in front of the lock. Each waiter watches only the marker
 * of the waiter just ahead of it; the head watches the lock directory. A
 * release therefore wakes exactly one waiter, and nobody polls.
 */
class WaitQueue {
  readonly dir: string;
  private marker: string | null = null;
  private refreshedAt = 0;
  /** The waiter just ahead, and since when it has been there without moving. */
  private ahead: { name: string; since: number } | null = null;

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
   * The marker of the waiter just ahead, or null at the head. Keeps our own
   * marker fresh, queues again (at the back) if it was removed while we were
   * paused, and removes a waiter ahead that has stopped refreshing its marker.
   */
  predecessor(): string | null {
    const now = Date.now();
    if (now - this.refreshedAt > this.staleMs / 3) {
      try {
        fs.utimesSync(join(this.dir, this.marker!), now / 1000, now / 1000);
        this.refreshedAt = now;
      } catch {
        this.enqueue();
      }
    }
    let names = this.list();
    let mine = names.indexOf(this.marker!);
    if (mine < 0) {
      this.enqueue();
      names = this.list();
      mine = names.indexOf(this.marker!);
    }
    if (mine <= 0) return null;
    const ahead = names[mine - 1]!;
    // Only a waiter that stays put can be dead: look then, not on every wake-up. A killed process's marker
    // goes at once; a paused (or remote) one's when it has not been refreshed for the stale time.
    if (this.ahead?.name !== ahead) this.ahead = { name: ahead, since: now };
    else if (now - this.ahead.since >= DEAD_CHECK_MS && ownerIsDead(ahead)) {
      fs.rmSync(join(this.dir, ahead), { force: true });
      this.ahead = null;
    } else if (now - this.ahead.since >= this.staleMs) {
      const mtime = fs.statSync(join(this.dir, ahead), { throwIfNoEntry: false })?.mtimeMs;
      if (mtime !== undefined && now - mtime > this.staleMs) fs.rmSync(join(this.dir, ahead), { force: true });
      this.ahead = null;
    }
    return join(this.dir, ahead);
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
  const { value, timing } = await withLockUnless(file, options, { settled: () => false }, critical);
  return { value: value!, timing };
}

/** What may spare a waiter the lock: another holder doing its work. */
export interface Unless {
  /** Asked before queueing and at every wake-up while queued. */
  settled: () => boolean | Promise<boolean>;
  /** A path whose change also wakes the waiter (the sign that `settled` may now say true). */
  watch?: string;
}

/**
 * withLock for a waiter whose work another holder may do meanwhile: once `unless.settled` says
 * true the waiter leaves the queue without taking the lock, and `settled` is true in the result
 * (with no value).
 */
export async function withLockUnless<T>(
  file: string,
  options: LockOptions,
  unless: Unless,
  critical: (lease: Lease) => Promise<T>,
): Promise<{ value?: T; settled: boolean; timing: LockTiming }> {
  const started = performance.now();
  // First this process's own threads take turns; the one whose turn it is queues for the file.
  const turn = await takeTurn(file, started + options.timeoutMs);
  if (!turn) throw new LockTimeoutError(file, options.timeoutMs, 0);
  try {
    return await withFileLock(file, options, unless, critical, started);
  } finally {
    turn.release();
  }
}

async function withFileLock<T>(
  file: string,
  options: LockOptions,
  unless: Unless,
  critical: (lease: Lease) => Promise<T>,
  started: number,
): Promise<{ value?: T; settled: boolean; timing: LockTiming }> {
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
      const e = err as NodeJS.ErrnoException;
      // ENOENT after the mkdir (its mtime probe, a stale check): another writer reclaiming a stale lock removed the
      // directory in between, as proper-lockfile's reclaim can. The lock is not ours: look again, as for a busy one.
      // (ENOENT from the mkdir itself is a missing parent directory, and thrown.)
      if (e.code !== 'ELOCKED' && !(e.code === 'ENOENT' && e.syscall !== 'mkdir')) throw err;
      retries++;
      return null;
    }
  };

  const queue = new WaitQueue(file, options.staleMs);
  const lockDir = `${file}.lock`;
  const gaveUp = (): { settled: boolean; timing: LockTiming } => ({ settled: true, timing: { waitMs: performance.now() - started, holdMs: 0, retries, reclaimed: false } });
  if (await unless.settled()) return gaveUp();
  let release = queue.empty() ? tryLock() : null;
  if (!release) {
    queue.enqueue();
    try {
      for (;;) {
        if (await unless.settled()) return gaveUp();
        const ahead = queue.predecessor();
        if (ahead === null && (release = tryLock())) break;
        const waited = performance.now() - started;
        if (waited >= options.timeoutMs) throw new LockTimeoutError(file, options.timeoutMs, retries);
        // Wake when the waiter ahead takes the lock (its marker goes) or, at the head, when the lock is released.
        // The fallback timer re-checks for stale locks and dead waiters, and covers file systems without inotify.
        const fallback = Math.min(options.maxRetryMs, options.timeoutMs - waited);
        await watchOnce(unless.watch ? [ahead ?? lockDir, unless.watch] : [ahead ?? lockDir], Math.max(options.minRetryMs, fallback));
      }
    } finally {
      queue.leave();
    }
  }
  // Read now: releasing the lock later also goes through rmdir.
  const reclaimedStale = reclaimed;
  const ownDir = dirIdentity(lockDir);
  const stillOwned = (): boolean => compromised === null && ownDir !== null && dirIdentity(lockDir) === ownDir;
  const acquired = performance.now();
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
    // A refused write leaves the lock alone only when it truly is someone else's now (proper-lockfile reported
    // it compromised, or the directory was reclaimed and re-created): removing that would let a third writer in.
    // A write refused while the lock is still ours (another tool wrote the playbook without it) releases it,
    // or the retry would wait on its own lock until the timeout.
    if (!(err instanceof LeaseLostError) || stillOwned()) releaseQuietly(release, () => compromised !== null);
    throw err;
  }
  const holdMs = performance.now() - acquired;
  releaseQuietly(release, () => compromised !== null);
  return { value, settled: false, timing: { waitMs: acquired - started, holdMs, retries, reclaimed: reclaimedStale } };
}

/** Releasing a lock proper-lockfile already marked compromised fails (ERELEASED); there is nothing to release. */
function releaseQuietly(release: () => void, compromised: () => boolean): void {
  try {
    release();
  } catch (err) {
    if (!compromised()) throw err;
  }
}
