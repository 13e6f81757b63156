/**
 * The audit: a pure function from what is on disk (manifests, episode files,
 * playbooks) to the observation-loss table. It never touches the store, so it
 * is tested on hand-written literal stores.
 */
import { auditSections, type FileSectionEntry } from './audit-sections.js';
import { inferAuditCap, type PlaybookSize, type RecordedCap } from './cap.js';
import type { FileFinding } from './episode-read.js';
import { compareObservations, mergeObservations } from './merge.js';
import { roundedPhrase, unmergeableReason } from './mergeable.js';
import { droppedByReferenceAlone, type ReplayEpisode } from './reference-replay.js';
import { pythonConstantsIn, roundedIntegersIn } from './python-json.js';
import { builtInReflection, deltasOfEpisode, type ReflectionRules } from './reference.js';
import type { AuditReport, DomainAudit, EpisodeRecord, ObservationKey, Playbook, RunManifest } from './types.js';
import { SECTION_NAMES } from './types.js';

/** What the audit needs to know of one episode file. */
export interface EpisodeFact {
  episode_id: string;
  run_id?: string;
  index?: number;
  key: ObservationKey;
  /** Where the episode file is, when read from disk. */
  file?: string;
  /** The section entries the episode stands for. @default none */
  sections?: FileSectionEntry[];
  /** A file the reference tool wrote (no `outcome.observation`): its `timestamp`, its save's place in droppedByReferenceAlone. */
  referenceTimestamp?: string;
  /** A file ace-orch wrote (it holds the observation): its `timestamp`, its merge's place in that replay. */
  mergedAt?: string;
}

export interface DomainState {
  domain: string;
  /** null when the domain has no playbook.json, or it cannot be used (then `playbookError` says why). */
  playbook: Playbook | null;
  /** Why playbook.json could not be read (torn, not JSON, wrong shape; or the system refused to read it). */
  playbookError?: string;
  /** The system refused to read playbook.json (permissions, a directory in its place): not torn, nothing to rebuild. */
  playbookIo?: boolean;
  /** playbook.json is empty or not JSON: `repair --rebuild` may move it aside (a JSON playbook with entries ace-orch cannot read is not). */
  playbookTorn?: boolean;
  /** Why the episodes directory could not be listed: the domain could not be checked. */
  episodesError?: string;
  episodes: EpisodeFact[];
  /** Episode files the audit skipped or used with a caveat. @default none */
  findings?: FileFinding[];
}

export interface AuditInput {
  store: string;
  /** `--cap`, or the run's own cap for a run's closing audit: overrides everything. */
  cap?: number;
  /** Where `cap` came from, for the reason printed under the table. @default 'flag' */
  capFrom?: 'flag' | 'run';
  /** The store's recorded cap (src/store/store-meta.ts); null when it records none. */
  recordedCap?: RecordedCap | null;
  domains: DomainState[];
  manifests: RunManifest[];
  /** Audit one run's episodes; expected is still computed over the whole domain. */
  runId?: string | null;
}

/**
 * The observation an episode file says its playbook must rank, and its
 * section entries. Files written by the reference tool carry no
 * `outcome.observation`; for those the reference's rules apply (src/core/reference.ts).
 */
export function episodeFact(record: EpisodeRecord, domain: string, rules: ReflectionRules = builtInReflection): EpisodeFact {
  const deltas = deltasOfEpisode(record, domain, rules);
  const o = deltas.observations[0]!;
  const derived = !record.outcome.observation;
  return {
    episode_id: record.episode_id,
    run_id: record.run_id,
    ...(record.index !== undefined ? { index: record.index } : {}),
    key: { episode_id: o.episode_id, reliability: o.reliability, score: o.score },
    sections: SECTION_NAMES.flatMap((section) => deltas[section].map((entry) => ({ section, entry, derived }))),
    ...(typeof record.timestamp === 'string' ? (derived ? { referenceTimestamp: record.timestamp } : { mergedAt: record.timestamp }) : {}),
  };
}

/**
 * Episode ids a manifest says ran in a domain, with their count.
 * `failed` ones raised, timed out or were refused: they owe no episode file.
 * A run with no final manifest (still running, or its process died) has counted nothing yet: what ran of it is
 * what its manifest listed when it started (a resume's kept episodes) and every episode of it with a file so far.
 */
