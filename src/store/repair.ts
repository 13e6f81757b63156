/**
 * `repair`: re-merges every episode whose observation belongs in its playbook
 * but is not there (a writer died between its episode file and its merge),
 * closes runs whose process died, and with `rebuild` moves a corrupt playbook
 * aside (never deleting it) and rebuilds it from the episode files.
 * Idempotent: a second repair finds nothing to do.
 */
import { constants } from 'node:fs';
import { copyFile, open, readFile, rename, rm } from 'node:fs/promises';
import { auditDomain } from '../core/audit.js';
import type { DomainState, EpisodeFact } from '../core/audit.js';
import { BadInputError, TornFileError, UnreadableFileError } from '../core/errors.js';
import { combineDeltas, emptyDeltas } from '../core/merge.js';
import { readEpisodeText } from '../core/episode-read.js';
import { builtInReflection, deltasOfEpisode, type ReflectionRules } from '../core/reference.js';
import { abandonedRuns } from './liveness.js';
import { fsyncDirAsync, removeStaleTemps } from './durable.js';
import { pendingDirOf, readPending } from './pending.js';
import { readDomainState } from './snapshot.js';
import { assertMergeable } from '../core/mergeable.js';
import { recordCap, settleWriteCap } from './store-meta.js';
import { Store } from './store.js';
import type { Deltas, EpisodeEntry, EpisodeRecord, Observation, Playbook, RunManifest, SectionEntry, SectionName } from '../core/types.js';
import { parsePlaybook } from '../core/validate.js';
import { pythonConstantsIn, roundedIntegersIn } from '../core/python-json.js';
import type { StoreBackend } from './backend.js';
import type { PgStore } from './pg/pg-store.js';
import { SECTION_NAMES } from '../core/types.js';

export interface RepairOptions {
  /** Move a corrupt playbook aside and rebuild it from the episode files. @default false */
  rebuild?: boolean;
  /** Requested cap, checked against the store's (src/core/cap.ts). @default the store's recorded cap, else the cap its audit infers (100, or the largest playbook) */
  cap?: number;
  /** The domains' reflection rules, for episode files the reference tool wrote. @default the built-in domains' */
  rules?: ReflectionRules;
  /**
   * Only these of the store's domains (a domain no write may touch, say the reference tool's molecular mode, left out).
   * Runs whose process died are closed only by a repair of every domain. @default every domain
   */
  domains?: readonly string[];
}

/** The store's domains a repair works on: `wanted`, each one the store has, or all of them. */
export function domainsToRepair(all: readonly string[], wanted: readonly string[] | undefined, location: string): string[] {
  if (!wanted) return [...all];
  if (wanted.length === 0) throw new BadInputError(`domains: none named; leave it out to repair every domain of ${location}`, location);
  const missing = wanted.filter((d) => !all.includes(d));
  if (missing.length) throw new BadInputError(`${location} has no domain ${missing.map((d) => `\`${d}\``).join(', ')} to repair (it has ${all.length ? all.join(', ') : 'none'})`, location);
  return all.filter((d) => wanted.includes(d));
}

/** The advice a refusal of one domain ends with, when the others could be repaired without it. */
function leaveOut(domain: string, names: readonly string[]): string {
  const others = names.filter((d) => d !== domain);
  return others.length ? `; \`ace-orch repair --domains ${others.join(',')}\` repairs the others without it` : '';
}

export interface DomainRepair {
  domain: string;
  episodeFiles: number;
  recovered: string[];
  /** Section entries put back (the playbook lacked them within the keep rule). */
  sectionEntriesRestored: number;
  /** Where a corrupt playbook was moved before the rebuild. */
  movedAside?: string;
  /** Lost episodes left lost, as their files hold values a merge would change (Remerged.notRecovered). */
  notRecovered?: string[];
  tempFilesRemoved: number;
  /** Pending batches of shared commits (src/store/pending.ts) whose processes died before any holder folded them. */
  pendingBatchesFolded?: number;
  /**
   * Observations the playbook held before the repair that the recovered ones ranked out under the cap, and
   * section entries they pushed past the 10 kept: what the repair took out. Absent when nothing was.
   */
  rankedOut?: {
    observations: string[];
    sectionEntries: number;
    entries: { section: SectionName; source_episode: string; content: string }[];
    /** The ranked-out observations whole, where no copy of the playbook is kept (PostgreSQL). */
    removed?: Observation[];
  };
  /**
   * Where the playbook as it was before the repair is kept, when the repair took anything out of it (file stores;
   * on PostgreSQL `rankedOut` holds what it took out whole instead).
   */
  keptBefore?: string;
}

