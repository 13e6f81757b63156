/** Foreign writes reach the contention stats (manifest, stats.json) and the run's one-line summary. */
import test from 'ava';
import { formatContention } from '../src/cli/format.js';
import type { MergeTiming } from '../src/run/messages.js';
import { summarizeMerges } from '../src/core/stats.js';

const merge = (m: Partial<MergeTiming>): MergeTiming => ({ waitMs: 1, holdMs: 1, retries: 0, bytes: 10, changed: true, refused: 0, foreignWrites: 0, reclaimed: 0, ...m });

test('foreign writes are counted once per merge and named in the summary line', (t) => {
  // A group commit of 2 episodes that met one foreign write reports it to both: it counts once.
  const stats = summarizeMerges([merge({ foreignWrites: 1, batch: 2 }), merge({ foreignWrites: 1, batch: 2 }), merge({ foreignWrites: 2 })]);
  t.is(stats.foreignWrites, 3);
  const line = formatContention({ hot_pot: stats });
  t.true(line.includes('3 foreign writes'), line);
  t.false(formatContention({ hot_pot: summarizeMerges([merge({})]) }).includes('foreign'));
});
