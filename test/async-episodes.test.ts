import test from 'ava';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import { runExperiment } from '../src/run/coordinator.js';
import { runExitCode } from '../src/core/exit-codes.js';
import { EXIT } from '../src/core/exit-codes.js';
import { readExperimentFile, resolveExperiment } from '../src/run/experiment.js';
import { Store } from '../src/store/store.js';
import type { ExperimentInput } from '../src/run/experiment.js';
import { fixtureFile as fixture, tempDir, writeJson } from './helpers.js';

// From test/fixtures/ (tsc does not compile it next to this test's build): a JavaScript fixture without declarations.
const { ACKS, RESEND } = (await import(pathToFileURL(fixture('seen-domain.mjs')).href)) as { ACKS: string; RESEND: string };

async function setup(input: ExperimentInput & { modules: string[] }) {
  const dir = await tempDir();
  await writeJson(join(dir, 'exp.json'), { name: 'async', seed: 1, ...input });
  const experiment = resolveExperiment([{ input: await readExperimentFile(join(dir, 'exp.json')), source: 'exp.json' }]);
  return { experiment, store: new Store(join(dir, 'store')) };
}

const files = async (store: Store, domain: string): Promise<string[]> => (await readdir(store.episodesDir(domain))).filter((f) => f.endsWith('.json')).sort();

test('an async domain awaits timers and reads ctx; failures, a timeout and a non-retryable error fail without writing, exit 4', async (t) => {
  const { experiment, store } = await setup({ domains: ['async_probe'], episodes: 6, threads: 1, concurrency: 3, episodeTimeoutMs: 2000, modules: [fixture('async-domain.mjs')] });
  const { manifest, report } = await runExperiment({ experiment, store });
  const byIndex = new Map(manifest.episodes!.map((e) => [e.index, e]));
  t.deepEqual([...byIndex.keys()].sort(), [0, 1, 2, 3, 4, 5]);
  t.like(byIndex.get(1), { status: 'failed', attempts: 1 });
  t.regex(byIndex.get(1)!.error!, /flaky model call/);
  t.like(byIndex.get(2), { status: 'failed', attempts: 1 });
  t.regex(byIndex.get(2)!.error!, /^E_TIMEOUT: /);
  t.regex(byIndex.get(3)!.error!, /refused/);
  for (const i of [0, 4, 5]) t.is(byIndex.get(i)!.status, 'ok');
  t.true(manifest.episodes!.every((e) => typeof e.started_at === 'string'));

  // Nothing of a failed or abandoned attempt is on disk or in the playbook.
  const names = await files(store, 'async_probe');
  t.deepEqual(names, [0, 4, 5].map((i) => `${byIndex.get(i)!.episode_id}.json`));
  const playbook = await store.readPlaybook('async_probe');
  t.deepEqual(playbook.observations.map((o) => o.episode_id).sort(), names.map((n) => n.replace(/\.json$/, '')));

  const record = JSON.parse(await readFile(join(store.episodesDir('async_probe'), names[0]!), 'utf8'));
  t.like(record.outcome.observation.context, { episode_id: byIndex.get(0)!.episode_id, index: 0, attempt: 0, signal: true });
  t.deepEqual(record.outcome.observation.context.sections, ['context_patterns', 'observations', 'strategies_and_rules', 'troubleshooting']);

  t.like(report.domains[0], { failed: 3, failedIds: [1, 2, 3].map((i) => byIndex.get(i)!.episode_id), missingFiles: 0, lost: 0 });
  t.true(report.zeroLoss, 'failed is not lost');
  t.is(runExitCode(report.zeroLoss, manifest), EXIT.failed);
});