export interface RepairReport {
  store: string;
  domains: DomainRepair[];
  /** Runs whose process died mid-run, now marked `crashed`. */
  runsClosed: string[];
  /** Queued runs whose coordinator died while their queue still holds episodes: left `running` for their workers. */
  runsStillQueued?: { runId: string; queue: string; episodes: number }[];
}

/**
 * What repair merges back for one episode file: its observation when the audit
 * found it lost, and its section entries the playbook should hold but does not.
 * The observation and entries are the file's own (ace-orch) or rebuilt by the
 * reference tool's rules (src/core/reference.ts). An observation still in the
 * playbook is never re-merged, so repair cannot replace what a user has.
 */
function repairDeltas(
  record: EpisodeRecord,
  domain: string,
  observationLost: boolean,
  lostSections: ReadonlySet<string>,
  rules: ReflectionRules = builtInReflection,
): Deltas {
  const all = deltasOfEpisode(record, domain, rules);
  const out = emptyDeltas();
  if (observationLost) out.observations.push(...all.observations);
  for (const s of SECTION_NAMES) out[s].push(...all[s].filter((e) => lostSections.has(JSON.stringify([s, e.source_episode, e.content]))));
  return out;
}

/** What the audit finds lost of a domain's recorded episodes (of run `runId` only, or all), as repair re-merges it. Pure. */
export interface LostInDomain {
  /** Episodes whose observation is lost. */
  lostObs: Set<string>;
  /** Lost section entries, as JSON of [section, source_episode, content]. */
  lostSections: Set<string>;
  /** Episodes with anything to re-merge. */
  sources: Set<string>;
}

function lostInDomain(state: DomainState, cap: number, runId: string | null): LostInDomain {
  const { lostIds, sections } = auditDomain(state, [], cap, runId);
  const lostObs = new Set(lostIds);
  const lostSections = new Set(sections.lostEntries.map((e) => JSON.stringify([e.section, e.source_episode, e.content])));
  return { lostObs, lostSections, sources: new Set([...lostObs, ...sections.lostEntries.map((e) => e.source_episode)]) };
}

/** What a re-merge of one domain did. */
export interface Remerged {
  /** Episodes whose observation was merged back. */
  recovered: string[];
  sectionEntriesRestored: number;
  /**
   * Lost episodes left lost: their files hold NaN, Infinity or integers beyond 2^53, which a merge would write into
   * the playbook changed (null, other digits). Absent when none.
   */
  notRecovered?: string[];
}

/** Where {@link remergeLostWith} reads a domain's episode records and merges what they lost. */
export interface RemergeIo {
  /** The records of these of the domain's episodes, in order; undefined for one that can no longer be read. */
  records(episodes: readonly EpisodeFact[]): Promise<(EpisodeRecord | undefined)[]>;
  /** One merge into the domain's playbook, under the re-merge's cap; resolves once durable. */
  merge(deltas: Deltas): Promise<unknown>;
  /** Runs once, only when there is something to merge. */
  beforeWrite?: () => Promise<void>;
  /** The domains' reflection rules, for records the reference tool wrote. @default the built-in domains' */
  rules?: ReflectionRules;
}

/**
 * Merges, in one merge, what the audit finds lost of the domain's recorded episodes (of run `runId`
 * only, or all): their observations and the section entries the playbook should hold but does not.
 * The same for every backend: `io` says where records come from and which writer merges.
 */
