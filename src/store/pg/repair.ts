/**
 * `repair` on a PostgreSQL store: re-merges what the audit finds lost of the
 * episodes whose record is there (a writer died between its episode record's
 * transaction and its merge's): their observations and the section entries the
 * playbook should hold. Closes runs whose process died. Torn playbooks and temp
 * files cannot happen here, so there is nothing to rebuild. `run --resume`
 * re-merges one run's episodes the same way (src/run/resume.ts).
 */
import type { DomainState, EpisodeFact } from '../../core/audit.js';
import { closeAbandonedRuns, domainsToRepair, remergeLostWith, takenOut } from '../repair.js';
import type { DomainRepair, Remerger, RepairOptions, RepairReport } from '../repair.js';
import type { ReflectionRules } from '../../core/reference.js';
import type { EpisodeRecord, Playbook, RunManifest } from '../../core/types.js';
import { PgStore, runEpisodeEntries } from './pg-store.js';
import { abandonedRuns } from '../liveness.js';
import { pgDomainState } from './snapshot.js';

/** Re-merging on a PostgreSQL store: records are the episode rows, merged in one transaction by a writer of one connection. */
export function pgRemerger(store: PgStore, cap: number, rules?: ReflectionRules): Remerger {
  const writer = new PgStore(store.root, { ...store.options, cap }, 1);
  const records = async (domain: string, episodes: readonly EpisodeFact[]): Promise<(EpisodeRecord | undefined)[]> => {
    const rows = new Map((await store.listEpisodes(domain)).map((e) => [e.record.episode_id, e.record]));
    return episodes.map((e) => rows.get(e.episode_id));
  };
  return {
    domainState: (domain) => pgDomainState(store, domain, rules),
    remergeLost: (state, runId, beforeWrite) =>
      remergeLostWith(state, cap, runId, { records: (episodes) => records(state.domain, episodes), merge: (deltas) => writer.merge(state.domain, deltas), beforeWrite, rules }),
    close: () => writer.close(),
  };
}

export interface PgRepairOptions extends Omit<RepairOptions, 'rebuild'> {
  /**
   * Episodes of a queued run still waiting in its queue or claimed by a worker. A queued run whose coordinator died
   * is its workers' to finish while any are: closing it `crashed` would freeze its manifest mid-run. @default none
   */
  queuedLeft?: (run: RunManifest) => Promise<number>;
}

export async function repairPgStore(store: PgStore, options: PgRepairOptions = {}): Promise<RepairReport> {
  const manifests = await store.readManifests();
  const decision = await store.settleCap(options.cap);
  const cap = decision.cap;
  let capRecorded = !decision.record;
  const remerger = pgRemerger(store, cap, options.rules);
  const domains: DomainRepair[] = [];
  const states: DomainState[] = [];
  try {
    for (const domain of domainsToRepair(await store.listDomains(), options.domains, store.location)) {
      const state = await remerger.domainState(domain);
      states.push(state);
      // The playbook as it was before the re-merge writes, to name what it ranks out (as on a file store).
      let before: Playbook | undefined;
      const { recovered, sectionEntriesRestored, notRecovered } = await remerger.remergeLost(state, null, async () => {
        if (!capRecorded) capRecorded = (await store.recordCap(cap), true);
        before ??= await store.readPlaybook(domain);
      });
      // Read after the write: a concurrent run's own ranking-out in between would be counted as repair's.
      const out = before ? takenOut(before, await store.readPlaybook(domain)) : null;
      // No copy of the playbook is kept here: what the write took out goes into the report whole.
      const rankedOut = out && { ...out, removed: before!.observations.filter((o) => out.observations.includes(o.episode_id)) };
      domains.push({ domain, episodeFiles: state.episodes.length, recovered, sectionEntriesRestored, tempFilesRemoved: 0, ...(notRecovered ? { notRecovered } : {}), ...(rankedOut ? { rankedOut } : {}) });
    }
  } finally {
    await remerger.close();
  }
  // A run's episodes span domains: only a repair of all of them knows every one a dead run left.
  const runsStillQueued: NonNullable<RepairReport['runsStillQueued']> = [];
  if (!options.domains && options.queuedLeft) {
    // Only runs repair would close: a coordinator still alive (or on another host) is no concern of repair's.
    for (const m of abandonedRuns(manifests).filter((r) => r.queue)) {
      const episodes = await options.queuedLeft(m);
      if (episodes > 0) runsStillQueued.push({ runId: m.run_id, queue: m.queue!, episodes });
    }
  }
  const open = new Set(runsStillQueued.map((r) => r.runId));
  const runsClosed = options.domains ? [] : await closeAbandonedRuns(store, manifests.filter((m) => !open.has(m.run_id)), states, (runId) => runEpisodeEntries(store, runId));
  return { store: store.location, domains, runsClosed, ...(runsStillQueued.length ? { runsStillQueued } : {}) };
}
