/**
 * Turns among the threads of one process at one lock file: a ticket lock in
 * shared memory. Only the thread whose turn it is goes on to the file lock, so
 * a process puts at most one writer per file in the cross-process queue, and a
 * hand-over between its own threads is a futex wake instead of a trip through
 * the file system.
 *
 * The table reaches worker threads through Piscina's `workerData`
 * (`lockTurnsWorkerData()`); a thread started without it has a table of its
 * own and simply takes no turns with the others, which is slower, never wrong:
 * the file lock is what excludes.
 */
import { workerData } from 'node:worker_threads';
import { hashKey } from '../core/rng.js';

const SLOTS = 256;
/** Tickets abandoned by waiters that timed out, remembered so the holder before them can skip them. */
const RING = 1024;
const SLOT_INTS = 2 + RING;

const inherited = (workerData as { aceLockTurns?: unknown } | null)?.aceLockTurns;
const table = new Int32Array(inherited instanceof SharedArrayBuffer ? inherited : new SharedArrayBuffer(SLOTS * SLOT_INTS * 4));

type WaitAsync = (ta: Int32Array, index: number, value: number, timeout?: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Merge into a Piscina pool's `workerData` so its threads take turns with this thread's others. */
export function lockTurnsWorkerData(): { aceLockTurns: SharedArrayBuffer } {
  return { aceLockTurns: table.buffer as SharedArrayBuffer };
}

export interface Turn {
  release(): void;
}

/**
 * Waits for this thread's turn at `file` until `deadline` (a performance.now()
 * time); null when the deadline passed first (the ticket is then abandoned and
 * skipped by whoever comes before it).
 */
export async function takeTurn(file: string, deadline: number): Promise<Turn | null> {
  const base = (hashKey(file) % SLOTS) * SLOT_INTS;
  const NEXT = base;
  const SERVING = base + 1;
  const ring = (t: number): number => base + 2 + (((t % RING) + RING) % RING);

  const skipAbandoned = (): void => {
    for (;;) {
      const s = Atomics.load(table, SERVING);
      if (Atomics.load(table, ring(s)) !== s + 1 || Atomics.compareExchange(table, SERVING, s, s + 1) !== s) return;
    }
  };
  const advance = (from: number): void => {
    Atomics.compareExchange(table, SERVING, from, from + 1);
    skipAbandoned();
    Atomics.notify(table, SERVING);
  };

  const ticket = Atomics.add(table, NEXT, 1);
  for (;;) {
    const serving = Atomics.load(table, SERVING);
    if (serving === ticket) return { release: () => advance(ticket) };
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      // Leave a note for the holder before us; if our turn came meanwhile, pass it on ourselves.
      Atomics.store(table, ring(ticket), ticket + 1);
      if (Atomics.load(table, SERVING) === ticket) advance(ticket);
      return null;
    }
    const w = waitAsync(table, SERVING, serving, remaining);
    if (w.async) await w.value;
  }
}
