/** SIGINT/SIGTERM: the first stops gently; the same signal delivered twice at once is one; a later second exits. */
import test from 'ava';
import { interruptSignal, SAME_INTERRUPT_MS } from '../src/cli/interrupts.js';
import type { Io } from '../src/cli/commands/io.js';

// Signals are process-wide: these tests emit them one at a time.
test.serial('a signal repeated at once (timeout -s INT signals the process, then its group) is one interruption; one that comes later exits', (t) => {
  let now = 1_000;
  const exits: number[] = [];
  const errors: string[] = [];
  const io: Io = { out: () => {}, err: (line) => void errors.push(line), progress: () => {} };
  const { signal, release } = interruptSignal(io, { now: () => now, exit: ((code: number) => void exits.push(code)) as (code: number) => never });
  try {
    process.emit('SIGINT', 'SIGINT');
    t.true(signal.aborted);
    t.is(signal.reason, 'SIGINT received');
    now += 1;
    process.emit('SIGINT', 'SIGINT');
    now += SAME_INTERRUPT_MS - 2;
    process.emit('SIGTERM', 'SIGTERM');
    t.deepEqual(exits, [], 'repeats of the first interruption do not exit');
    t.deepEqual(errors, []);
    now += SAME_INTERRUPT_MS;
    process.emit('SIGINT', 'SIGINT');
    t.deepEqual(exits, [130], 'a second interruption, later, exits at once');
    t.regex(errors[0]!, /second SIGINT, exiting now/);
  } finally {
    release();
  }
});
