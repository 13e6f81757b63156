import test from 'ava';
import { runExperiment } from '../src/run/coordinator.js';
import { Store } from '../src/store/store.js';
import type { ExperimentConfig } from '../src/core/types.js';
import { pathToFileURL } from 'node:url';
import { fixtureFile, tempDir } from './helpers.js';

test('--rate: no rolling second of a multi-process run holds more than N episode starts', async (t) => {
  const rate = 4;
  const experiment: ExperimentConfig = { name: 'rate', domains: ['hot_pot', 'chem_tile', 'switch_light'], episodes: 4, threads: 2, processes: 2, episodeMs: 0, cap: 10, seed: 1, rate };
  const { manifest, report } = await runExperiment({ experiment, store: new Store(await tempDir()) });
  t.true(report.zeroLoss);
  const starts = manifest.episodes!.map((e) => Date.parse(e.started_at!)).sort((a, b) => a - b);
  t.is(starts.length, 12);
  // N+1 starts within one second would break the bound: each start and the N-th after it are at least 1000 ms apart.
  for (let i = 0; i + rate < starts.length; i++) t.true(starts[i + rate]! - starts[i]! >= 1000, `starts ${i} and ${i + rate} are ${starts[i + rate]! - starts[i]!} ms apart`);
  // And the limiter is what spaced them: 12 starts at 4/s span at least 2 s.
  t.true(starts.at(-1)! - starts[0]! >= 2000);
});

test('--rate holds where the model calls are: no rolling second holds more than N plays, though the domain module loads slowly', async (t) => {
  // Granted while the threads still loaded the module, the first second's episodes began their play late, in the
  // same second as the next second's: 2N plays a second, seen by the model API.
  const rate = 4;
  const experiment: ExperimentConfig = {
    name: 'rate-plays',
    domains: ['slow_load'],
    episodes: 8,
    threads: 2,
    concurrency: 8,
    processes: 1,
    episodeMs: 0,
    cap: 10,
    seed: 1,
    rate,
    modules: [pathToFileURL(fixtureFile('slow-load-domain.mjs')).href],
  };
  const store = new Store(await tempDir());
  const { report } = await runExperiment({ experiment, store });
  t.true(report.zeroLoss);
  const plays = (await store.readPlaybook('slow_load')).observations.map((o) => (o.context as { playedAt: number }).playedAt).sort((a, b) => a - b);
  t.is(plays.length, 8);
  // Granted a second apart, plays i and i+4 begin about a second apart, give or take a thread's wake-up on a busy
  // machine; granted before the module loaded (it takes a second), both waves began together, as it finished.
  for (let i = 0; i + rate < plays.length; i++) t.true(plays[i + rate]! - plays[i]! >= 500, `plays ${i} and ${i + rate} began ${plays[i + rate]! - plays[i]!} ms apart`);
});
