import test from 'ava';
import { emptyProgress, formatDuration, nextLineAt, progressLine } from '../src/cli/progress.js';

test('the progress line shows done of total, in flight, failed, retried, the rate and an ETA', (t) => {
  const line = progressLine({ ...emptyProgress(100), done: 25, inFlight: 12, failed: 2, retried: 5, elapsedMs: 10_000 });
  t.is(line, '[#####...............] 25/100 done, 12 in flight, 2 failed, 5 retried, 2.5/s, ETA 30s');
  // A queued run sees the queue, not its workers' attempts: what it counts is said as such.
  t.is(progressLine({ ...emptyProgress(100), done: 25, retried: 3, retriedAs: 'handed out again', elapsedMs: 10_000 }), '[#####...............] 25/100 done, 0 in flight, 0 failed, 3 handed out again, 2.5/s, ETA 30s');
  t.regex(progressLine({ ...emptyProgress(10), done: 10, elapsedMs: 1000 }), /10\/10 done.*ETA 0s$/);
  t.regex(progressLine(emptyProgress(10)), /0\/10 done.*0\.0\/s, ETA \?$/);
});

test('durations and the --progress lines cadence', (t) => {
  t.deepEqual([formatDuration(42_000), formatDuration(185_000), formatDuration(3_720_000)], ['42s', '3m05s', '1h02m']);
  t.deepEqual([nextLineAt(0, 30), nextLineAt(3, 30), nextLineAt(4, 30), nextLineAt(0, 5)], [3, 6, 6, 1]);
});
