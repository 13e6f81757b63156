/**
 * Data shapes shared by the main thread, the worker threads and the store.
 * The playbook and episode shapes follow the reference ACE playbook layout so
 * stores written by other tools can be audited too.
 */

export type Reliability = 'HIGH' | 'MEDIUM' | 'LOW';
export const RELIABILITIES: readonly Reliability[] = ['HIGH', 'MEDIUM', 'LOW'];

/** One thing an episode learned. Ranked by reliability, then score, then id. */
export interface Observation {
  episode_id: string;
  /** ISO 8601. */
  timestamp: string;
  /** 0..1, how well the episode's answers matched the hidden ground truth. */
  score: number;
  beliefs: Record<string, unknown>;
  context: Record<string, unknown>;
  reliability: Reliability;
  reason: string;
  metadata: { patterns: string[]; failures: string[] };
}

/**
 * An entry of the three non-observation sections. `timestamp` (the source
 * episode's) is an extension of the reference layout: it makes "the 10 most
 * recent" well defined whatever order entries arrive in.
 */
export interface SectionEntry {
  content: string;
  source_episode: string;
  timestamp?: string;
  [key: string]: unknown;
}

export interface Strategy extends SectionEntry {
  confidence: number;
}

export type SectionName = 'strategies_and_rules' | 'troubleshooting' | 'context_patterns';
export const SECTION_NAMES: readonly SectionName[] = ['strategies_and_rules', 'troubleshooting', 'context_patterns'];

export interface Playbook {
  observations: Observation[];
  strategies_and_rules: SectionEntry[];
  troubleshooting: SectionEntry[];
  context_patterns: SectionEntry[];
  /** Keys written by other tools are kept as they are. */
  [key: string]: unknown;
}

/** What one episode adds to its domain's playbook. */
export interface Deltas {
  observations: Observation[];
  strategies_and_rules: SectionEntry[];
  troubleshooting: SectionEntry[];
  context_patterns: SectionEntry[];
}

export interface Trajectory {
  actions: string[];
  observations: Record<string, unknown>[];
}

/** `<store>/domains/<domain>/episodes/<episode_id>.json` */
export interface EpisodeRecord {
  episode_id: string;
  timestamp: string;
  run_id?: string;
  domain?: string;
  index?: number;
  trajectory: Trajectory;
  outcome: {
    score: number;
    observation?: Observation;
    /** This episode's entries for the other sections (absent in files written by other tools). */
    sections?: Pick<Deltas, 'strategies_and_rules' | 'troubleshooting' | 'context_patterns'>;
    [key: string]: unknown;
  };
}

/** The ranking key of an observation: all the audit needs to know what a playbook must hold. */
export interface ObservationKey {
  episode_id: string;
  reliability: Reliability;
  score: number;
}

export type EpisodeStatus = 'ok' | 'failed' | 'unknown';

export interface EpisodeEntry {
  episode_id: string;
  domain: string;
  index: number;
  status: EpisodeStatus;
  error?: string;
  score?: number;
  reliability?: Reliability;
  ms?: number;
  /** Where and when the episode ran; absent in manifests written before it was recorded. */
  trace?: EpisodeTrace;
}

/**
 * An episode's place on the run's timeline, for `ace-orch report`. Times are
 * ms since the run began scheduling (`RunManifest.trace_origin`), measured on
 * the wall clock of the process that ran the episode.
 */
export interface EpisodeTrace {
  pid: number;
  /** The worker thread's `threadId` within `pid`. */
  thread: number;
  /** The worker began the episode. */
  start_ms: number;
  /** Play and think time ended; the episode file write and the merge follow. Absent when the episode failed before. */
  played_ms?: number;
  /** The episode was acknowledged: merged into its playbook, or reported failed. */
  acked_ms: number;
  /** Its merge's wait for and hold of the playbook lock, and the episodes that merge carried. */
  lock?: { wait_ms: number; hold_ms: number; batch: number };
}

export interface DomainAudit {
  domain: string;
  /** From run manifests; null when the store has none. */
  episodesRun: number | null;
  episodeFiles: number;
  playbookObservations: number;
  expected: number;
  lost: number;
  missingFiles: number;
  unexpected: number;
  lostIds: string[];
  missingIds: string[];
  unexpectedIds: string[];
}

export interface AuditReport {
  runId: string | null;
  store: string;
  cap: number;
  domains: DomainAudit[];
  zeroLoss: boolean;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface LockStats {
  count: number;
  waitMs: Percentiles;
  holdMs: Percentiles;
  retries: number;
  bytes: number;
  /** Writes refused by the fence before they landed (then retried). */
  refused: number;
  /** Stale locks reclaimed from crashed or paused holders. */
  reclaimed: number;
  /** Lock acquisitions (fewer than `count` under group commit, which carries several episodes per merge). */
  merges: number;
}

/** `<store>/runs/<run_id>.json` */
/** `locked`: the store's merge path. `unlocked`: the pre-fix read-modify-write, kept to reproduce the loss. */
export type WriteMode = 'locked' | 'unlocked';

/** `each`: one locked merge per episode. `batched`: one committer per domain and process merges everything pending at once. */
export type CommitMode = 'each' | 'batched';

export interface RunManifest {
  run_id: string;
  mode: WriteMode;
  commit?: CommitMode;
  status: 'running' | 'complete' | 'interrupted' | 'stopped' | 'crashed';
  started_at: string;
  finished_at?: string;
  pid: number;
  host?: string;
  /** Set by `repair` when it closed a run whose process died. */
  repaired_at?: string;
  config: ExperimentConfig;
  domains: Record<string, { scheduled: number; completed: number; failed: number }>;
  episodes?: EpisodeEntry[];
  timings?: { seconds: number; episodesPerSec: number };
  contention?: Record<string, LockStats>;
  stop_reason?: string;
  audit?: AuditReport;
  /** ISO 8601 moment the episodes' `trace` times count from. */
  trace_origin?: string;
}

export interface ExperimentConfig {
  name: string;
  domains: string[];
  /** Episodes per domain. */
  episodes: number;
  threads: number;
  /** OS processes sharing the episodes, each with its own pool of `threads`. */
  processes: number;
  /** Think time per episode in ms, standing in for the model calls of real episodes. */
  episodeMs: number;
  cap: number;
  seed: number;
  /** File URLs of user domain modules, imported by the coordinator and every worker. */
  modules?: string[];
}