export async function remergeLostWith(state: DomainState, cap: number, runId: string | null, io: RemergeIo): Promise<Remerged> {
  const { lostObs, lostSections, sources } = lostInDomain(state, cap, runId);
  const candidates = state.episodes.filter((e) => sources.has(e.key.episode_id));
  const records = candidates.length ? await io.records(candidates) : [];
  // Python's NaN (read as null) and integers JavaScript cannot keep digit for digit would reach the playbook changed.
  const changes = (r: EpisodeRecord | undefined): boolean => r !== undefined && (pythonConstantsIn(r) > 0 || roundedIntegersIn(r) > 0);
  const read = candidates.map((e, i) => ({ e, record: records[i] }));
  const held = read.filter((c) => changes(c.record)).map((c) => c.e);
  const lost = read.filter((c) => !changes(c.record));
  if (lost.length) {
    await io.beforeWrite?.();
    await io.merge(combineDeltas(lost.map(({ e, record }) => (record ? repairDeltas(record, state.domain, lostObs.has(e.key.episode_id), lostSections, io.rules) : emptyDeltas()))));
  }
  // The section entries a held episode stands for stay lost with it.
  const heldIds = new Set(held.map((e) => e.key.episode_id));
  const restored = [...lostSections].filter((key) => !heldIds.has((JSON.parse(key) as [string, string, string])[1])).length;
  const notRecovered = held.map((e) => e.episode_id).sort();
  return {
    recovered: lost.filter(({ e }) => lostObs.has(e.key.episode_id)).map(({ e }) => e.episode_id).sort(),
    sectionEntriesRestored: restored,
    ...(notRecovered.length ? { notRecovered } : {}),
  };
}

/**
 * Folds the batches shared commits left pending (their processes died after making them durable and
 * before any holder folded them), as the next holder would: one locked shared merge, which folds
 * every pending batch, makes the write durable, then removes their files. Returns how many there were.
 */
async function foldPending(store: Store, domain: string, cap: number, beforeWrite: () => Promise<void>): Promise<number> {
  const pending = readPending(pendingDirOf(store.playbookPath(domain)));
  if (pending.length === 0) return 0;
  await beforeWrite();
  await new Store(store.root, { ...store.options, cap, shareCommits: true }).merge(domain, emptyDeltas());
  return pending.length;
}

/** A backend's side of re-merging: its domains as the audit sees them, re-merged through one writer under the re-merge's cap. */
export interface Remerger {
  domainState(domain: string): Promise<DomainState>;
  /** {@link remergeLostWith} on this backend. */
  remergeLost(state: DomainState, runId: string | null, beforeWrite?: () => Promise<void>): Promise<Remerged>;
  /** Releases the writer's connections. */
  close(): Promise<void>;
}

/** Re-merging on a file store: records are the episode files, merged by one locked merge. */
function fileRemerger(store: Store, cap: number, rules?: ReflectionRules): Remerger {
  const writer = new Store(store.root, { ...store.options, cap });
  const records = (episodes: readonly EpisodeFact[]): Promise<(EpisodeRecord | undefined)[]> =>
    Promise.all(
      episodes.map(async (e) => {
        const read = readEpisodeText(await readFile(e.file!, 'utf8'), e.file!);
        return read.ok ? read.record : undefined;
      }),
    );
  return {
    domainState: (domain) => readDomainState(store, domain, rules),
    remergeLost: (state, runId, beforeWrite) => remergeLostWith(state, cap, runId, { records, merge: (deltas) => writer.merge(state.domain, deltas), beforeWrite, rules }),
    close: async () => {},
  };
}

/** The {@link Remerger} of either backend; loads the PostgreSQL client only for a PostgreSQL store, as openStore does. */
export async function openRemerger(store: StoreBackend, cap: number, rules?: ReflectionRules): Promise<Remerger> {
  if (store instanceof Store) return fileRemerger(store, cap, rules);
  const { pgRemerger } = await import('./pg/repair.js');
  return pgRemerger(store as PgStore, cap, rules);
}

