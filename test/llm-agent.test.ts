import test from 'ava';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Store } from '../src/store/store.js';
import { cli } from './cli-helper.js';
import { ROOT, tempDir, watchLines } from './helpers.js';
import { startStub } from './fixtures/openai-stub.js';
import type { StubAnswer, StubRequest } from './fixtures/openai-stub.js';

const DOMAIN = 'hot_pot_llm';
const indexOf = (episode: string): number => Number(episode.slice(-4));

/**
 * Episode 1: its first request answers 500 once (the openai client retries it).
 * Episode 2, attempt 0: every request answers 429 (the client gives up; ace-orch re-plays the episode).
 * Episode 3, attempt 0: the first request is never answered (the episode timeout abandons the attempt).
 * Episode 4: answers prose with no action (the default action is taken).
 * Otherwise: wait(2) three times, then stop().
 */
function policy(r: StubRequest): StubAnswer {
  const i = indexOf(r.episode);
  if (i === 1 && r.attempt === 0 && r.n === 0) return { status: 500 };
  if (i === 2 && r.attempt === 0) return { status: 429 };
  if (i === 3 && r.attempt === 0) return { hold: true };
  if (i === 4) return { text: 'I would rather think about it a little longer.' };
  return { text: r.n < 3 ? 'wait(2)' : 'stop()' };
}

test('the LLM example plays hot_pot against an OpenAI-compatible server: retries at both layers, a timeout, the playbook in every prompt, zero loss', async (t) => {
  const stub = await startStub(policy);
  t.teardown(() => stub.close());
  Object.assign(process.env, { OPENAI_BASE_URL: stub.baseURL, OPENAI_API_KEY: 'test-key', ACE_MODEL: 'stub-model', ACE_HTTP_RETRIES: '1' });
  const store = await tempDir();
  const experiment = join(ROOT, 'experiments', 'llm-hot-pot.json');
  const flags = ['--episode-timeout', '8000', '--retries', '2', '--retry-delay', '10', '--rate', '50', '--store', store, '--json'];

  // A first run fills the playbook the second run's prompts must carry.
  const first = await cli(['run', experiment, '--episodes', '2', ...flags]);
  t.is(first.code, 0, first.stderr);
  const seeded = await new Store(store).readPlaybook(DOMAIN);
  t.true(seeded.observations.length > 0);

  const r = await cli(['run', experiment, '--episodes', '6', '--seed', '8', ...flags]);
  t.is(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  t.true(result.zeroLoss);
  const manifest = JSON.parse(await readFile(new Store(store).manifestPath(result.runId), 'utf8'));
  const byIndex = new Map<number, { status: string; attempts: number; attempt_errors?: string[]; episode_id: string }>(manifest.episodes.map((e: { index: number }) => [e.index, e]));
  t.is(manifest.episodes.length, 6);
  t.true(manifest.episodes.every((e: { status: string }) => e.status === 'ok'));

  // The 500 was retried by the openai client: one attempt, two requests for its first step.
  t.is(byIndex.get(1)!.attempts, 1);
  t.true(stub.requests.some((q) => q.episode === byIndex.get(1)!.episode_id && q.n === 1 && q.attempt === 0));
  // The 429s outlasted the client's retry: ace-orch re-played the episode.
  t.is(byIndex.get(2)!.attempts, 2);
  t.regex(byIndex.get(2)!.attempt_errors![0]!, /429/);
  // The held request: the attempt was abandoned at the timeout, then re-played.
  t.is(byIndex.get(3)!.attempts, 2);
  t.regex(byIndex.get(3)!.attempt_errors![0]!, /^E_TIMEOUT: /);
  // The run's summary of them: two attempts played again, both episodes then succeeded, one failure a rate limit.
  t.like(result.retries, { replayed: 2, episodes: 2, recovered: 2, rateLimited: 1 });

  const episodes = new Store(store).episodesDir(DOMAIN);
  const record = async (i: number) => JSON.parse(await readFile(join(episodes, `${byIndex.get(i)!.episode_id}.json`), 'utf8'));
  t.is((await record(3)).outcome.observation.context.attempt, 1, 'only the successful attempt was written');
  const unparsable = await record(4);
  t.is(unparsable.outcome.observation.context.unparsed, 6);
  t.deepEqual(unparsable.trajectory.actions, Array(6).fill('wait(2)'), 'the documented default action');

  // Every prompt of the second run carries the playbook as read at its episode's start: real
  // observations and strategies of this store (the seeded ones at least), never "none yet".
  const files = await new Store(store).listEpisodeFiles(DOMAIN);
  const records = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8'))));
  const ids = new Set(records.map((x) => x.episode_id as string));
  const strategies = new Set(records.flatMap((x) => (x.outcome.sections.strategies_and_rules as { content: string }[]).map((s) => s.content)));
  const mine = stub.requests.filter((q) => q.episode.startsWith(result.runId));
  t.true(mine.length >= 6);
  for (const q of mine) {
    const named = [...q.prompt.matchAll(/\(episode (\S+)\)/g)].map((m) => m[1]!);
    t.true(named.length >= Math.min(3, seeded.observations.length) && named.length <= 3, `the top observations in: ${q.prompt}`);
    t.true(named.every((id) => ids.has(id)));
    const listed = q.prompt.split('Playbook strategies:\n')[1]!.split('\nReadings')[0]!.split('\n').map((l) => l.slice(2));
    if (seeded.strategies_and_rules.length) t.true(listed.length > 0 && listed.every((c) => strategies.has(c)), q.prompt);
  }
});

test('the LLM example without OPENAI_API_KEY fails each episode once, naming the variable, instead of retrying what cannot succeed', async (t) => {
  const store = await tempDir();
  const experiment = join(ROOT, 'experiments', 'llm-hot-pot.json');
  const r = await cli(['run', experiment, '--episodes', '2', '--retries', '3', '--retry-delay', '10', '--store', store, '--json'], undefined, {
    env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' },
  });
  t.is(r.code, 4, r.stderr);
  const manifest = JSON.parse(await readFile(new Store(store).manifestPath(JSON.parse(r.stdout).runId), 'utf8'));
  for (const e of manifest.episodes as { status: string; attempts?: number; error: string }[]) {
    t.is(e.status, 'failed');
    t.is(e.attempts ?? 1, 1, 'not retried');
    t.regex(e.error, /OPENAI_API_KEY is not set/);
  }
});

test('the example\'s fake server stands in for a model: the example runs against it with no key and no network', async (t) => {
  const server = spawn(process.execPath, [join(ROOT, 'examples', 'llm-agent', 'fake-server.mjs')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void server.kill());
  const printed = watchLines(server.stdout!);
  const url = /http:\/\/127\.0\.0\.1:\d+\/v1/;
  await printed.until((lines) => lines.some((l) => url.test(l)));
  const baseURL = url.exec(printed.lines.find((l) => url.test(l))!)![0];
  const store = await tempDir();
  const r = await cli(['run', join(ROOT, 'experiments', 'llm-hot-pot.json'), '--episodes', '3', '--store', store, '--json'], undefined, {
    env: { OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: 'fake', ACE_MODEL: 'fake' },
  });
  t.is(r.code, 0, r.stderr);
  t.true(JSON.parse(r.stdout).zeroLoss);
  t.is((await new Store(store).readPlaybook(DOMAIN)).observations.length, 3);
});
