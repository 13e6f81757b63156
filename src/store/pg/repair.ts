/**
 * `repair` on a PostgreSQL store: re-merges what the audit finds lost of the
 * episodes whose record is there (a writer died between its episode record's
 * transaction and its merge's): their observations and the section entries the
 * playbook should hold. Closes runs whose process died. Torn playbooks and temp
 * files cannot happen here, so there is nothing to rebuild.
 */
import { auditDomain } from '../../audit.js';
import type { DomainState } from '../../audit.js';
import { combineDeltas } from '../../merge.js';
import { closeAbandonedRuns, repairDeltas } from '../../repair.js';
import type { DomainRepair, RepairOptions, RepairReport } from '../../repair.js';
import { PgStore } from './pg-store.js';
import { pgDomainState } from './snapshot.js';

export async function repairPgStore(store: PgStore, options: Omit<RepairOptions, 'rebuild'> = {}): Promise<RepairReport> {
  const manifests = await store.readManifests();
  const decision = await store.settleCap(options.cap);
  const cap = decision.cap;
  let capRecorded = !decision.record;
  const writer = new PgStore(store.root, { ...store.options, cap }, 1);
  const domains: DomainRepair[] = [];
  const states: DomainState[] = [];
  try {
    for (const domain of await store.listDomains()) {
      const state = await pgDomainState(store, domain, options.rules);
      states.push(state);
      const { lostIds, sections } = auditDomain(state, [], cap, null);
      const lostObs = new Set(lostIds);
      const lostSections = new Set(sections.lostEntries.map((e) => JSON.stringify([e.section, e.source_episode, e.content])));
      const sources = new Set([...lostObs, ...sections.lostEntries.map((e) => e.source_episode)]);
      const records = sources.size ? (await store.listEpisodes(domain)).filter((e) => sources.has(e.record.episode_id)) : [];
      if (records.length) {
        if (!capRecorded) capRecorded = (await store.recordCap(cap), true);
        await writer.merge(domain, combineDeltas(records.map((e) => repairDeltas(e.record, domain, lostObs.has(e.record.episode_id), lostSections, options.rules))));
      }
      domains.push({ domain, episodeFiles: state.episodes.length, recovered: [...lostObs].sort(), sectionEntriesRestored: lostSections.size, tempFilesRemoved: 0 });
    }
  } finally {
    await writer.close();
  }
  const runsClosed = await closeAbandonedRuns(store, manifests, states);
  return { store: store.location, domains, runsClosed };
}
