/**
 * The coordinator's side of a multi-process run (src/run/shards.ts) on real shard processes.
 */
import test from 'ava';
import { runShards } from '../src/run/shards.js';
import { DEFAULT_LOCK_OPTIONS } from '../src/store/lock-options.js';
import type { Assignment } from '../src/run/messages.js';
import { tempDir } from './helpers.js';

test('a shard whose scheduling fails reports why and exits: the run does not wait for it forever', async (t) => {
  // Without the fix this waits forever on a shard that will not exit: fail instead.
  t.timeout(60_000);
  const store = await tempDir();
  const failures: { message: string; unknown: Assignment[] }[] = [];
  const outcomes: unknown[] = [];
  // A thread count no pool accepts (the CLI and library refuse it first): the shard's scheduling rejects before any episode.
  await runShards({
    job: {
      store,
      runId: 'shard-fails',
      experiment: { name: 'shard-fails', seed: 1, domains: ['hot_pot'], episodes: 2, threads: -1, processes: 2, episodeMs: 0, cap: 10 },
      mode: 'locked',
      commit: 'batched',
      lock: DEFAULT_LOCK_OPTIONS,
    },
    assignments: [
      { domain: 'hot_pot', index: 0 },
      { domain: 'hot_pot', index: 1 },
    ],
    processes: 2,
    onOutcome: (o) => outcomes.push(o),
    onShardError: (message, unknown) => failures.push({ message, unknown }),
  });
  t.is(failures.length, 2, 'each shard reported its failure');
  for (const f of failures) {
    t.regex(f.message, /^shard \d failed: Expected `concurrency` to be a number/);
    t.deepEqual(f.unknown, [], 'nothing was in flight');
  }
  t.deepEqual(outcomes, []);
});
