/**
 * The original fix, reproduced in the benchmark harness as the baseline: an
 * exclusive lock polled every 100 ms, re-read, merge, temp file and rename,
 * no fsync. Only the benchmark uses it.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { applyDeltas } from '../core/merge.js';
import { tempPathFor } from '../store/durable.js';
import type { Deltas } from '../core/types.js';
import { parsePlaybook } from '../core/validate.js';
import { emptyPlaybook } from '../core/merge.js';

export async function baselineMerge(file: string, deltas: Deltas, cap: number): Promise<{ waitMs: number; holdMs: number; retries: number }> {
  const t0 = performance.now();
  let retries = 0;
  let release: () => Promise<void>;
  for (;;) {
    try {
      release = await lockfile.lock(file, { realpath: false, stale: 10_000 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      retries++;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const t1 = performance.now();
  try {
    const text = await readFile(file, 'utf8').catch(() => null);
    const current = text === null ? emptyPlaybook() : parsePlaybook(text, file);
    const temp = tempPathFor(file);
    await writeFile(temp, JSON.stringify(applyDeltas(current, deltas, cap), null, 2));
    await rename(temp, file);
  } finally {
    await release!();
  }
  return { waitMs: t1 - t0, holdMs: performance.now() - t1, retries };
}
