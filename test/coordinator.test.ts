import test from 'ava';
import diagnostics from 'node:diagnostics_channel';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runExperiment } from '../src/run/coordinator.js';
import { episodePool, poolThreads } from '../src/run/episode-pool.js';
import { workerExecArgv } from '../src/run/module-file.js';
import { Worker } from 'node:worker_threads';
import { readExperimentFile, resolveExperiment } from '../src/run/experiment.js';
import { BadInputError } from '../src/core/errors.js';
import { Store } from '../src/store/store.js';
import type { ExperimentConfig } from '../src/core/types.js';
import { fixtureFile, tempDir, writeJson } from './helpers.js';

const small: ExperimentConfig = { name: 'small', domains: ['hot_pot', 'chem_tile', 'switch_light'], episodes: 4, threads: 4, processes: 1, episodeMs: 0, cap: 10, seed: 3 };

test('a run on the worker pool persists every episode and audits zero loss', async (t) => {
  const store = new Store(await tempDir());
  const events: string[] = [];
  const { manifest, report } = await runExperiment({ experiment: small, store, onEvent: (e) => events.push(e.type) });
  t.is(manifest.status, 'complete');
  t.is(manifest.episodes!.length, 12);
  t.true(manifest.episodes!.every((e) => e.status === 'ok'));
  t.deepEqual(report.domains.map((d) => [d.domain, d.episodesRun, d.episodeFiles, d.playbookObservations, d.lost]), [
    ['hot_pot', 4, 4, 4, 0],
    ['chem_tile', 4, 4, 4, 0],
    ['switch_light', 4, 4, 4, 0],
  ]);
  t.true(report.zeroLoss);
  t.is(events.filter((e) => e === 'episode').length, 12);
  const saved = JSON.parse(await readFile(store.manifestPath(manifest.run_id), 'utf8'));
  t.is(saved.audit.zeroLoss, true);
  t.is(saved.contention.hot_pot.count, 4);
  const stats = JSON.parse(await readFile(store.statsPath('hot_pot'), 'utf8'));
  t.like(stats, { runs: 1, episodes_merged: 4, last_run: { run_id: manifest.run_id } });
  // Episode files (serialized by the worker threads, written by the committer) are indented JSON with a final newline.
  for (const name of await readdir(store.episodesDir('hot_pot'))) {
    const text = await readFile(join(store.episodesDir('hot_pot'), name), 'utf8');
    t.is(text, `${JSON.stringify(JSON.parse(text), null, 2)}\n`, name);
  }
});

/** Worker threads this process starts while `work` runs (Node announces each new Worker on this channel). */
async function threadsStartedBy(work: () => Promise<unknown>): Promise<number> {
  let started = 0;
  const count = (): void => void started++;
  diagnostics.subscribe('worker_threads', count);
  try {
    await work();
  } finally {
    diagnostics.unsubscribe('worker_threads', count);
  }
  return started;
}

// Serial, as the next: it counts every worker thread the process starts meanwhile.
test.serial('a pool starts no more threads than it has episodes to play', async (t) => {
  t.is(poolThreads(4, 2), 2);
  t.is(poolThreads(4, 0), 1);
  t.is(poolThreads(2, 300), 2);
  t.is(poolThreads(3), 3, 'a queue worker does not know its episodes ahead');
  const pool = episodePool(4, 8, 2);
  try {
    await pool.ready();
    t.is(pool.threads.length, 2);
  } finally {
    await pool.destroy();
  }
  // A run of 2 episodes with --threads 4 starts 2 worker threads.
  const store = new Store(await tempDir());
  t.is(await threadsStartedBy(async () => t.true((await runExperiment({ experiment: { ...small, domains: ['hot_pot'], episodes: 2, threads: 4 }, store })).report.zeroLoss)), 2);
});

