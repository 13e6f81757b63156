/**
 * `chaos` returns with nothing left running: a timer or child process left
 * behind keeps the CLI alive after it has printed its verdict (a forgotten
 * 20 s stop deadline once did, and made every chaos run 17 s longer).
 */
import test from 'ava';
import { join } from 'node:path';
import { runChaos } from '../src/chaos/run-chaos.js';
import { tempDir } from './helpers.js';

const count = (resources: string[], kind: string): number => resources.filter((r) => r === kind).length;

test('chaos leaves no timer and no child process behind once it returns', async (t) => {
  const before = process.getActiveResourcesInfo();
  const report = await runChaos({ store: join(await tempDir(), 'chaos'), kills: 2, processes: 2, threads: 1, seed: 3 });
  t.true(report.ok);
  t.is(report.kills, 2);
  const after = process.getActiveResourcesInfo();
  for (const kind of ['Timeout', 'ProcessWrap']) t.is(count(after, kind), count(before, kind), `${kind} left behind: ${after.join(', ')}`);
});
