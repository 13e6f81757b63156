/**
 * The audit: a pure function from what is on disk (manifests, episode files,
 * playbooks) to the observation-loss table. It never touches the store, so it
 * is tested on hand-written literal stores.
 */
import type { Domain } from './domains/index.js';
import { compareObservations, DEFAULT_CAP } from './merge.js';
import type { AuditReport, DomainAudit, EpisodeRecord, ObservationKey, Playbook, RunManifest } from './types.js';

/** What the audit needs to know of one episode file. */
export interface EpisodeFact {
  episode_id: string;
  run_id?: string;
  index?: number;
  key: ObservationKey;
  /** Where the episode file is, when read from disk. */
  file?: string;
}

export interface DomainState {
  domain: string;
  /** null when the domain has no playbook.json yet. */
  playbook: Playbook | null;
  episodes: EpisodeFact[];
}

export interface AuditInput {
  store: string;
  cap?: number;
  domains: DomainState[];
  manifests: RunManifest[];
  /** Audit one run's episodes; expected is still computed over the whole domain. */
  runId?: string | null;
}

/**
 * The observation an episode file says its playbook must rank. Files written
 * by the reference tool carry no `outcome.observation`; for those the
 * domain's reflection rules give the reliability and `outcome.score` the score.
 * A domain this tool does not know ranks them MEDIUM.
 */
export function episodeFact(record: EpisodeRecord, domain: Domain | undefined): EpisodeFact {
  const obs = record.outcome.observation;
  const key: ObservationKey = obs
    ? { episode_id: obs.episode_id, reliability: obs.reliability, score: obs.score }
    : {
        episode_id: record.episode_id,
        reliability: domain ? domain.reflect({ actions: record.trajectory?.actions ?? [], observations: record.trajectory?.observations ?? [] }).reliability : 'MEDIUM',
        score: record.outcome.score,
      };
  return { episode_id: record.episode_id, run_id: record.run_id, ...(record.index !== undefined ? { index: record.index } : {}), key };
}

/**
 * Episode ids a manifest says ran in a domain, or a count when it holds no list (a run that died).
 * `failed` ones raised, timed out or were refused: they owe no episode file.
 */
function ranInDomain(m: RunManifest, domain: string): { ids: string[]; failed: string[]; count: number } {
  if (m.episodes) {
    const mine = m.episodes.filter((e) => e.domain === domain);
    return { ids: mine.filter((e) => e.status !== 'failed').map((e) => e.episode_id), failed: mine.filter((e) => e.status === 'failed').map((e) => e.episode_id), count: mine.length };
  }
  const d = m.domains?.[domain];
  return { ids: [], failed: [], count: d ? d.completed + d.failed : 0 };
}

export function auditDomain(state: DomainState, manifests: RunManifest[], cap: number, runId: string | null): DomainAudit {
  const files = new Map(state.episodes.map((e) => [e.episode_id, e]));
  const inPlaybook = new Set((state.playbook?.observations ?? []).map((o) => o.episode_id));

  let ranCount = 0;
  const ranIds = new Set<string>();
  const failedIds = new Set<string>();
  for (const m of manifests) {
    const ran = ranInDomain(m, state.domain);
    ranCount += ran.count;
    for (const id of ran.ids) ranIds.add(id);
    for (const id of ran.failed) failedIds.add(id);
  }
  const inScope = (id: string): boolean => runId === null || ranIds.has(id) || failedIds.has(id) || files.get(id)?.run_id === runId;

  const expectedIds = [...files.values()]
    .map((f) => f.key)
    .sort(compareObservations)
    .slice(0, cap)
    .map((k) => k.episode_id)
    .filter(inScope);
  const lostIds = expectedIds.filter((id) => !inPlaybook.has(id));
  const missingIds = [...ranIds].filter((id) => !files.has(id));
  const unexpectedIds = [...inPlaybook].filter((id) => !files.has(id));

  return {
    domain: state.domain,
    episodesRun: manifests.length ? ranCount : null,
    episodeFiles: [...files.keys()].filter(inScope).length,
    playbookObservations: [...inPlaybook].filter(inScope).length,
    expected: expectedIds.length,
    lost: lostIds.length,
    missingFiles: missingIds.length,
    unexpected: unexpectedIds.length,
    failed: failedIds.size,
    failedIds: [...failedIds].sort(),
    lostIds,
    missingIds,
    unexpectedIds,
  };
}

export function audit(input: AuditInput): AuditReport {
  const runId = input.runId ?? null;
  const manifests = runId === null ? input.manifests : input.manifests.filter((m) => m.run_id === runId);
  const cap = input.cap ?? manifests.find((m) => m.config?.cap)?.config.cap ?? DEFAULT_CAP;
  const domains = input.domains.map((d) => auditDomain(d, manifests, cap, runId));
  return {
    runId,
    store: input.store,
    cap,
    domains,
    zeroLoss: domains.every((d) => d.lost === 0 && d.missingFiles === 0),
  };
}
