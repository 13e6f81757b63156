/**
 * The library's entry points over the same functions the CLI calls: a run
 * with its audit, the audit of a store, and repair. Each takes a Store or a
 * store directory; none prints anything.
 */
import { audit as auditInput } from './core/audit.js';
import { runExperiment as runOnPool } from './run/coordinator.js';
import type { RunEvent, RunResult } from './run/coordinator.js';
import { BUILTIN_DOMAINS, registeredReflection } from './domains/index.js';
import { domainsOfModules, loadDomainModules, resolveModules } from './domains/load.js';
import { runExitCode, EXIT } from './core/exit-codes.js';
import { assertKnownKeys, resolveExperiment } from './run/experiment.js';
import { repairStore } from './store/repair.js';
import type { RepairOptions, RepairReport } from './store/repair.js';
import { DEFAULT_LOCK_OPTIONS } from './store/lock-options.js';
import { assertStoreExists } from './store/snapshot.js';
import { Store } from './store/store.js';
import type { StoreOptions } from './store/store.js';
import { isPostgresUrl } from './store/backend.js';
import type { StoreBackend } from './store/backend.js';
import { openStore } from './store/open.js';
import type { PgStore } from './store/pg/pg-store.js';
import { BadInputError, SettingError } from './core/errors.js';
import type { Setting, SettingNames } from './core/errors.js';
import { isRunId, positiveInt, show } from './core/validate.js';
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
  /** The store: a Store, its directory (created if missing, never wiped), or a `postgres://` URL, as `--store` takes it. */
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
  /**
   * Aborting stops scheduling and aborts the `ctx.signal` of every episode in flight; those that finish anyway are
   * written, those that give up fail (`--resume` plays them again), and the run is audited. @default undefined
   */
  signal?: AbortSignal;
  /** Progress: called for every {@link RunEvent} (started, episode-started, episode, retry, stopping, warning…). @default undefined */
  onEvent?: (event: RunEvent) => void;
}

/** What {@link runExperiment} resolves to: the run's manifest, the audit of the run, and the CLI's exit code for it. */
export interface RunReport extends RunResult {
  /** What `ace-orch run` would exit with: 0 no loss, 1 loss, 2 `fatal`, 4 failed episodes, 130 interrupted (see {@link EXIT}). */
  exitCode: number;
}

/**
 * The backend `store` names, and whether it was opened here (and must be closed here). A JavaScript caller
 * can pass anything: what is neither a Store nor a string is refused as `--store` would be.
 */
async function openBackend(store: unknown, options?: Partial<StoreOptions>, name = 'store'): Promise<{ backend: StoreBackend; opened: boolean }> {
  if (store instanceof Store) return { backend: store, opened: false };
  if (typeof store !== 'string' || store === '') throw new BadInputError(`${name}: Expected a Store, a directory or a postgres:// URL, got \`${show(store)}\``);
  return { backend: await openStore(store, options), opened: isPostgresUrl(store) };
}

/** `cap` as `--cap` takes it: a positive integer, or absent. */
function checkCap(cap: unknown, where: string): void {
  if (cap !== undefined) positiveInt(cap, 'cap', where);
}

/**
 * The library's names for the settings a refusal names (SettingError): its options, not the CLI's flags.
 * `cap` is where this call takes it (`options.experiment.cap` for a run).
 */
function optionNames(cap: string, store = 'store'): SettingNames {
  const key: Record<Setting, string> = { cap, run: 'options.runId', store, mode: 'options.mode', commit: 'options.commit' };
  const shown = (value: string | number): string => (typeof value === 'string' ? `'${value}'` : String(value));
  const name = (setting: Setting, value?: string | number): string => (value === undefined ? key[setting] : `${key[setting]} ${shown(value)}`);
  return { name, give: (setting, value) => `set ${key[setting]} to ${shown(value)}` };
}

/** Runs `work`, re-saying a refusal about a setting in the library's names. */
async function sayingOptions<T>(names: SettingNames, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof SettingError ? err.sayAs(names) : err;
  }
}

