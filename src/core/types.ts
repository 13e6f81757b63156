/**
 * Data shapes shared by the main thread, the worker threads and the store.
 * The playbook and episode shapes follow the reference ACE playbook layout so
 * stores written by other tools can be audited too.
 */
import type { SectionsAudit } from './audit-sections.js';
import type { FileFinding } from './episode-read.js';

/** The reliabilities ace-orch writes. */
export type Reliability = 'HIGH' | 'MEDIUM' | 'LOW';
/**
 * A reliability as found on disk: files written by other tools also carry
 * e.g. `SYNTHETIC_HIGH`; src/core/reliability.ts says how those rank.
 */
export type AnyReliability = Reliability | (string & {});

/** One thing an episode learned. Ranked by reliability, then score, then id. */
export interface Observation {
  episode_id: string;
  /** ISO 8601. */
  timestamp: string;
  /** 0..1, how well the episode's answers matched the hidden ground truth. */
  score: number;
  beliefs: Record<string, unknown>;
  context: Record<string, unknown>;
  reliability: AnyReliability;
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

/** An episode's record already serialized (by the worker thread that played it): its id and its file's text. */
export interface EpisodeFile {
  episode_id: string;
  text: string;
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
  reliability: AnyReliability;
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
  reliability?: AnyReliability;
  ms?: number;
  /** Distributed runs: the host and worker whose claim committed the episode. */
  host?: string;
  worker?: string;
  /** Attempts made (1 when the first succeeded or retries are off). */
  attempts?: number;
  /** `CODE: message` of each failed attempt, in order. */
  attempt_errors?: string[];
  /**
   * Queued runs: how many times the queue handed this episode out again (a claim that expired, a worker that died, a
   * commit that failed), each a play started again; `attempts` counts those of the claim that ended it.
   */
  handed_out?: number;
  /** ISO 8601 start of the episode's first attempt. */
  started_at?: string;
  /** Where and when the episode ran; absent in manifests written before it was recorded. */
  trace?: EpisodeTrace;
}

/** What a manifest entry records of an episode's attempts, wherever it ran (a local run or a queue worker). */
export type AttemptFields = Pick<EpisodeEntry, 'ms' | 'started_at' | 'attempts' | 'attempt_errors'>;

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
  /** Episodes that raised, timed out or were refused after their retries: no file owed, not loss. */
  failed: number;
  failedIds: string[];
  /**
   * Of those, the ones whose episode file exists: they failed after it was written (their merge did not
   * complete, a lock timeout say), so their observations are owed to the playbook and `repair` merges them.
   * Absent in reports saved before it was recorded.
   */
  failedWithFileIds?: string[];
  lostIds: string[];
  missingIds: string[];
  unexpectedIds: string[];
  /** Episode files the audit could not use (listed in `findings`). */
  unreadableFiles: number;
  /** Episode files skipped, or used with a caveat (null actions, SYNTHETIC_* reliabilities, unknown fields). */
  findings: FileFinding[];
  /** Why playbook.json could not be read; the domain then counts as lost. */
  playbookError: string | null;
  /** The system refused to read playbook.json (permissions, not a file): nothing to rebuild. */
  playbookIo?: boolean;
  /** playbook.json is empty or not JSON, the one kind `repair --rebuild` moves aside and rebuilds. */
  playbookTorn?: boolean;
  /** Why the domain's episodes directory could not be listed: the domain was not checked, and counts as lost. */
  episodesError?: string;
  /** The playbook holds more observations than episode ids (the reference tool's molecular mode, say): what and why. */
  playbookNote?: string;
  /**
   * Of `lost`, how many the reference tool would have dropped by itself, saving its episodes one at a time
   * (src/core/reference-replay.ts): counted in `lost` all the same, and said apart.
   */
  lostByReferenceAlone?: number;
  /** A domain folder with episode files and no playbook.json: every expected observation is lost. */
  noPlaybook: boolean;
  /** Duplicated and lost entries of the other three sections. */
  sections: SectionsAudit;
}

