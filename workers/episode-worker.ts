/**
 * Piscina worker: plays one episode and persists it through the store —
 * episode file first (the durable record), then the locked playbook merge;
 * in `batched` and `shared` mode it hands both to the process's group committer instead.
 * Errors come back as typed outcomes, never as thrown errors, so their codes
 * survive the thread boundary.
 */
import { inspect } from 'node:util';
import { threadId } from 'node:worker_threads';
import { epochMs } from '../src/run/episode-clock.js';
import type { EpisodeClock } from '../src/run/episode-clock.js';
import { findDomain } from '../src/domains/index.js';
import { loadDomainModules } from '../src/domains/load.js';
import { AceError, BadInputError, EpisodeResultError, LockTimeoutError } from '../src/core/errors.js';
import { checkEpisodeDeltas, oneLine } from '../src/core/validate.js';
import { episodeFileText, episodeId, episodeRngs, recordPlay } from '../src/core/episode.js';
import { mergeTiming } from '../src/run/messages.js';
import type { EpisodeOutcome, EpisodeTask } from '../src/run/messages.js';
import { applyDeltas } from '../src/core/merge.js';
import type { StoreBackend } from '../src/store/backend.js';
import { openStore } from '../src/store/open.js';
import { overwriteUnlocked } from '../src/repro/unlocked.js';
import { Store } from '../src/store/store.js';
import { markThreadReady } from '../src/run/thread-ready.js';
import { raceTimeout, runStop } from './attempt.js';

// The promise is kept: episodes a thread starts together share one store (one pool, for PostgreSQL).
const stores = new Map<string, Promise<StoreBackend>>();
// Every import above is loaded: the pool may count this thread as started.
markThreadReady();

function storeFor(task: EpisodeTask): Promise<StoreBackend> {
  const key = `${task.store}\0${task.cap}`;
  let store = stores.get(key);
  if (!store) {
    store = openStore(task.store, { cap: task.cap, lock: task.lock });
    stores.set(key, store);
  }
  return store;
}

/**
 * Loads the experiment's domain modules and opens the store, playing nothing: a rate-limited run does it on every
 * thread before its first start is granted (src/run/scheduler.ts). A failure is left for the episodes to report.
 */
export async function warmup(task: EpisodeTask): Promise<void> {
  try {
    await loadDomainModules(task.modules);
    await storeFor(task);
  } catch {
    // Each episode loads them again and fails with the reason.
  }
}

export default async function runEpisode(task: EpisodeTask): Promise<EpisodeOutcome> {
  const started = performance.now();
  const clock: EpisodeClock = { pid: process.pid, thread: threadId, start: epochMs() };
  const id = episodeId(task.runId, task.domain, task.index);
  let persisting = false;
  let playStarted = 0;
  let playMs: number | undefined;
  try {
    await loadDomainModules(task.modules);
    const domain = findDomain(task.domain);
    if (!domain) throw new BadInputError(`unknown domain \`${task.domain}\``);
    const store = await storeFor(task);
    const prior = await store.readPlaybook(task.domain);
    const now = new Date().toISOString();
    const { world, rng } = episodeRngs(task.seed, task.domain, task.index);
    playStarted = performance.now();
    const play = await raceTimeout((ctx) => domain.play(world, rng, prior.observations, { ...ctx, episodeId: id, index: task.index, attempt: task.attempt, playbook: prior }), {
      runStop: runStop(task.runId, task.stopFlag),
      timeoutMs: task.timeoutMs,
      episodeMs: task.episodeMs,
    });
    // From here on the attempt has succeeded: nothing below is retried, so a retry never writes twice.
    persisting = true;
    playMs = performance.now() - playStarted;
    clock.played = epochMs();
    const { record, deltas } = recordResult(() => recordPlay({ runId: task.runId, domain, index: task.index, seed: task.seed, prior, now }, play), task.domain, play);
    // A result every later read of the playbook would refuse fails this episode alone, before its file or merge.
    checkEpisodeDeltas(deltas, task.domain);
    const batched = task.mode === 'locked' && task.commit !== 'each';
    // Batched: the group committer makes this file durable together with the rest of its batch, before the merge.
    if (!batched) await store.writeEpisode(task.domain, record);
    const done = {
      ok: true as const,
      episode_id: id,
      domain: task.domain,
      index: task.index,
      score: record.outcome.score,
      reliability: deltas.observations[0]!.reliability,
      clock,
    };
    // Batched: the process's group committer merges these and acknowledges the episode.
    // The file store's committer writes the record's text as it is: serialized here, on this thread.
    if (batched) return { ...done, ms: performance.now() - started, playMs, deltas, record: store instanceof Store ? { episode_id: record.episode_id, text: episodeFileText(record) } : record };
    const merge =
      task.mode === 'unlocked' && store instanceof Store
        ? { waitMs: 0, holdMs: 0, retries: 0, changed: true, refused: 0, foreignWrites: 0, reclaimed: 0, bytes: await overwriteUnlocked(store, task.domain, applyDeltas(prior, deltas, task.cap)) }
        : await store.merge(task.domain, deltas);
    return {
      ...done,
      ms: performance.now() - started,
      playMs,
      merge: mergeTiming(merge),
    };
  } catch (err) {
    // A play that failed once the run was told to stop (Ctrl-C, SIGTERM) failed because its ctx.signal fired, most
    // likely: said apart, not counted with the agents' own errors (nor read as a reason to lower --rate).
    const stopped = !persisting && playStarted > 0 && runStop(task.runId, task.stopFlag).stopped && !(err instanceof AceError);
    return {
      ok: false,
      episode_id: id,
      domain: task.domain,
      index: task.index,
      ms: performance.now() - started,
      playMs: playStarted ? (playMs ?? performance.now() - playStarted) : 0,
      error: {
        code: stopped ? 'E_STOPPED' : thrownCode(err),
        message: stopped ? `stopped with the run while it played (${thrownMessage(err)})` : thrownMessage(err),
        fatal: err instanceof BadInputError || err instanceof LockTimeoutError,
        retryable: !persisting && (err as { retryable?: unknown })?.retryable !== false,
      },
      clock,
    };
  }
}

/** The error code of what a play threw: ours, a system error's (ENOENT, ECONNRESET...), else E_EPISODE. Anything may be thrown, null included. */
function thrownCode(err: unknown): string {
  if (err instanceof AceError) return err.code;
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : 'E_EPISODE';
}

/** What a play threw, in one readable line: an Error's message, a string as it is, anything else as Node shows it. */
function thrownMessage(err: unknown): string {
  if (err instanceof Error) return oneLine(err.message || `${err.name} with no message`);
  if (typeof err === 'string') return oneLine(err) || 'threw an empty string';
  const shown = inspect(err, { depth: 2, breakLength: Infinity });
  return `threw ${shown.length > 200 ? `${shown.slice(0, 197)}...` : shown}`;
}

/**
 * The episode's record and deltas from what play returned; a play that returned no object, or a reflect that returned
 * none (they are user code), fails as a bad result, not as a TypeError read off null.
 */
function recordResult<T>(make: () => T, domain: string, play: unknown): T {
  const where = `domain \`${domain}\` returned a result that cannot be merged`;
  if (typeof play !== 'object' || play === null) throw new EpisodeResultError(`${where}: play() resolved to ${inspect(play)}, not an object`);
  try {
    return make();
  } catch (err) {
    if (err instanceof TypeError) throw new EpisodeResultError(`${where}: ${err.message} (play() or reflect() returned something other than the Domain types say)`);
    throw err;
  }
}
