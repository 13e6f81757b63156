/**
 * The coordinator's side of a multi-process run (src/run/shards.ts) on real shard processes.
 */
import test from 'ava';
import { dealByDomain, runShards } from '../src/run/shards.js';
import { roundRobin } from '../src/run/scheduler.js';
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

test('every shard gets every domain, also when the number of processes divides the number of domains', (t) => {
  for (const [domains, processes] of [[['a', 'b'], 2], [['a', 'b', 'c'], 3], [['a', 'b', 'c', 'd'], 2], [['a', 'b', 'c'], 2]] as const) {
    const shares = dealByDomain(roundRobin(domains, 6), processes);
    for (const share of shares) t.deepEqual([...new Set(share.map((a) => a.domain))].sort(), [...domains], `${domains.length} domains over ${processes} processes`);
    // Each domain's episodes spread evenly, every episode dealt once.
    for (const d of domains) t.deepEqual(shares.map((s) => s.filter((a) => a.domain === d).length), Array(processes).fill(6 / processes));
    t.is(shares.flat().length, domains.length * 6);
  }
});
