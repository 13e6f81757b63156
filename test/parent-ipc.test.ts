/**
 * A child's last report reaches its parent even when the child disconnects right after sending it.
 * Sent with a plain process.send, a report of a megabyte or more is lost that way every time here
 * (closing the channel cancels what the pipe had not taken yet), and the parent sees the channel
 * close without it: `bench` then failed with "bench process exited with code 0".
 */
import test from 'ava';
import { forkFixture } from './helpers.js';

test('a report of 4 MB sent with sendToParent arrives whole though the child disconnects at once', async (t) => {
  const size = 4_000_000;
  const child = forkFixture('fixtures/last-words.ts', [String(size)]);
  const received: number[] = [];
  child.on('message', (m: { payload: string }) => received.push(m.payload.length));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.is(code, 0);
  t.deepEqual(received, [size]);
});
