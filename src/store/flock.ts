/**
 * An exclusive `flock(2)` on a file, the lock the reference Python tool
 * (`ace_playbook.py`) takes on `domains/<d>/playbook.lock` around its
 * read-merge-rename. Holding it while committing makes the two tools exclude
 * each other.
 *
 * Taken with LOCK_NB and retried on a timer, never with a blocking call: a
 * blocked thread could not refresh its proper-lockfile lease, and a blocking
 * flock cannot be given up at the lock timeout. The reference itself polls
 * every 100 ms, so a short back-off here costs nothing against it.
 */
import fs from 'node:fs';
import fsExt from 'fs-ext';
import { LockTimeoutError } from '../core/errors.js';
import type { LockOptions } from './lock.js';

/** Releases the flock (closing the descriptor is what drops it). */
export type FlockRelease = () => void;

/**
 * Takes the flock on `file` now if it is free (the file is created if missing, as the reference
 * creates it: opened for append, never truncated); null when another descriptor holds it.
 */
export function tryFlock(file: string): FlockRelease | null {
  const fd = fs.openSync(file, 'a');
  try {
    fsExt.flockSync(fd, 'exnb');
    return () => fs.closeSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return null;
    throw err;
  }
}

/** Retries tryFlock with a doubling back-off until `deadline` (a performance.now() time); null if it passes. */
async function takeFlock(file: string, deadline: number, minRetryMs: number, maxRetryMs: number): Promise<FlockRelease | null> {
  for (let delay = minRetryMs; ; delay = Math.min(maxRetryMs, delay * 2)) {
    const release = tryFlock(file);
    if (release) return release;
    const left = deadline - performance.now();
    if (left <= 0) return null;
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
  }
}

/**
 * The flock a merge holds while it commits: taken right before the fence check and dropped right
 * after the rename, so the reference tool can never read between them; or, after a foreign write,
 * taken before the read so that it cannot slip in again.
 */
export class CommitFlock {
  private release: FlockRelease | null = null;

  constructor(
    readonly file: string,
    private readonly lock: Pick<LockOptions, 'timeoutMs' | 'minRetryMs' | 'maxRetryMs'>,
  ) {}

  /** Takes the flock unless held already; synchronous when it is free (no event-loop turn in the critical section). */
  take(): void | Promise<void> {
    if (this.release) return;
    this.release = tryFlock(this.file);
    if (this.release) return;
    return takeFlock(this.file, performance.now() + this.lock.timeoutMs, this.lock.minRetryMs, this.lock.maxRetryMs).then((release) => {
      if (!release) throw new LockTimeoutError(this.file, this.lock.timeoutMs, 0, 'another tool (such as the reference ace_playbook.py) holds its flock');
      this.release = release;
    });
  }

  drop(): void {
    this.release?.();
    this.release = null;
  }
}
