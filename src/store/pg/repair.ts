/**
 * `repair` on a PostgreSQL store: re-merges what the audit finds lost of the
 * episodes whose record is there (a writer died between its episode record's
 * transaction and its merge's): their observations and the section entries the
 * playbook should hold. Closes runs whose process died. Torn playbooks and temp
 * files cannot happen here, so there is nothing to rebuild. `run --resume`
 * re-merges one run's episodes the same way.
 */
import type { DomainState } from '../../audit.js';
import { combineDeltas } from '../../merge.js';
import { closeAbandonedRuns, lostInDomain, repairDeltas } from '../../repair.js';
import type { DomainRepair, RepairOptions, RepairReport } from '../../repair.js';
import { builtInReflection, type ReflectionRules } from '../../reference.js';
import { PgStore } from './pg-store.js';
import { pgDomainState } from './snapshot.js';

/**
 * Merges, in one transaction through `writer` (a store opened with the cap to merge under), what the
 * audit finds lost of the domain's recorded episodes (of run `runId` only, or all). `beforeWrite`
 * runs once, only when there is something to merge.
 */
export async function pgRemergeLost(
  store: PgStore,
  writer: PgStore,
  state: DomainState,
  runId: string | null,
  { beforeWrite, rules = builtInReflection }: { beforeWrite?: () => Promise<void>; rules?: ReflectionRules } = {},
): Promise<{ recovered: string[]; sectionEntriesRestored: number }> {
  const { lostObs, lostSections, sources } = lostInDomain(state, writer.options.cap, runId);
  const records = sources.size ? (await store.listEpisodes(state.domain)).filter((e) => sources.has(e.record.episode_id)) : [];
  if (records.length) {
    await beforeWrite?.();
    await writer.merge(state.domain, combineDeltas(records.map((e) => repairDeltas(e.record, state.domain, lostObs.has(e.record.episode_id), lostSections, rules))));
  }
  return { recovered: [...lostObs].sort(), sectionEntriesRestored: lostSections.size };
}

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
      const { recovered, sectionEntriesRestored } = await pgRemergeLost(store, writer, state, null, {
        rules: options.rules,
        beforeWrite: async () => {
          if (!capRecorded) capRecorded = (await store.recordCap(cap), true);
        },
      });
      domains.push({ domain, episodeFiles: state.episodes.length, recovered, sectionEntriesRestored, tempFilesRemoved: 0 });
    }
  } finally {
    await writer.close();
  }
  const runsClosed = await closeAbandonedRuns(store, manifests, states);
  return { store: store.location, domains, runsClosed };
}

/** `run --resume` on PostgreSQL: each domain's state, after re-merging what run `runId` recorded but never merged. */
export async function pgRemergeRun(store: PgStore, domains: readonly string[], cap: number, runId: string, rules: ReflectionRules): Promise<{ states: DomainState[]; recovered: string[] }> {
  const writer = new PgStore(store.root, { ...store.options, cap }, 1);
  const states: DomainState[] = [];
  const recovered: string[] = [];
  try {
    for (const domain of domains) {
      const state = await pgDomainState(store, domain, rules);
      states.push(state);
      recovered.push(...(await pgRemergeLost(store, writer, state, runId, { rules })).recovered);
    }
  } finally {
    await writer.close();
  }
  return { states, recovered };
}