function checkChoice<T extends string>(value: unknown, name: string, choices: readonly T[]): void {
  if (value !== undefined && !choices.includes(value as T)) throw new BadInputError(`options.${name}: Expected one of ${choices.map((c) => `\`${c}\``).join(', ')}, got \`${show(value)}\``);
}

/**
 * Runs an experiment and audits the run: what `ace-orch run` does, without printing.
 * Resolves when every episode in flight has finished its write (also after `signal` aborts);
 * rejects with a `BadInputError` on a bad experiment field, store or playbook, before anything is written.
 */
export function runExperiment(options: ExperimentOptions): Promise<RunReport> {
  return sayingOptions(optionNames('options.experiment.cap', 'options.store'), () => runWith(options));
}

/** The options runExperiment takes: anything else (a misspelling) is refused rather than ignored. */
const RUN_OPTIONS = ['store', 'experiment', 'mode', 'commit', 'lockTimeoutMs', 'runId', 'signal', 'onEvent'];

async function runWith(options: ExperimentOptions): Promise<RunReport> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new BadInputError(`options: Expected an object ({ store, experiment, ... }), got \`${show(options)}\``);
  const unknown = Object.keys(options).filter((k) => !RUN_OPTIONS.includes(k));
  if (unknown.length) throw new BadInputError(`options: unknown option${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `\`${k}\``).join(', ')}; expected ${RUN_OPTIONS.join(', ')}`);
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw new BadInputError(`options.onEvent: Expected a function, got \`${show(options.onEvent)}\``);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new BadInputError(`options.signal: Expected an AbortSignal, got \`${show(options.signal)}\``);
  const input = { ...options.experiment };
  assertKnownKeys(input, 'options.experiment');
  checkChoice(options.mode, 'mode', ['locked', 'unlocked']);
  checkChoice(options.commit, 'commit', ['each', 'batched', 'shared']);
  // It names the manifest's file (runs/<id>.json) and its rows: the same rule as `--resume`'s.
  if (options.runId !== undefined && !isRunId(options.runId)) {
    throw new BadInputError(`options.runId: Expected letters, digits, '.', '_' or '-', got \`${show(options.runId)}\``);
  }
  if (input.modules?.length) {
    input.modules = input.modules.map((m) => (m.startsWith('file:') ? m : resolveModules([m], process.cwd())[0]!));
    await loadDomainModules(input.modules);
  }
  const experiment = resolveExperiment([{ input, source: 'options.experiment' }]);
  // registerDomain in this process reaches no worker thread: they know the built-in domains and those of `modules`.
  const playable = domainsOfModules(experiment.modules ?? []);
  const local = experiment.domains.filter((d) => !BUILTIN_DOMAINS.includes(d) && !playable.has(d));
  if (local.length) {
    throw new BadInputError(`options.experiment.domains: ${local.map((d) => `\`${d}\``).join(', ')} ${local.length === 1 ? 'is' : 'are'} registered in this process only; worker threads import domains from \`experiment.modules\`: list the module that exports ${local.length === 1 ? 'it' : 'them'} there`);
  }
  const lock = { ...DEFAULT_LOCK_OPTIONS, timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_OPTIONS.timeoutMs };
  const { backend, opened } = await openBackend(options.store, { cap: experiment.cap, lock }, 'options.store');
  // A throwing onEvent would escape as an uncaught exception from inside the run, past the caller's try, and leave
  // its manifest `running`: it stops the run as an abort would, and the run, closed and audited, rejects with it.
  let callbackError: { error: unknown } | undefined;
  const stopRun = new AbortController();
  const onEvent = options.onEvent;
  // The caller's signal, passed on (AbortSignal.any needs Node 20.3).
  const passOn = (): void => stopRun.abort(options.signal?.reason);
  if (options.signal?.aborted) passOn();
  else options.signal?.addEventListener('abort', passOn, { once: true });
  try {
    // A run's manifest is its record: a second run under its id would replace it.
    if (options.runId !== undefined && (await backend.readManifests()).some((m) => m.run_id === options.runId)) {
      throw new BadInputError(`options.runId: run \`${options.runId}\` already exists in ${backend.location}; give this run another id (or resume that one)`);
    }
    const result = await runOnPool({
      experiment,
      store: backend,
      capFromStore: input.cap === undefined,
      ...(options.mode ? { mode: options.mode } : {}),
      ...(options.commit ? { commit: options.commit } : {}),
      ...(options.runId ? { runId: options.runId } : {}),
      signal: stopRun.signal,
      ...(onEvent
        ? {
            onEvent: (e: RunEvent) => {
              const failed = (error: unknown): void => {
                callbackError ??= { error };
                stopRun.abort('options.onEvent threw');
              };
              try {
                // An async callback's rejection would be unhandled: it stops the run as a throw does.
                const r = onEvent(e) as unknown;
                if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, failed);
              } catch (error) {
                failed(error);
              }
            },
          }
        : {}),
    });
    if (callbackError) throw new Error(`options.onEvent threw: ${(callbackError.error as Error)?.message ?? String(callbackError.error)}; the run stopped (${result.manifest.run_id}, ${result.manifest.status})`, { cause: callbackError.error });
    return { ...result, exitCode: result.fatal ? EXIT.usage : runExitCode(result.report.zeroLoss, result.manifest) };
  } finally {
    options.signal?.removeEventListener('abort', passOn);
    if (opened) await backend.close();
  }
}