export interface AuditReport {
  runId: string | null;
  store: string;
  cap: number;
  /** Where the cap came from: --cap, the store's record, or how it was inferred. */
  capReason: string;
  domains: DomainAudit[];
  zeroLoss: boolean;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

/** What one merge reports about its lock and write: the input of the lock statistics. */
export interface MergeTiming {
  waitMs: number;
  holdMs: number;
  retries: number;
  bytes: number;
  changed: boolean;
  /** Writes refused by the fence (or a lost lease) before this merge landed. */
  refused: number;
  /** Writes refused because another tool rewrote the playbook without this project's lock (then retried). */
  foreignWrites: number;
  /** Stale locks reclaimed by this merge. */
  reclaimed: number;
  /** Episodes carried by this merge (1 unless group-committed). @default 1 */
  batch?: number;
}

export interface LockStats {
  count: number;
  waitMs: Percentiles;
  holdMs: Percentiles;
  retries: number;
  bytes: number;
  /** Writes refused by the fence before they landed (then retried). */
  refused: number;
  /** Writes refused because another tool (the reference ace_playbook.py, a script) rewrote the playbook without this project's lock; retried, so nothing is lost. Absent in manifests written before it was counted. */
  foreignWrites?: number;
  /** Stale locks reclaimed from crashed or paused holders. */
  reclaimed: number;
  /** Lock acquisitions (fewer than `count` under group commit, which carries several episodes per merge). */
  merges: number;
}

/** `<store>/runs/<run_id>.json` */
/** `locked`: the store's merge path. `unlocked`: the pre-fix read-modify-write, kept to reproduce the loss. */
export type WriteMode = 'locked' | 'unlocked';

/**
 * `each`: one locked merge per episode. `batched`: one committer per domain and process merges everything pending at once.
 * `shared`: batched, and the committers of all processes fold each other's pending batches (file store only, StoreOptions.shareCommits).
 */
export type CommitMode = 'each' | 'batched' | 'shared';

export interface RunManifest {
  run_id: string;
  mode: WriteMode;
  commit?: CommitMode;
  status: 'running' | 'complete' | 'interrupted' | 'stopped' | 'crashed';
  started_at: string;
  finished_at?: string;
  pid: number;
  host?: string;
  /** Distributed runs: the queue (password masked) the episodes went through. */
  queue?: string;
  /** Set by `repair` when it closed a run whose process died. */
  repaired_at?: string;
  config: ExperimentConfig;
  domains: Record<string, { scheduled: number; completed: number; failed: number }>;
  episodes?: EpisodeEntry[];
  timings?: {
    seconds: number;
    episodesPerSec: number;
    /** Episodes in flight at most, over all processes. */
    concurrency?: number;
    /** min(concurrency, episodes scheduled): the slots that could ever be busy. */
    lanes?: number;
    /** Sum of episode play times (the agent's own time, think time included) / (wall time × lanes): how much of the in-flight slots' time went to agents rather than waiting on ace-orch, 0..1. */
    efficiency?: number;
    /** From the start of scheduling to the first episode's start: worker start-up, paid once per run. */
    startupSeconds?: number;
    /** `efficiency` from the first episode's start: the share once agents could run. */
    efficiencyAfterStartup?: number;
  };
  /** The store's absolute path when the run was written: `--resume` refuses a manifest copied from elsewhere. */
  store?: string;
  /** ISO 8601 times at which `--resume` picked the run up again. */
  resumed_at?: string[];
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
  /** Episodes in flight per process, spread over its threads. @default threads */
  concurrency?: number;
  /** An attempt still running after this many ms is abandoned and fails with E_TIMEOUT. @default 0 (never) */
  episodeTimeoutMs?: number;
  /** A failed attempt is re-played up to this many times, with exponential backoff and jitter. @default 0 */
  retries?: number;
  /** The first retry's backoff in ms; each next one doubles, times a random factor of 1 to 2. @default 1000 */
  retryDelayMs?: number;
  /** Episode attempts started per second across all processes of the run. @default unlimited */
  rate?: number;
  /** Stop scheduling once more than this many episodes have failed. @default unlimited */
  maxFailures?: number;
}
