/**
 * Knowing when a pool's threads have loaded their module: each thread counts
 * itself in a shared counter (passed in `workerData`) once its imports are
 * evaluated, and the main thread waits for the count. A queue worker claims
 * nothing before then, so no claim's clock runs while a thread is still
 * starting.
 */
import { workerData } from 'node:worker_threads';

type WaitAsync = (ta: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
// In Node since 16; TypeScript types it from lib es2024 on, and this project targets es2023.
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export function readyCounter(): { aceThreadsReady: SharedArrayBuffer } {
  return { aceThreadsReady: new SharedArrayBuffer(4) };
}

/** In a pool's thread, once its module has loaded. A thread started without a counter has no one waiting. */
export function markThreadReady(): void {
  const buffer = (workerData as { aceThreadsReady?: unknown } | null)?.aceThreadsReady;
  if (!(buffer instanceof SharedArrayBuffer)) return;
  const counter = new Int32Array(buffer);
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
}

/** Resolves once `threads` threads have marked themselves ready. */
export async function threadsReady(data: { aceThreadsReady: SharedArrayBuffer }, threads: number): Promise<void> {
  const counter = new Int32Array(data.aceThreadsReady);
  for (let seen = Atomics.load(counter, 0); seen < threads; seen = Atomics.load(counter, 0)) {
    const wait = waitAsync(counter, 0, seen);
    if (wait.async) await wait.value;
  }
}