test.serial('a store that refuses the run is refused before any worker thread starts', async (t) => {
  const dir = await tempDir();
  await writeJson(join(dir, 'domains', 'hot_pot', 'playbook.json'), 'hello');
  const refused = (): Promise<unknown> => runExperiment({ experiment: { ...small, domains: ['hot_pot'] }, store: new Store(dir) });
  t.is(await threadsStartedBy(() => t.throwsAsync(refused, { instanceOf: BadInputError, message: /playbook is not valid JSON/ })), 0);
});

test("worker threads start without require() of ES modules, keeping the process's own flags", async (t) => {
  // Piscina's first try at a worker module is require(); on a Node that loads ES modules that way, a thread terminated
  // mid-load once aborted the whole test process on an assertion in Node. Threads here load them by import() only.
  const argv = workerExecArgv();
  t.deepEqual(argv.slice(0, process.execArgv.length), process.execArgv);
  const inThread = await new Promise<unknown>((resolve, reject) => {
    const w = new Worker('require("node:worker_threads").parentPort.postMessage(process.features.require_module)', { eval: true, execArgv: argv });
    w.once('message', (m) => void w.terminate().then(() => resolve(m)));
    w.once('error', reject);
  });
  t.not(inThread, true, "require() of ES modules is off in the thread (or this Node has none)");
});

test('a second run into the same store audits its own episodes', async (t) => {
  const store = new Store(await tempDir());
  await runExperiment({ experiment: small, store });
  const second = await runExperiment({ experiment: { ...small, episodes: 10 }, store });
  t.true(second.report.zeroLoss);
  for (const d of second.report.domains) {
    t.is(d.episodesRun, 10);
    t.is(d.episodeFiles, 10);
  }
});

test('a failed episode is reported and does not stop the others', async (t) => {
  const dir = await tempDir();
  await writeJson(join(dir, 'exp.json'), { name: 'flaky', domains: ['flaky', 'hot_pot'], episodes: 5, threads: 2, seed: 5, modules: [fixtureFile('flaky-domain.mjs')] });
  const experiment = resolveExperiment([{ input: await readExperimentFile(join(dir, 'exp.json')), source: 'exp.json' }]);
  const { manifest, report } = await runExperiment({ experiment, store: new Store(join(dir, 'store')) });
  const failed = manifest.episodes!.filter((e) => e.status === 'failed');
  t.is(failed.length, 1, JSON.stringify(failed));
  t.like(failed[0], { domain: 'flaky', index: 2 });
  t.regex(failed[0]!.error!, /simulated crash/);
  t.is(manifest.episodes!.length, 10);
  t.like(report.domains.find((d) => d.domain === 'flaky'), { episodesRun: 5, episodeFiles: 4, missingFiles: 0, failed: 1, lost: 0 });
  t.true(report.zeroLoss, 'a failed episode owes no file: failed is not lost');
});

test('aborting stops scheduling, lets in-flight episodes finish, and records an interrupted run', async (t) => {
  const store = new Store(await tempDir());
  const controller = new AbortController();
  const { manifest, report } = await runExperiment({
    experiment: { ...small, episodes: 20, threads: 2, episodeMs: 20 },
    store,
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'episode' && e.done === 3) controller.abort('SIGINT received');
    },
  });
  t.is(manifest.status, 'interrupted');
  t.is(manifest.stop_reason, 'SIGINT received');
  t.true(manifest.episodes!.length >= 3 && manifest.episodes!.length < 60, `${manifest.episodes!.length} episodes`);
  t.true(manifest.episodes!.every((e) => e.status === 'ok'), 'in-flight episodes finished their writes');
  t.true(report.zeroLoss);
});

test('a corrupt playbook stops the run before any episode, untouched', async (t) => {
  const dir = await tempDir();
  const store = new Store(dir);
  await writeJson(store.playbookPath('chem_tile'), '{"observations": [ {"episode_id": "x"');
  const err = await t.throwsAsync(runExperiment({ experiment: small, store }), { instanceOf: BadInputError });
  t.true(err!.message.includes(store.playbookPath('chem_tile')));
  t.is(await readFile(store.playbookPath('chem_tile'), 'utf8'), '{"observations": [ {"episode_id": "x"');
});
