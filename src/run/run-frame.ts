/**
 * What every run does before its first episode and after its last, whether
 * it plays them here (src/run/coordinator.ts) or through a queue
 * (src/queue/distributed-run.ts): settle and record the cap, refuse a
 * corrupt playbook, warn about the cap and about abandoned runs; then audit
 * the run, write its final manifest and add it to each domain's stats.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { assertMergeable } from '../core/mergeable.js';
import { audit } from '../core/audit.js';
import { BadInputError, LockTimeoutError, TornFileError, UnreadableFileError } from '../core/errors.js';
import { registeredReflection } from '../domains/index.js';
import { abandonedRuns } from '../store/liveness.js';
import type { StoreBackend } from '../store/backend.js';
import { platformGuarantee } from '../store/platform.js';
import { storeArg } from '../core/store-arg.js';
import type { AuditReport, CommitMode, ExperimentConfig, RunManifest, WriteMode } from '../core/types.js';

/**
 * Prepares the store for a run; returns the experiment with the cap that applies. Writes no user data.
 * `onChecked` runs once the checks that refuse a run (the cap, the playbooks) have passed, before the
 * store's folders, the cap's record and the scan of earlier runs' manifests: a caller can start work
 * there (its worker threads) that overlaps the rest, and starts none for a store that refuses.
 */
export async function openRun(
  store: StoreBackend,
  requested: ExperimentConfig,
  capFromStore: boolean,
  warn: (message: string) => void,
  onChecked?: (experiment: ExperimentConfig) => void,
  /** The run `--resume` finishes: ended abnormally, as its resumer knows, and not worth a warning. */
  resuming?: string,
): Promise<ExperimentConfig> {
  // A database store's tables must exist to be read; creating them writes no user data.
  if (store.kind !== 'file') await store.init(requested.domains);
  // Before anything is written: a store never loses what it holds to a smaller cap.
  const cap = await store.settleCap(capFromStore ? undefined : requested.cap);
  const experiment: ExperimentConfig = { ...requested, cap: cap.cap };
  const platformNote = store.kind === 'file' ? platformGuarantee(process.platform).note : undefined;
  if (platformNote) warn(platformNote);
  // A corrupt playbook stops the run before anything is written, and is left untouched.
  for (const d of experiment.domains) {
    const playbook = await store.readPlaybook(d).catch((err: unknown) => {
      // Torn: rebuild advice; JSON ace-orch cannot read as a playbook: left as it is (a rebuild would drop what it holds);
      // unreadable to this user, or a link to nothing: its own message says it.
      if (!(err instanceof BadInputError) || err instanceof UnreadableFileError || store.kind !== 'file') throw err;
      if (err instanceof TornFileError) throw new TornFileError(`${err.message}; \`ace-orch repair --rebuild --store ${storeArg(store.location)}\` moves it aside and rebuilds it from the episode files`, err.file);
      throw new BadInputError(`${err.message}; ace-orch cannot read it as a playbook and leaves it as it is; nothing was written`, err.file);
    });
    // One its merges would damage (several observations per episode id) stops the run before any episode is paid for.
    assertMergeable(playbook, store.kind === 'file' ? join(store.location, 'domains', d, 'playbook.json') : `${store.location} playbook ${d}`);
  }
  onChecked?.(experiment);
  await store.init(experiment.domains);
  if (cap.record) await store.recordCap(cap.cap);
  if (cap.note) warn(cap.note);
  for (const dead of abandonedRuns(await store.readManifests()).filter((m) => m.run_id !== resuming)) {
    warn(`run ${dead.run_id} in this store ended abnormally (process ${dead.pid} is gone); \`ace-orch run --resume ${dead.run_id} --store ${storeArg(store.location)}\` merges what it left unmerged and plays the rest (\`ace-orch repair\` only merges)`);
  }
  return experiment;
}

/** A new run's manifest, `running` until `closeRun`. */
export function runningManifest(runId: string, experiment: ExperimentConfig, mode: WriteMode, commit: CommitMode, where: { store: string } | { queue: string }): RunManifest {
  return {
    run_id: runId,
    mode,
    commit,
    status: 'running',
    started_at: new Date().toISOString(),
    pid: process.pid,
    host: hostname(),
    ...where,
    config: experiment,
    domains: Object.fromEntries(experiment.domains.map((d) => [d, { scheduled: experiment.episodes, completed: 0, failed: 0 }])),
  };
}

/**
 * Audits the finished run (its manifest carries status, episodes and timings), writes the final
 * manifest and adds the run to each domain's stats. `earlier(d)`: episodes of domain d merged
 * before this invocation (a resumed run's), not counted again. A domain whose lock cannot be had for
 * its stats (the lock that stopped the run, say) keeps its old stats, with a `warn`ing: they are
 * derived data, and the run's own record, the manifest, is written already.
 */
export async function closeRun(store: StoreBackend, manifest: RunManifest, earlier: (domain: string) => number = () => 0, warn: (message: string) => void = () => {}): Promise<AuditReport> {
  const { config, run_id: runId, mode } = manifest;
  const input = await store.auditInput({ runId, cap: config.cap, rules: registeredReflection });
  const report = audit({ ...input, capFrom: 'run', manifests: [manifest] });
  manifest.audit = report;
  await store.writeManifest(manifest);
  for (const d of config.domains) {
    await store
      .updateStats(d, (prev) => ({
        // Keys another tool keeps here (the reference tool's own stats) stay as they were.
        ...prev,
        domain: d,
        updated_at: manifest.finished_at,
        runs: (typeof prev['runs'] === 'number' ? prev['runs'] : 0) + 1,
        episodes_merged: (typeof prev['episodes_merged'] === 'number' ? prev['episodes_merged'] : 0) + manifest.domains[d]!.completed - earlier(d),
        last_run: { run_id: runId, mode, episodes: manifest.domains[d], contention: manifest.contention?.[d] },
      }))
      .catch((err: unknown) => {
        if (!(err instanceof LockTimeoutError) && !(err instanceof BadInputError)) throw err;
        warn(`${d}: stats not updated (${err.message})`);
      });
  }
  return report;
}
