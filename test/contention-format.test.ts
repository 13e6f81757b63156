/** Foreign writes reach the contention stats (manifest, stats.json) and the run's one-line summary. */
import test from 'ava';
import { count, formatContention } from '../src/cli/format.js';
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

test('the summary line counts in the singular when there is one, and says its retries are the lock\'s', (t) => {
  const one = formatContention({ hot_pot: summarizeMerges([merge({ retries: 1 })]) });
  t.regex(one, /^lock: 1 episode in 1 merge; /, one);
  t.regex(one, /1 lock retry \(lock busy, looked again\)/, one);
  t.regex(one, /\(each figure the worst domain's\)/);
  const many = formatContention({ hot_pot: summarizeMerges([merge({ retries: 2, batch: 2 }), merge({ batch: 2 })]), chem_tile: summarizeMerges([merge({})]) });
  t.regex(many, /^lock: 3 episodes in 2 merges; .* 2 lock retries/, many);
});

test('counts take the plural their noun takes', (t) => {
  t.is(count(1, 'pending batch'), '1 pending batch');
  t.is(count(2, 'pending batch'), '2 pending batches');
  t.is(count(0, 'episode'), '0 episodes');
});
