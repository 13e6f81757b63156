/**
 * What a report shows, assembled from stores, run manifests and the `--json`
 * output of run, audit and compare (src/report/load.ts), then rendered to one
 * HTML page (src/report/html.ts). Plain data, no I/O.
 */
import type { DiffRow, ModeComparison } from '../core/compare.js';
import type { DomainAudit, EpisodeEntry, ExperimentConfig, LockStats, Playbook, RunManifest } from '../core/types.js';

/** What a source was: it decides which sections the page shows for it. */
export type SourceKind = 'store' | 'manifest' | 'run-json' | 'audit-json' | 'compare-json' | 'diff-json';

/** The loss table: the same rows as the terminal table and the `--json` output. */
export interface LossTable {
  /** `run <id>` or `store <dir>`. */
  scope: string;
  zeroLoss: boolean;
  rows: DomainAudit[];
}

/** One run, from its manifest (or, with less in it, from `run --json`). */
export interface RunView {
  runId: string | null;
  mode?: string;
  commit?: string;
  status?: string;
  startedAt?: string;
  finishedAt?: string;
  /** The run's own figures (efficiency, lanes and start-up too, when its manifest recorded them). */
  timings?: RunManifest['timings'];
  config?: ExperimentConfig;
  stopReason?: string;
  /** When each `run --resume` of it began: its timing, lock and thread figures are the last invocation's. */
  resumedAt?: string[];
  contention: Record<string, LockStats>;
  /** Empty when the source carried no per-episode records. */
  episodes: EpisodeEntry[];
}

export interface SourceView {
  /** The path the user named, or a name derived from it. */
  label: string;
  kind: SourceKind;
  loss?: LossTable;
  runs: RunView[];
  /** Runs of the source left out of the page (a store's oldest beyond the limit). */
  runsOmitted: number;
  modes?: { comparison: ModeComparison; domains: string[] };
  diff?: { a: string; b: string; rows: DiffRow[]; regressed: boolean };
  /** Playbooks as they stand in the source's store, when it has one. */
  playbooks: { domain: string; playbook: Playbook }[];
  /** Where the playbooks were read from. */
  storeDir?: string;
}

export interface ReportModel {
  title: string;
  /** ISO 8601. */
  generatedAt: string;
  sources: SourceView[];
}

/** One bar of a lost-observations chart. */
export interface LostBar {
  domain: string;
  /** The mode, source or side (A/B) the bar belongs to. */
  group: string;
  lost: number;
}