test('retries re-play a failed or timed-out attempt under the same id: one file, one merge; retryable:false is not retried', async (t) => {
  const { experiment, store } = await setup({ domains: ['async_probe'], episodes: 5, threads: 2, concurrency: 4, episodeTimeoutMs: 2000, retries: 2, retryDelayMs: 10, modules: [fixture('async-domain.mjs')] });
  const { manifest, report } = await runExperiment({ experiment, store });
  const byIndex = new Map(manifest.episodes!.map((e) => [e.index, e]));
  t.like(byIndex.get(1), { status: 'ok', attempts: 2 });
  t.regex(byIndex.get(1)!.attempt_errors![0]!, /flaky model call/);
  t.like(byIndex.get(2), { status: 'ok', attempts: 2 });
  t.regex(byIndex.get(2)!.attempt_errors![0]!, /^E_TIMEOUT: /);
  t.like(byIndex.get(3), { status: 'failed', attempts: 1 });
  t.like(byIndex.get(0), { status: 'ok', attempts: 1 });
  // A retried episode's trace starts with its first attempt, as its started_at does: the 2 s its first attempt
  // hung are the episode's, not worker start-up before it (the last attempt's start is over 2 s later; the two
  // stamps of the first are taken together, so 500 ms separates them only on a machine stalled that long).
  const origin = Date.parse(manifest.trace_origin!);
  for (const i of [1, 2]) {
    const e = byIndex.get(i)!;
    t.true(Math.abs(e.trace!.start_ms - (Date.parse(e.started_at!) - origin)) < 500, `episode ${i}: trace starts at ${e.trace!.start_ms} ms, its first attempt at ${Date.parse(e.started_at!) - origin} ms`);
  }
  t.true(byIndex.get(2)!.trace!.played_ms! - byIndex.get(2)!.trace!.start_ms >= 2000, 'its bar spans the timed-out first attempt');

  const names = await files(store, 'async_probe');
  t.is(names.length, 4);
  for (const i of [1, 2]) {
    const record = JSON.parse(await readFile(join(store.episodesDir('async_probe'), `${byIndex.get(i)!.episode_id}.json`), 'utf8'));
    t.is(record.outcome.observation.context.attempt, 1, 'the file is the successful attempt');
  }
  const playbook = await store.readPlaybook('async_probe');
  t.is(playbook.observations.length, 4);
  t.is(new Set(playbook.observations.map((o) => o.episode_id)).size, 4, 'each episode merged once');
  t.is(manifest.contention!['async_probe']!.count, 4);
  t.true(report.zeroLoss);
  t.is(runExitCode(report.zeroLoss, manifest), EXIT.failed);
});

test('--concurrency runs more episodes at once than there are threads', async (t) => {
  // Plays finish only once 4 are in flight on the one thread; a timeout fails them if they never are.
  const { experiment, store } = await setup({ domains: ['gather'], episodes: 8, threads: 1, concurrency: 4, episodeTimeoutMs: 60_000, modules: [fixture('gather-domain.mjs')] });
  const { manifest, report } = await runExperiment({ experiment, store });
  t.true(manifest.episodes!.every((e) => e.status === 'ok'), JSON.stringify(manifest.episodes!.filter((e) => e.status !== 'ok')));
  t.is(manifest.timings!.concurrency, 4);
  // The gathered plays take almost no time, so under load the efficiency may round to 0: only its range is certain.
  t.true(manifest.timings!.efficiency! >= 0 && manifest.timings!.efficiency! <= 1, String(manifest.timings!.efficiency));
  t.true(report.zeroLoss);
});

