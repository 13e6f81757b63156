/**
 * `run --resume`: finishes a run that was interrupted, crashed or had failures.
 * It merges the run's episodes that have a file but no merge (as `repair`
 * does), keeps every episode with a file as done (never re-played: with real
 * model calls they cost money), and plans only the episodes without a file,
 * with the run's own ids and config. Bad input is refused before anything is written.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { ResumePlan } from './coordinator.js';
import { registeredReflection } from './domains/index.js';
import { loadDomainModules } from './domains/load.js';
import { episodeId } from './episode.js';
import { BadInputError } from './errors.js';
import { remergeLost } from './repair.js';
import { processAlive } from './run-liveness.js';
import { roundRobin } from './scheduler.js';
import { readDomainState } from './store/snapshot.js';
import type { Store } from './store/store.js';
import type { EpisodeEntry, RunManifest } from './types.js';
import { parseManifest } from './validate.js';

export interface ResumeResult {
  /** Nothing left to play and nothing to merge: the run is complete and nothing was written. */
  complete: boolean;
  plan: ResumePlan;
  /** Episodes merged from their files before playing the rest. */
  recovered: string[];
}

/** Reads and checks the run's manifest: it must exist in this store, belong to it, and not be running still. */
export async function readRunToResume(store: Store, runId: string): Promise<RunManifest> {
  if (!/^[A-Za-z0-9._-]+$/.test(runId)) throw new BadInputError(`--resume: \`${runId}\` is not a run id`);
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
  if (manifest.status === 'running' && (manifest.host ?? hostname()) === hostname() && processAlive(manifest.pid)) {
    throw new BadInputError(`--resume: run ${runId} is still running (pid ${manifest.pid}); stop it first`, file);
  }
  return manifest;
}

export async function planResume(store: Store, manifest: RunManifest): Promise<ResumeResult> {
  const { config } = manifest;
  await loadDomainModules(config.modules ?? []);
  const previous = new Map((manifest.episodes ?? []).map((e) => [e.episode_id, e]));
  const withFile = new Map<string, EpisodeEntry>();
  const recovered: string[] = [];
  for (const domain of config.domains) {
    const state = await readDomainState(store, domain, registeredReflection);
    recovered.push(...(await remergeLost(store, state, config.cap, manifest.run_id, { rules: registeredReflection })).recovered);
    for (const e of state.episodes.filter((f) => f.run_id === manifest.run_id)) {
      const before = previous.get(e.episode_id);
      withFile.set(e.episode_id, before?.status === 'ok' ? before : { episode_id: e.episode_id, domain, index: e.index ?? -1, status: 'ok', score: e.key.score, reliability: e.key.reliability });
    }
  }
  const assignments = roundRobin(config.domains, config.episodes).filter((a) => !withFile.has(episodeId(manifest.run_id, a.domain, a.index)));
  const keep = [...withFile.values()];
  const complete = assignments.length === 0 && recovered.length === 0 && manifest.status === 'complete' && keep.length === (manifest.episodes?.length ?? -1);
  return { complete, recovered, plan: { manifest, keep, assignments } };
}
