/**
 * `repair` on a PostgreSQL store: re-merges every episode whose observation
 * belongs in its playbook but is not there (a writer died between its episode
 * record's transaction and its merge's), and closes runs whose process died.
 * Torn playbooks and temp files cannot happen here, so there is nothing to rebuild.
 */
import { auditDomain } from '../../audit.js';
import type { DomainState } from '../../audit.js';
import { combineDeltas, DEFAULT_CAP } from '../../merge.js';
import { closeAbandonedRuns, deltasFromEpisode } from '../../repair.js';
import type { DomainRepair, RepairOptions, RepairReport } from '../../repair.js';
import { PgStore } from './pg-store.js';
import { pgDomainState } from './snapshot.js';

export async function repairPgStore(store: PgStore, options: Omit<RepairOptions, 'rebuild'> = {}): Promise<RepairReport> {
  const manifests = await store.readManifests();
  const cap = options.cap ?? manifests.find((m) => m.config?.cap)?.config.cap ?? DEFAULT_CAP;
  const writer = new PgStore(store.root, { ...store.options, cap }, 1);
  const domains: DomainRepair[] = [];
  const states: DomainState[] = [];
  try {
    for (const domain of await store.listDomains()) {
      const state = await pgDomainState(store, domain);
      states.push(state);
      const { lostIds } = auditDomain(state, [], cap, null);
      const lost = new Set(lostIds);
      const records = lost.size ? (await store.listEpisodes(domain)).filter((e) => lost.has(e.record.episode_id)) : [];
      if (records.length) {
        const keys = new Map(state.episodes.map((e) => [e.episode_id, e.key]));
        await writer.merge(domain, combineDeltas(records.map((e) => deltasFromEpisode(e.record, keys.get(e.record.episode_id)!))));
      }
      domains.push({ domain, episodeFiles: state.episodes.length, recovered: [...lost].sort(), tempFilesRemoved: 0 });
    }
  } finally {
    await writer.close();
  }
  const runsClosed = await closeAbandonedRuns(store, manifests, states);
  return { store: store.location, domains, runsClosed };
}
