/**
 * `repair`: re-merges every episode whose observation belongs in its playbook
 * but is not there (a writer died between its episode file and its merge),
 * closes runs whose process died, and with `rebuild` moves a corrupt playbook
 * aside (never deleting it) and rebuilds it from the episode files.
 * Idempotent: a second repair finds nothing to do.
 */
import { rename } from 'node:fs/promises';
import { auditDomain } from './audit.js';
import type { DomainState } from './audit.js';
import { BadInputError } from './errors.js';
import { combineDeltas, DEFAULT_CAP } from './merge.js';
import { abandonedRuns } from './run-liveness.js';
import { removeStaleTemps } from './store/durable.js';
import { readDomainState } from './store/snapshot.js';
import { Store } from './store/store.js';
import type { Deltas, EpisodeEntry, EpisodeRecord } from './types.js';

export interface RepairOptions {
  /** Move a corrupt playbook aside and rebuild it from the episode files. @default false */
  rebuild?: boolean;
  /** @default the runs' cap, else 10 */
  cap?: number;
}

export interface DomainRepair {
  domain: string;
  episodeFiles: number;
  recovered: string[];
  /** Where a corrupt playbook was moved before the rebuild. */
  movedAside?: string;
  tempFilesRemoved: number;
}

export interface RepairReport {
  store: string;
  domains: DomainRepair[];
  /** Runs whose process died mid-run, now marked `crashed`. */
  runsClosed: string[];
}

/** The deltas an episode file records; files written by other tools yield a minimal observation. */
export function deltasFromEpisode(record: EpisodeRecord, key: { reliability: 'HIGH' | 'MEDIUM' | 'LOW'; score: number }): Deltas {
  const observation = record.outcome.observation ?? {
    episode_id: record.episode_id,
    timestamp: record.timestamp,
    score: key.score,
    beliefs: {},
    context: {},
    reliability: key.reliability,
    reason: 'recovered by repair from the episode file',
    metadata: { patterns: [], failures: [] },
  };
  const s = record.outcome.sections;
  return {
    observations: [observation],
    strategies_and_rules: s?.strategies_and_rules ?? [],
    troubleshooting: s?.troubleshooting ?? [],
    context_patterns: s?.context_patterns ?? [],
  };
}

/**
 * Merges, in one locked merge, the episodes whose file is there but whose observation is missing
 * from the playbook (of run `runId` only, or all); returns their ids, sorted.
 */
export async function remergeLost(store: Store, state: DomainState, cap: number, runId: string | null): Promise<string[]> {
  const { lostIds } = auditDomain(state, [], cap, runId);
  const lost = state.episodes.filter((e) => lostIds.includes(e.episode_id));
  if (lost.length) {
    const deltas = await Promise.all(lost.map(async (e) => deltasFromEpisode(await store.readEpisode(e.file!), e.key)));
    await new Store(store.root, { ...store.options, cap }).merge(state.domain, combineDeltas(deltas));
  }
  return lost.map((e) => e.episode_id).sort();
}

async function moveAside(store: Store, domain: string): Promise<string> {
  const target = `${store.playbookPath(domain)}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(store.playbookPath(domain), target);
  return target;
}

export async function repairStore(store: Store, options: RepairOptions = {}): Promise<RepairReport> {
  const manifests = await store.readManifests();
  const cap = options.cap ?? manifests.find((m) => m.config?.cap)?.config.cap ?? DEFAULT_CAP;
  const domains: DomainRepair[] = [];
  const states: DomainState[] = [];
  for (const domain of await store.listDomains()) {
    let movedAside: string | undefined;
    try {
      await store.readPlaybook(domain);
    } catch (err) {
      if (!(err instanceof BadInputError) || !options.rebuild) {
        if (err instanceof BadInputError) throw new BadInputError(`${err.message}; \`ace-orch repair --rebuild\` moves it aside and rebuilds it from the episode files`, err.file);
        throw err;
      }
      movedAside = await moveAside(store, domain);
    }
    const state = await readDomainState(store, domain);
    states.push(state);
    const lost = await remergeLost(store, state, cap, null);
    const tempFilesRemoved = removeStaleTemps(store.episodesDir(domain), store.options.lock.staleMs);
    domains.push({
      domain,
      episodeFiles: state.episodes.length,
      recovered: lost,
      tempFilesRemoved,
      ...(movedAside ? { movedAside } : {}),
    });
  }

  const runsClosed: string[] = [];
  for (const m of abandonedRuns(manifests)) {
    // Repair decides what a dead run left unknown: every episode with a file is now merged (or ranked out).
    const episodes: EpisodeEntry[] = states.flatMap((st) =>
      st.episodes.filter((e) => e.run_id === m.run_id).map((e) => ({ episode_id: e.episode_id, domain: st.domain, index: e.index ?? -1, status: 'ok' as const })),
    );
    await store.writeManifest({ ...m, status: 'crashed', repaired_at: new Date().toISOString(), episodes });
    runsClosed.push(m.run_id);
  }
  return { store: store.root, domains, runsClosed };
}
