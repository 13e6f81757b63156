/**
 * The library's entry points over the same functions the CLI calls: a run
 * with its audit, the audit of a store, and repair. Each takes a Store or a
 * store directory; none prints anything.
 */
import { audit as auditInput } from './core/audit.js';
import { runExperiment as runOnPool } from './run/coordinator.js';
import type { RunEvent, RunResult } from './run/coordinator.js';
import { registeredReflection } from './domains/index.js';
import { loadDomainModules, resolveModules } from './domains/load.js';
import { runExitCode, EXIT } from './core/exit-codes.js';
import { resolveExperiment } from './run/experiment.js';
import { repairStore } from './store/repair.js';
import type { RepairOptions, RepairReport } from './store/repair.js';
import { DEFAULT_LOCK_OPTIONS } from './store/lock-options.js';
import { assertStoreExists, loadAuditInput } from './store/snapshot.js';
import { Store } from './store/store.js';
import type { AuditReport, CommitMode, ExperimentConfig, WriteMode } from './core/types.js';

/** Options of {@link runExperiment}. */
export interface ExperimentOptions {
  /**
   * The experiment: any fields of {@link ExperimentConfig}, validated like an experiment file
   * (a bad field throws a `BadInputError` naming it). `modules` may be paths (relative to the
   * current directory) or file URLs of user domain modules; they are imported here and by every worker.
   * @default the defaults of `ace-orch run`: the built-in domains, 10 episodes each, seed 1
   */
  experiment?: Partial<ExperimentConfig>;
  /** The store, or its directory (created if missing, never wiped). */
  store: Store | string;
  /** `'unlocked'` is the deliberately unsafe pre-fix write path, to reproduce the loss. @default 'locked' */
  mode?: WriteMode;
  /**
   * `'each'`: one locked merge per episode; `'batched'`: group commit per domain and process; `'shared'`: batched, and
   * the processes' committers fold each other's pending batches (a file store and the locked mode only). @default 'batched'
   */
  commit?: CommitMode;
  /** Give up (the report's `fatal`, exit code 2) when a playbook lock cannot be had within this many ms. Ignored when `store` is a Store. @default 30000 */
  lockTimeoutMs?: number;
  /** The run's id. @default a new sortable unique id */
  runId?: string;
  /** Aborting stops scheduling; episodes in flight finish their writes, and the run is audited. @default undefined */
  signal?: AbortSignal;
  /** Progress: called for every {@link RunEvent} (started, episode-started, episode, retry, stopping, warning…). @default undefined */
  onEvent?: (event: RunEvent) => void;
}

/** What {@link runExperiment} resolves to: the run's manifest, the audit of the run, and the CLI's exit code for it. */
export interface RunReport extends RunResult {
  /** What `ace-orch run` would exit with: 0 no loss, 1 loss, 2 `fatal`, 4 failed episodes, 130 interrupted (see {@link EXIT}). */
  exitCode: number;
}

function storeOf(store: Store | string, options?: ConstructorParameters<typeof Store>[1]): Store {
  return typeof store === 'string' ? new Store(store, options) : store;
}

/**
 * Runs an experiment and audits the run: what `ace-orch run` does, without printing.
 * Resolves when every episode in flight has finished its write (also after `signal` aborts);
 * rejects with a `BadInputError` on a bad experiment field, store or playbook, before anything is written.
 */
export async function runExperiment(options: ExperimentOptions): Promise<RunReport> {
  const input = { ...options.experiment };
  if (input.modules?.length) {
    input.modules = input.modules.map((m) => (m.startsWith('file:') ? m : resolveModules([m], process.cwd())[0]!));
    await loadDomainModules(input.modules);
  }
  const experiment = resolveExperiment([{ input, source: 'options.experiment' }]);
  const lock = { ...DEFAULT_LOCK_OPTIONS, timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_OPTIONS.timeoutMs };
  const result = await runOnPool({
    experiment,
    store: storeOf(options.store, { cap: experiment.cap, lock }),
    capFromStore: input.cap === undefined,
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.commit ? { commit: options.commit } : {}),
    ...(options.runId ? { runId: options.runId } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  return { ...result, exitCode: result.fatal ? EXIT.usage : runExitCode(result.report.zeroLoss, result.manifest) };
}

/** Options of {@link audit}. */
export interface AuditOptions {
  /** Audit one run's episodes (expected is still computed over the whole domain). @default null (every run) */
  runId?: string | null;
  /** Observations a playbook keeps. @default the store's recorded cap; for a store with none, the larger of 100 and the largest playbook */
  cap?: number;
}

/** Audits a store for lost observations: what `ace-orch audit` does. Reads only. */
export async function audit(store: Store | string, options: AuditOptions = {}): Promise<AuditReport> {
  return auditInput(await loadAuditInput(storeOf(store), { ...options, rules: registeredReflection }));
}

/** What {@link repair} resolves to: what it re-merged, and the audit of the store afterwards. */
export interface RepairResult extends RepairReport {
  audit: AuditReport;
}

/**
 * Re-merges what crashed writers left unmerged (and with `rebuild`, rebuilds a corrupt playbook
 * after moving it aside), then audits the store: what `ace-orch repair` does.
 */
export async function repair(store: Store | string, options: RepairOptions = {}): Promise<RepairResult> {
  const s = storeOf(store);
  await assertStoreExists(s);
  const report = await repairStore(s, { rules: registeredReflection, ...options });
  return { ...report, audit: await audit(s, { cap: options.cap }) };
}