test('an attempt\'s prior and ctx.playbook hold every observation acknowledged before it started', async (t) => {
  // A cap above the episode count: nothing acknowledged can have been ranked out.
  const { experiment, store } = await setup({ domains: ['seen'], episodes: 40, threads: 2, concurrency: 6, cap: 100, episodeTimeoutMs: 60_000, modules: [fixture('seen-domain.mjs')] });
  const acked: number[] = [];
  const acks = new BroadcastChannel(ACKS);
  acks.onmessage = (message) => {
    if ((message as MessageEvent).data === RESEND) for (const index of acked) acks.postMessage(index);
  };
  const ack = (index: number): void => (acked.push(index), acks.postMessage(index));
  const { manifest, report } = await runExperiment({ experiment, store, onEvent: (e) => e.type === 'episode' && ack(e.outcome.index) }).finally(() => acks.close());
  t.true(report.zeroLoss);
  const seen = new Map<string, { seen: string[]; playbookSeen: string[] }>();
  for (const name of await files(store, 'seen')) {
    const record = JSON.parse(await readFile(join(store.episodesDir('seen'), name), 'utf8'));
    seen.set(record.episode_id, record.outcome.observation.context);
  }
  const episodes = manifest.episodes!;
  let pairs = 0;
  for (const b of episodes) {
    const prior = seen.get(b.episode_id)!;
    t.deepEqual(prior.playbookSeen, prior.seen, 'prior is ctx.playbook.observations');
    // Start and acknowledgement are stamped in different threads: 1 ms of margin for their clocks.
    for (const a of episodes.filter((a) => a.trace!.acked_ms + 1 < b.trace!.start_ms)) {
      pairs++;
      t.true(prior.seen.includes(a.episode_id), `${b.episode_id} started after ${a.episode_id} was acknowledged but did not see it`);
    }
  }
  t.true(pairs > 0, 'some episodes started after others were acknowledged');
});

test('--max-failures stops scheduling once more episodes failed, and the run exits 4', async (t) => {
  const { experiment, store } = await setup({ domains: ['async_probe'], episodes: 40, threads: 1, concurrency: 1, maxFailures: 0, modules: [fixture('async-domain.mjs')] });
  const { manifest, report } = await runExperiment({ experiment, store });
  t.is(manifest.status, 'stopped');
  t.regex(manifest.stop_reason!, /more than 0 episodes failed/);
  t.true(manifest.episodes!.length < 40, `${manifest.episodes!.length} episodes ran`);
  t.is(manifest.episodes!.filter((e) => e.status === 'failed').length, 1);
  t.true(report.zeroLoss);
  t.is(runExitCode(report.zeroLoss, manifest), EXIT.failed);
});

test('stopping the run fires ctx.signal in every in-flight episode, across threads', async (t) => {
  // --max-failures 1: the six that fail because the run stopped are no failures of the agent's to stop it for.
  const { experiment, store } = await setup({ domains: ['until_stop'], episodes: 20, threads: 2, concurrency: 6, retries: 3, retryDelayMs: 10, maxFailures: 1, modules: [fixture('stop-domain.mjs')] });
  const controller = new AbortController();
  let started = 0;
  const { manifest, report } = await runExperiment({
    experiment,
    store,
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'episode-started' && ++started === 6) controller.abort('SIGINT received');
    },
  });
  t.is(manifest.status, 'interrupted');
  t.is(manifest.episodes!.length, 6, 'the six in flight ended; no others started');
  for (const e of manifest.episodes!) {
    t.is(e.status, 'failed');
    // Said apart from the agents' own errors, with what the play threw.
    t.regex(e.error!, /^E_STOPPED: stopped with the run while it played \(stopped: run stopped\)$/);
    t.is(e.attempts, 1, 'no retry once the run is stopping');
  }
  t.deepEqual(await files(store, 'until_stop'), []);
  t.true(report.zeroLoss);
});

test('a play that blocks its thread past --episode-timeout fails with E_TIMEOUT when it returns: its value is discarded, nothing written', async (t) => {
  const { experiment, store } = await setup({ domains: ['busy'], episodes: 2, threads: 1, episodeTimeoutMs: 200, modules: [fixture('busy-domain.mjs')] });
  const { manifest } = await runExperiment({ experiment, store });
  const byIndex = new Map(manifest.episodes!.map((e) => [e.index, e]));
  t.like(byIndex.get(0), { status: 'failed' });
  t.regex(byIndex.get(0)!.error!, /^E_TIMEOUT: /);
  t.like(byIndex.get(1), { status: 'ok' });
  t.deepEqual(await files(store, 'busy'), [`${byIndex.get(1)!.episode_id}.json`], 'only the episode that finished in time has a file');
});