/** Options of {@link audit}. */
export interface AuditOptions {
  /** Audit one run's episodes (expected is still computed over the whole domain). @default null (every run) */
  runId?: string | null;
  /** Observations a playbook keeps. @default the store's recorded cap; for a store with none, the larger of 100 and the largest playbook */
  cap?: number;
}

/** Audits a store (a Store, a directory or a `postgres://` URL) for lost observations: what `ace-orch audit` does. Reads only. */
export async function audit(store: Store | string, options: AuditOptions = {}): Promise<AuditReport> {
  checkCap(options.cap, 'options.cap');
  const { backend, opened } = await openBackend(store);
  try {
    return await sayingOptions(optionNames('options.cap'), async () => auditInput(await backend.auditInput({ ...options, rules: registeredReflection })));
  } finally {
    if (opened) await backend.close();
  }
}

/** What {@link repair} resolves to: what it re-merged, and the audit of the store afterwards. */
export interface RepairResult extends RepairReport {
  audit: AuditReport;
}

/**
 * Re-merges what crashed writers left unmerged (and with `rebuild`, rebuilds a corrupt playbook
 * after moving it aside), then audits the store: what `ace-orch repair` does.
 */
export function repair(store: Store | string, options: RepairOptions = {}): Promise<RepairResult> {
  return sayingOptions(optionNames('options.cap'), () => repairWith(store, options));
}

async function repairWith(store: Store | string, options: RepairOptions): Promise<RepairResult> {
  checkCap(options.cap, 'options.cap');
  const { backend, opened } = await openBackend(store);
  try {
    let report: RepairReport;
    if (backend instanceof Store) {
      await assertStoreExists(backend);
      report = await repairStore(backend, { rules: registeredReflection, ...options });
    } else {
      if (options.rebuild) throw new BadInputError(`rebuild: a PostgreSQL store's playbooks are rows written in transactions, never torn; ${backend.location} has nothing to rebuild`);
      const { repairPgStore } = await import('./store/pg/repair.js');
      report = await repairPgStore(backend as PgStore, { ...(options.cap !== undefined ? { cap: options.cap } : {}), ...(options.domains ? { domains: options.domains } : {}) });
    }
    return { ...report, audit: auditInput(await backend.auditInput({ cap: options.cap, rules: registeredReflection })) };
  } finally {
    if (opened) await backend.close();
  }
}