function ranInDomain(m: RunManifest, domain: string, filesOf: (runId: string) => string[]): { ids: string[]; failed: string[]; count: number } {
  const mine = (m.episodes ?? []).filter((e) => e.domain === domain);
  if (m.status === 'running') {
    const ids = new Set([...mine.filter((e) => e.status !== 'failed').map((e) => e.episode_id), ...filesOf(m.run_id)]);
    const failed = mine.filter((e) => e.status === 'failed' && !ids.has(e.episode_id)).map((e) => e.episode_id);
    return { ids: [...ids], failed, count: ids.size + failed.length };
  }
  if (m.episodes) return { ids: mine.filter((e) => e.status !== 'failed').map((e) => e.episode_id), failed: mine.filter((e) => e.status === 'failed').map((e) => e.episode_id), count: mine.length };
  // A finished manifest without the list (written before manifests held one): its counts.
  const d = m.domains?.[domain];
  return { ids: [], failed: [], count: d ? d.completed + d.failed : 0 };
}

export function auditDomain(state: DomainState, manifests: RunManifest[], cap: number, runId: string | null): DomainAudit {
  const files = new Map(state.episodes.map((e) => [e.episode_id, e]));
  const findings = state.findings ?? [];
  // An unreadable file still is a file: its observation in the playbook is not "unexpected".
  const hasFile = new Set([...files.keys(), ...findings.flatMap((f) => (f.episode_id ? [f.episode_id] : []))]);
  const observations = Array.isArray(state.playbook?.observations) ? state.playbook.observations : [];
  const inPlaybook = new Set(observations.map((o) => o.episode_id));

  let ranCount = 0;
  const ranIds = new Set<string>();
  const failedIds = new Set<string>();
  const filesOf = (run: string): string[] => state.episodes.filter((e) => e.run_id === run).map((e) => e.episode_id);
  for (const m of manifests) {
    const ran = ranInDomain(m, state.domain, filesOf);
    ranCount += ran.count;
    for (const id of ran.ids) ranIds.add(id);
    for (const id of ran.failed) failedIds.add(id);
  }
  const inScope = (id: string): boolean => runId === null || ranIds.has(id) || failedIds.has(id) || files.get(id)?.run_id === runId;

  // The playbook's observations with no episode file (another tool's, or a pre-fix store's) hold places in the
  // ranking as any merge keeps them: a file's observation they outrank was ranked out, not lost.
  // One place per id, as a merge keeps one (its best-ranked copy): the merge's own rule decides.
  // So do those whose file is there but cannot be used (unreadable, not a file): the audit cannot rank them from
  // their file, and leaving them out would make a file they outrank look lost.
  const withoutFile = mergeObservations(
    // One without a score ranks as 0, as the merge ranks it.
    observations.filter((o) => !files.has(o.episode_id)),
    [],
    Infinity,
  ).map(({ episode_id, reliability, score }) => ({ episode_id, reliability, score }));
  const expectedIds = [...[...files.values()].map((f) => f.key), ...withoutFile]
    .sort(compareObservations)
    .slice(0, cap)
    .map((k) => k.episode_id)
    .filter((id) => files.has(id) && inScope(id));
  const lostIds = expectedIds.filter((id) => !inPlaybook.has(id));
  // Of those, the ones the reference tool's own in-memory cut would have dropped with no concurrency at all.
  // ace-orch's episodes take their place in the replay too: a reference save after them loads what they merged.
  const replay = [...files.values()].flatMap((f): ReplayEpisode[] =>
    f.referenceTimestamp ? [{ key: f.key, timestamp: f.referenceTimestamp }] : f.mergedAt ? [{ key: f.key, timestamp: f.mergedAt, aceOrch: true }] : [],
  );
  const byReference = lostIds.length && replay.some((e) => !e.aceOrch) ? droppedByReferenceAlone(replay, cap) : new Set<string>();
  const lostByReferenceAlone = lostIds.filter((id) => byReference.has(id)).length;
  // Episode files that could not be listed are not missing either.
  const missingIds = state.episodesError ? [] : [...ranIds].filter((id) => !hasFile.has(id));
  // Episode files that could not be listed are not missing: none of the playbook's observations is unexpected then.
  const unexpectedIds = state.episodesError ? [] : [...inPlaybook].filter((id) => !hasFile.has(id));
  const sections = auditSections(state.playbook, [...files.values()].flatMap((f) => f.sections ?? []), inScope);

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
    failedWithFileIds: [...failedIds].filter((id) => hasFile.has(id)).sort(),
    lostIds,
    missingIds,
    unexpectedIds,
    unreadableFiles: findings.filter((f) => !f.used).length,
    findings,
    playbookError: state.playbookError ?? null,
    ...(state.playbookIo ? { playbookIo: true } : {}),
    ...(state.playbookTorn ? { playbookTorn: true } : {}),
    // Counted by episode id, as every column is: say when the file holds more than one observation per id.
    ...(playbookNote(state.playbook, observations, inPlaybook.size, cap) ?? {}),
    ...(lostByReferenceAlone ? { lostByReferenceAlone } : {}),
    ...(state.episodesError ? { episodesError: state.episodesError } : {}),
    noPlaybook: state.playbook === null && !state.playbookError && files.size > 0,
    sections,
  };
}

