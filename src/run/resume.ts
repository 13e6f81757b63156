/**
 * `run --resume`: finishes a run that was interrupted, crashed or had failures.
 * It merges the run's episodes that have a record (a file, or a row) but no
 * merge (as `repair` does), keeps every episode with a record as done (never
 * re-played: with real model calls they cost money), and plans only the
 * episodes without one, with the run's own ids and config. Works on both
 * backends. Bad input is refused before anything is written.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { ResumePlan } from './coordinator.js';
import { registeredReflection } from '../domains/index.js';
import { loadDomainModules } from '../domains/load.js';
import { episodeId } from '../core/episode.js';
import { BadInputError } from '../core/errors.js';
import { openRemerger, withoutFailure } from '../store/repair.js';
import { processAlive } from '../store/liveness.js';
import { roundRobin } from './scheduler.js';
import type { DomainState } from '../core/audit.js';
import type { StoreBackend } from '../store/backend.js';
import { Store } from '../store/store.js';
import type { EpisodeEntry, RunManifest } from '../core/types.js';
import { storeArg } from '../core/store-arg.js';
import { isRunId, parseManifest } from '../core/validate.js';

export interface ResumeResult {
  /** Nothing left to play and nothing to merge: the run is complete and nothing was written. */
  complete: boolean;
  plan: ResumePlan;
  /** Episodes merged from their files before playing the rest. */
  recovered: string[];
}

/** Refuses a run whose process is still alive on this host: resuming it would play its episodes twice. */
function assertNotRunning(manifest: RunManifest, file?: string): void {
  if (manifest.status === 'running' && (manifest.host ?? hostname()) === hostname() && processAlive(manifest.pid)) {
    throw new BadInputError(`--resume: run ${manifest.run_id} is still running (pid ${manifest.pid}); stop it first`, file);
  }
}

/**
 * Refuses a run of a shared (PostgreSQL) store still marked running on another host: its process
 * cannot be checked from here, and if alive, resuming would play its episodes twice.
 */
function assertNotRunningElsewhere(manifest: RunManifest, location: string): void {
  if (manifest.status !== 'running' || manifest.host === undefined || manifest.host === hostname()) return;
  throw new BadInputError(
    `--resume: run ${manifest.run_id} is marked running on host ${manifest.host}; resume it there, or once its process is gone (\`ace-orch repair --store ${storeArg(location)}\` on ${manifest.host} marks it crashed; if that host is gone for good, set the run's status to 'crashed' in the store's manifests table by hand)`,
  );
}

/** Reads and checks the run's manifest: it must exist in this store, belong to it, and not be running still. */
export async function readRunToResume(store: StoreBackend, runId: string): Promise<RunManifest> {
  if (!isRunId(runId)) throw new BadInputError(`--resume: \`${runId}\` is not a run id`);
  if (!(store instanceof Store)) {
    // Read from the store's own table, where only runs on this store write: a host may reach the server under another address.
    const manifest = (await store.readManifests()).find((m) => m.run_id === runId);
    if (!manifest) throw new BadInputError(`--resume: no run \`${runId}\` in store ${store.location}`);
    assertNotRunningElsewhere(manifest, store.location);
    assertNotRunning(manifest);
    return manifest;
  }
  const file = store.manifestPath(runId);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new BadInputError(`--resume: no run \`${runId}\` in store ${store.root} (no ${file})`, file);
  }
  const manifest = parseManifest(text, file);
  if (manifest.run_id !== runId || (manifest.store !== undefined && manifest.store !== store.root)) {
    throw new BadInputError(`--resume: ${file} belongs to run ${manifest.run_id} of store ${manifest.store ?? '?'}, not to run ${runId} of ${store.root}`, file);
  }
  assertNotRunning(manifest, file);
  return manifest;
}

/** Each domain's state, after merging what run `runId` recorded but never merged; the ids merged now. */
async function remergeRun(store: StoreBackend, domains: readonly string[], cap: number, runId: string): Promise<{ states: DomainState[]; recovered: string[] }> {
  const remerger = await openRemerger(store, cap, registeredReflection);
  const states: DomainState[] = [];
  const recovered: string[] = [];
  try {
    for (const domain of domains) {
      const state = await remerger.domainState(domain);
      states.push(state);
      recovered.push(...(await remerger.remergeLost(state, runId)).recovered);
    }
  } finally {
    await remerger.close();
  }
  return { states, recovered };
}

async function committedEntries(store: StoreBackend, runId: string): Promise<Map<string, EpisodeEntry>> {
  // Loaded only for a PostgreSQL store, as the client is.
  const { PgStore, runEpisodeEntries } = await import('../store/pg/pg-store.js');
  if (!(store instanceof PgStore)) return new Map();
  return new Map((await runEpisodeEntries(store, runId)).map((e) => [e.episode_id, e]));
}

export async function planResume(store: StoreBackend, manifest: RunManifest): Promise<ResumeResult> {
  const { config } = manifest;
  await loadDomainModules(config.modules ?? []);
  const previous = new Map((manifest.episodes ?? []).map((e) => [e.episode_id, e]));
  const withRecord = new Map<string, EpisodeEntry>();
  const { states, recovered } = await remergeRun(store, config.domains, config.cap, manifest.run_id);
  // A PostgreSQL store keeps, with each episode's record, what the process or worker that committed it recorded
  // (its attempts, host and worker): a queued run's workers committed episodes its dead coordinator never listed.
  const committed = store instanceof Store ? new Map<string, EpisodeEntry>() : await committedEntries(store, manifest.run_id);
  for (const state of states) {
    for (const e of state.episodes.filter((f) => f.run_id === manifest.run_id)) {
      const before = previous.get(e.episode_id);
      const entry = committed.get(e.episode_id);
      withRecord.set(
        e.episode_id,
        before?.status === 'ok' ? before : { ...withoutFailure(before), ...entry, episode_id: e.episode_id, domain: state.domain, index: e.index ?? -1, status: 'ok', score: e.key.score, reliability: e.key.reliability },
      );
    }
  }
  const assignments = roundRobin(config.domains, config.episodes).filter((a) => !withRecord.has(episodeId(manifest.run_id, a.domain, a.index)));
  const keep = [...withRecord.values()];
  const complete = assignments.length === 0 && recovered.length === 0 && manifest.status === 'complete' && keep.length === (manifest.episodes?.length ?? -1);
  return { complete, recovered, plan: { manifest, keep, assignments } };
}
