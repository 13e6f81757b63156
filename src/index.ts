/**
 * ace-orchestrator as a library: run parallel agent episodes into locked ACE
 * playbooks and audit them for lost observations, from your own code.
 *
 * Importing this module starts nothing and prints nothing: no pool, no
 * signal handler, no output until you call a function.
 *
 * @example
 * ```ts
 * import { runExperiment, audit } from 'ace-orchestrator';
 *
 * const run = await runExperiment({
 *   store: './memory',
 *   experiment: { domains: ['hot_pot', 'chem_tile'], episodes: 3, threads: 2 },
 *   onEvent: (e) => { if (e.type === 'episode') console.log(`${e.done}/${e.total}`); },
 * });
 * console.log(run.report.zeroLoss, run.exitCode);
 * console.log((await audit('./memory')).zeroLoss);
 * ```
 * @packageDocumentation
 */

// Running, auditing, repairing ----------------------------------------------------------------

/**
 * Runs an experiment's episodes on a worker-thread pool (or several processes), merges each
 * episode's observation into its domain's playbook through the locked store, writes the run
 * manifest and audits the run: what `ace-orch run` does. Resolves once every episode in flight
 * has finished its write, also when `signal` aborts; rejects on bad input (`BadInputError`).
 */
export { runExperiment } from './library.js';
/** Options of `runExperiment`, with their defaults. */
export type { ExperimentOptions, RunReport, AuditOptions, RepairResult } from './library.js';
export type { Setting, SettingNames } from './core/errors.js';
/**
 * Audits a store (a Store, its directory or a `postgres://` URL): every observation an episode file proves was
 * written must be in its playbook, within the cap. Reads only; never writes.
 */
export { audit } from './library.js';
/**
 * Re-merges observations and section entries that crashed writers left unmerged, closes runs
 * whose process died, optionally rebuilds a corrupt playbook (moved aside, never deleted),
 * then audits the store: what `ace-orch repair` does.
 */
export { repair } from './library.js';
/** Options of `repair`: `rebuild` (default false) and `cap` (default the store's). */
export type { RepairOptions, RepairReport, DomainRepair } from './store/repair.js';
/**
 * Runs one experiment per write mode (and repeat) on fresh stores with the same seeds, and
 * collects lost observations per mode: what `ace-orch compare <experiment>` does.
 */
export { compareModes } from './run/compare-run.js';
export type { CompareModesOptions, CompareModesResult } from './run/compare-run.js';
/** Compares two saved reports (run manifests or `--json` output): what `ace-orch compare a.json b.json` does. */
export { diffReports, parseSavedReport, regressed, lockedRunsClean } from './core/compare.js';
export type { DiffRow, ModeComparison, RunCounts, DomainCounts, SavedReport, Spread } from './core/compare.js';
/** Progress events of a run, the result of the coordinator, and what a resumed run carries over. */
export type { RunEvent, RunResult } from './run/coordinator.js';
/** An episode's outcome (in `episode` events) and its place in the schedule. */
export type { EpisodeOutcome, EpisodeDone, EpisodeFailed, Assignment } from './run/messages.js';

// The store --------------------------------------------------------------------------------------

/**
 * One store directory in the ACE layout: `new Store(dir, options)` opens it (nothing is
 * written until `init`), `readPlaybook` reads a domain's playbook, `merge` merges deltas under
 * the domain's lock with one durable write, `writeEpisode` writes an episode file.
 */
export { Store, DEFAULT_STORE_OPTIONS } from './store/store.js';
export type { StoreOptions, MergeResult, FaultPoint } from './store/store.js';
/**
 * Group commit over a Store: writers of one process `submit(domain, deltas)`; everything pending
 * is merged under one lock acquisition and one durable write, then each promise resolves.
 */
export { GroupCommitter } from './store/committer.js';
/** Lock timing options of a Store: stale after `staleMs`, give up after `timeoutMs`. */
export { DEFAULT_LOCK_OPTIONS } from './store/lock-options.js';
export type { LockOptions } from './store/lock-options.js';
/** Pure merge rules of a playbook: observations ranked by reliability, then score, then episode id, kept up to the cap. */
export { applyDeltas, emptyDeltas, emptyPlaybook, mergeObservations, DEFAULT_CAP } from './core/merge.js';

// Domains ----------------------------------------------------------------------------------------

/**
 * Adds a domain to this thread's registry. Worker threads import domains from
 * `experiment.modules`: put the domain in a module, list it there, and `runExperiment` loads
 * it in the main thread and in every worker.
 */
export { registerDomain, findDomain, domainNames, BUILTIN_DOMAINS } from './domains/index.js';
/** A domain (its `play` may be async and receives an `EpisodeContext`), its play and reflection. */
export type { Domain, SyncDomain, DomainPlay, Reflection, EpisodeContext } from './domains/domain.js';
/** The seeded random source a domain plays with. */
export type { Rng } from './core/rng.js';

// Errors and exit codes --------------------------------------------------------------------------

/** Errors to test with `instanceof` or by `code`; each carries the CLI's `exitCode` for it. */
export {
  AceError,
  BadInputError,
  CapRefusedError,
  SettingError,
  UsageError,
  UnsupportedPlatformError,
  LockTimeoutError,
  LeaseLostError,
  LockCompromisedError,
  FencedWriteError,
  ForeignWriteError,
  EpisodeTimeoutError,
} from './core/errors.js';
/** The CLI's exit codes (0 ok, 1 loss, 2 usage, 3 internal, 4 failed episodes, 130 interrupted) and a run's. */
export { EXIT, runExitCode } from './core/exit-codes.js';

// Report and store types -------------------------------------------------------------------------

/** The experiment, its defaults, and the audit, manifest and playbook shapes. */
export { DEFAULT_EXPERIMENT } from './run/experiment.js';
export type {
  AuditReport,
  DomainAudit,
  RunManifest,
  EpisodeEntry,
  EpisodeTrace,
  ExperimentConfig,
  LockStats,
  Percentiles,
  Playbook,
  Observation,
  Deltas,
  EpisodeRecord,
  Trajectory,
  SectionEntry,
  SectionName,
  Reliability,
  WriteMode,
  CommitMode,
} from './core/types.js';
export type { FileFinding } from './core/episode-read.js';
export type { SectionsAudit } from './core/audit-sections.js';