/** What the note under the table says of a playbook: more observations than episode ids, Python's NaN, rounded integers. Null when nothing. */
function playbookNote(playbook: Playbook | null, observations: readonly { episode_id: string }[], ids: number, cap: number): { playbookNote: string } | null {
  const notes: string[] = [];
  // Another tool wrote past the cap: read as it is, but no write with this cap would keep it.
  if (observations.length > cap) notes.push(`holds ${observations.length} observations, more than the cap of ${cap}: run and repair refuse to write it with that cap (--cap ${observations.length} or more keeps them all)`);
  if (observations.length > ids) {
    const reason = unmergeableReason(observations);
    const counted = `holds ${observations.length} observations under ${ids} episode ids (counted by id here)`;
    notes.push(reason ? `${counted}; it ${reason}: run and repair refuse to write it` : `${counted}; the others repeat them exactly`);
  }
  const constants = playbook ? pythonConstantsIn(playbook) : 0;
  if (constants) notes.push(`holds ${constants} NaN or Infinity value${constants === 1 ? '' : 's'} (Python's json.dump writes them), read here as null: run and repair refuse to write it, as a write would make them null`);
  const rounded = playbook ? roundedIntegersIn(playbook) : 0;
  if (rounded) notes.push(`${roundedPhrase(rounded)}, read here as the nearest double: run and repair refuse to write it, as a write would store them in other digits`);
  return notes.length ? { playbookNote: notes.join('; it also ') } : null;
}

/** Observations each readable playbook holds: what cap inference needs. */
function sizesOf(domains: readonly DomainState[]): PlaybookSize[] {
  return domains.flatMap((d) => (Array.isArray(d.playbook?.observations) ? [{ domain: d.domain, file: d.domain, observations: d.playbook.observations.length }] : []));
}

/**
 * Real loss: observations or section entries ace-orch's rules say must be there, a missing file, or a playbook that cannot be
 * read; and a domain whose episode files could not be listed, for which zero loss cannot be claimed.
 */
function domainLost(d: DomainAudit): boolean {
  return d.lost > 0 || d.missingFiles > 0 || d.playbookError !== null || Boolean(d.episodesError) || d.sections.lostExact > 0;
}

export function audit(input: AuditInput): AuditReport {
  const runId = input.runId ?? null;
  const manifests = runId === null ? input.manifests : input.manifests.filter((m) => m.run_id === runId);
  // Without a store record (hand-built inputs), the manifests' cap is the record, as src/store/store-meta.ts reads it.
  const fromManifests = manifests.find((m) => m.config?.cap);
  const recorded = input.recordedCap !== undefined ? input.recordedCap : fromManifests ? { cap: fromManifests.config.cap, source: `run ${fromManifests.run_id}` } : null;
  const { cap, reason } = inferAuditCap(input.cap, recorded, sizesOf(input.domains), input.capFrom);
  const domains = input.domains.map((d) => auditDomain(d, manifests, cap, runId));
  return {
    runId,
    store: input.store,
    cap,
    capReason: reason,
    domains,
    zeroLoss: !domains.some(domainLost),
  };
}