async function moveAside(store: Store, domain: string): Promise<string> {
  const target = `${store.playbookPath(domain)}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(store.playbookPath(domain), target);
  return target;
}

export async function repairStore(store: Store, options: RepairOptions = {}): Promise<RepairReport> {
  try {
    return await repairFileStore(store, options);
  } catch (err) {
    // A store this user cannot write (permissions, a read-only mount) is bad input, said as `run` says it.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new BadInputError(`store ${store.root} cannot be written: ${(err as Error).message}`, store.root);
    throw err;
  }
}

async function repairFileStore(store: Store, options: RepairOptions): Promise<RepairReport> {
  const manifests = await store.readManifests();
  // Before anything is written: the store's cap, never below what a playbook holds (src/core/cap.ts).
  const decision = await settleWriteCap(store, options.cap, options.domains);
  const cap = decision.cap;
  let capRecorded = !decision.record;
  const remerger = fileRemerger(store, cap, options.rules);
  const domains: DomainRepair[] = [];
  const states: DomainState[] = [];
  const names = domainsToRepair(await store.listDomains(), options.domains, store.root);
  // Before anything is written (the cap's record, a pending fold, a copy, another domain's repair): a playbook repair may
  // not write, or cannot read, stops it here. Only a torn one (empty, not JSON) is moved aside, and only with --rebuild.
  const torn = new Set<string>();
  for (const domain of names) {
    let read;
    try {
      read = store.readPlaybookFile(domain);
    } catch (err) {
      // Not torn: the system will not read it. Rebuilding would only hide it.
      if (err instanceof UnreadableFileError) throw new UnreadableFileError(`${err.message}; make it readable and repair again`, err.file);
      if (err instanceof TornFileError) {
        if (!options.rebuild) throw new TornFileError(`${err.message}; \`ace-orch repair --rebuild\` moves it aside and rebuilds it from the episode files; nothing was written`, err.file);
        torn.add(domain);
        continue;
      }
      // JSON with entries ace-orch cannot read: a rebuild from the episode files would drop what it holds.
      if (err instanceof BadInputError) throw new BadInputError(`${err.message}; ace-orch cannot read it as a playbook and leaves it as it is (no rebuild, which would drop what it holds); nothing was written${leaveOut(domain, names)}`, err.file);
      throw err;
    }
    try {
      assertMergeable(read.playbook, store.playbookPath(domain));
    } catch (err) {
      if (err instanceof BadInputError) throw new BadInputError(`${err.message}${leaveOut(domain, names)}`, err.file);
      throw err;
    }
  }
  for (const domain of names) {
    const movedAside = torn.has(domain) ? await moveAside(store, domain) : undefined;
    const beforeWrite = async (): Promise<void> => {
      if (!capRecorded) capRecorded = (await recordCap(store, cap), true);
    };
    const pendingBatchesFolded = await foldPending(store, domain, cap, beforeWrite);
    // A copy of the playbook as it is, made before the re-merge writes: what it ranks out stays at hand.
    const copy = `${store.playbookPath(domain)}.before-repair-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    let copied: string | null = null;
    const copyThenWrite = async (): Promise<void> => {
      await beforeWrite();
      // Byte for byte, never over an existing file, and durable before the merge writes; none when there is no playbook yet.
      copied = await copyFile(store.playbookPath(domain), copy, constants.COPYFILE_EXCL).then(
        async () => {
          const handle = await open(copy, 'r');
          try {
            await handle.sync();
            return await handle.readFile('utf8');
          } finally {
            await handle.close();
          }
        },
        (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)),
      );
      if (copied !== null) await fsyncDirAsync(store.domainDir(domain));
    };
    const state = await remerger.domainState(domain);
    // Its episode files are what repair works from: without them it could only say, wrongly, that nothing was lost.
    if (state.episodesError) throw new BadInputError(`${store.episodesDir(domain)} cannot be listed (${state.episodesError}); make it readable and repair again`, store.episodesDir(domain));
    states.push(state);
    let remerged: Remerged;
    try {
      remerged = await remerger.remergeLost(state, null, copyThenWrite);
    } catch (err) {
      // The merge was refused (a playbook it may not write, a lock timeout): the playbook is as it was, and the copy goes.
      if (copied !== null) await rm(copy, { force: true });
      throw err;
    }
    const { recovered, sectionEntriesRestored, notRecovered } = remerged;
    // Re-read outside the lock: a concurrent run's own ranking-out between the copy and here would be counted as repair's.
    const rankedOut = copied === null ? null : takenOut(parsePlaybook(copied, copy), store.readPlaybookFile(domain).playbook);
    // Nothing taken out: the copy says nothing the playbook does not.
    if (copied !== null && !rankedOut) await rm(copy, { force: true });
    const pendingDir = pendingDirOf(store.playbookPath(domain));
    const tempFilesRemoved = removeStaleTemps(store.episodesDir(domain), store.options.lock.staleMs) + removeStaleTemps(pendingDir, store.options.lock.staleMs);
    domains.push({
      domain,
      episodeFiles: state.episodes.length,
      recovered,
      sectionEntriesRestored,
      tempFilesRemoved,
      ...(pendingBatchesFolded ? { pendingBatchesFolded } : {}),
      ...(movedAside ? { movedAside } : {}),
      ...(notRecovered ? { notRecovered } : {}),
      ...(rankedOut ? { rankedOut, keptBefore: copy } : {}),
    });
  }

  // A run's episodes span domains: only a repair of all of them knows every one a dead run left.
  const runsClosed = options.domains ? [] : await closeAbandonedRuns(store, manifests, states);
  return { store: store.root, domains, runsClosed };
}

/** What `after` no longer holds of `before`: observations by id, section entries by (source, content); null when nothing. */
export function takenOut(before: Playbook, after: Playbook): NonNullable<DomainRepair['rankedOut']> | null {
  const kept = new Set(after.observations.map((o) => o.episode_id));
  const observations = before.observations.map((o) => o.episode_id).filter((id) => !kept.has(id));
  const key = (e: SectionEntry): string => JSON.stringify([e.source_episode, e.content]);
  const entries = SECTION_NAMES.flatMap((section) => {
    const now = new Set(after[section].map(key));
    return before[section].filter((e) => !now.has(key(e))).map((e) => ({ section, source_episode: e.source_episode, content: e.content }));
  });
  return observations.length || entries.length ? { observations: [...new Set(observations)].sort(), sectionEntries: entries.length, entries } : null;
}

/**
 * An entry without its failure: the episode it describes has its record, so it is done; what it recorded of its
 * attempts (paid model calls, perhaps) and where it ran stays. Used by repair and by `run --resume`.
 */
export function withoutFailure(entry: EpisodeEntry | undefined): Partial<EpisodeEntry> {
  if (!entry) return {};
  const { error: _error, status: _status, ...rest } = entry;
  return rest;
}

/**
 * Marks runs whose process died `crashed`: every episode with a record is now merged (or ranked out). Returns their
 * ids. `entriesOf`, when the backend keeps them (PostgreSQL: who committed each episode, its attempts), gives a run's
 * entries; else they are made from the episode files.
 */
export async function closeAbandonedRuns(
  store: Pick<StoreBackend, 'writeManifest'>,
  manifests: readonly RunManifest[],
  states: readonly DomainState[],
  entriesOf?: (runId: string) => Promise<EpisodeEntry[]>,
): Promise<string[]> {
  const closed: string[] = [];
  for (const m of abandonedRuns(manifests)) {
    const listed = new Map((m.episodes ?? []).map((e) => [e.episode_id, e]));
    const recorded: EpisodeEntry[] = entriesOf
      ? await entriesOf(m.run_id)
      : states.flatMap((st) =>
          st.episodes
            .filter((e) => e.run_id === m.run_id)
            // What the manifest listed of an episode with a file (a resume's kept entry, its attempts) stays; it is done now.
            .map((e) => ({ ...withoutFailure(listed.get(e.episode_id)), episode_id: e.episode_id, domain: st.domain, index: e.index ?? -1, status: 'ok' as const })),
        );
    // Failed episodes its manifest listed (a resume's, still to be played again) keep their entries and attempts.
    const have = new Set(recorded.map((e) => e.episode_id));
    const episodes = [...recorded, ...[...listed.values()].filter((e) => e.status === 'failed' && !have.has(e.episode_id))];
    await store.writeManifest({ ...m, status: 'crashed', repaired_at: new Date().toISOString(), episodes });
    closed.push(m.run_id);
  }
  return closed;
}
