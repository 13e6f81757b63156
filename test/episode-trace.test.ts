/** An episode's clock stamps become its manifest trace, relative to the run's origin. */
import test from 'ava';
import { episodeTrace } from '../src/run/episode-clock.js';

test('stamps become ms since the origin, with the merge lock timing and batch', (t) => {
  const origin = 1_700_000_000_000;
  const trace = episodeTrace({ pid: 9, thread: 3, start: origin + 12.34, played: origin + 40.06, acked: origin + 55 }, origin, {
    waitMs: 1.26,
    holdMs: 3,
    retries: 0,
    bytes: 10,
    changed: true,
    refused: 0,
    foreignWrites: 0,
    reclaimed: 0,
    batch: 2,
  });
  t.deepEqual(trace, { pid: 9, thread: 3, start_ms: 12.3, played_ms: 40.1, acked_ms: 55, lock: { wait_ms: 1.3, hold_ms: 3, batch: 2 } });
});

test('an episode that failed before the end of its play has no played_ms; no stamps, no trace', (t) => {
  t.deepEqual(episodeTrace({ pid: 1, thread: 1, start: 100, acked: 180 }, 0), { pid: 1, thread: 1, start_ms: 100, acked_ms: 180 });
  t.is(episodeTrace(undefined, 0), undefined);
});
