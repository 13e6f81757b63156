/**
 * The coordinator: schedules an experiment's episodes onto a Piscina pool
 * through a p-queue that bounds how many are in flight, records every
 * outcome, writes the run manifest and audits the run. Workers persist
 * through the store themselves; the coordinator never writes a playbook.
 */
import { randomBytes } from 'node:crypto';
import PQueue from 'p-queue';
import { Piscina } from 'piscina';
import { audit } from './audit.js';
import { episodeId } from './episode.js';
import type { EpisodeOutcome, EpisodeTask, MergeTiming } from './messages.js';
import { summarizeMerges } from './stats.js';
import { loadAuditInput } from './store/snapshot.js';
import type { Store } from './store/store.js';
import type { AuditReport, EpisodeEntry, ExperimentConfig, LockStats, RunManifest } from './types.js';

export interface RunOptions {
  experiment: ExperimentConfig;
  store: Store;
  /** @default a new unique id */
  runId?: string;
  /** Think time per episode. @default 0 */
  episodeMs?: number;
  /** Aborting stops scheduling; in-flight episodes finish their writes. */
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
}

export type RunEvent =
  | { type: 'started'; runId: string; total: number }
  | { type: 'episode'; outcome: EpisodeOutcome; done: number; total: number }
  | { type: 'stopping'; reason: string; inFlight: number };

export interface RunResult {
  manifest: RunManifest;
  report: AuditReport;
  /** Set when the run stopped on bad input or a lock timeout: the CLI exits 2 with this message. */
  fatal?: { code: string; message: string };
}

/** Sortable, and unique across processes: time to the second plus 48 random bits. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(6).toString('hex')}`;
}

/** The worker file next to this module, in src/ under tsx or dist/ when built. */
export function workerFile(): string {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`../workers/episode-worker.${ext}`, import.meta.url).href;
}

export async function runExperiment(options: RunOptions): Promise<RunResult> {
  const { experiment, store } = options;
  const emit = options.onEvent ?? (() => {});
  await store.init(experiment.domains);
  // A corrupt playbook stops the run before any episode is played, and is left untouched.
  for (const d of experiment.domains) await store.readPlaybook(d);

  const runId = options.runId ?? newRunId();
  const total = experiment.domains.length * experiment.episodes;
  const manifest: RunManifest = {
    run_id: runId,
    status: 'running',
    started_at: new Date().toISOString(),
    pid: process.pid,
    config: experiment,
    domains: Object.fromEntries(experiment.domains.map((d) => [d, { scheduled: experiment.episodes, completed: 0, failed: 0 }])),
  };
  await store.writeManifest(manifest);
  emit({ type: 'started', runId, total });

  const pool = new Piscina<EpisodeTask, EpisodeOutcome>({
    filename: workerFile(),
    minThreads: experiment.threads,
    maxThreads: experiment.threads,
    idleTimeout: 1_000,
  });
  const queue = new PQueue({ concurrency: experiment.threads });
  const entries: EpisodeEntry[] = [];
  const merges = new Map<string, MergeTiming[]>(experiment.domains.map((d) => [d, []]));
  let stopReason: string | undefined;
  let fatal: RunResult['fatal'];
  const stop = (reason: string): void => {
    if (stopReason !== undefined) return;
    stopReason = reason;
    queue.clear();
    emit({ type: 'stopping', reason, inFlight: queue.pending });
  };
  const onAbort = (): void => stop(String(options.signal?.reason ?? 'interrupted'));
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) onAbort();

  const started = performance.now();
  let done = 0;
  // Round-robin over domains, so every domain's playbook sees concurrent writers from the start.
  for (let i = 0; i < experiment.episodes && stopReason === undefined; i++) {
    for (const domain of experiment.domains) {
      const task: EpisodeTask = {
        store: store.root,
        runId,
        domain,
        index: i,
        seed: experiment.seed,
        cap: experiment.cap,
        lock: store.options.lock,
        episodeMs: options.episodeMs ?? 0,
        modules: experiment.modules ?? [],
      };
      void queue.add(async () => {
        const outcome = await pool.run(task).catch(
          (err: Error): EpisodeOutcome => ({
            ok: false,
            episode_id: episodeId(runId, domain, i),
            domain,
            index: i,
            ms: 0,
            error: { code: 'E_WORKER', message: err.message, fatal: false },
          }),
        );
        const counts = manifest.domains[domain]!;
        if (outcome.ok) {
          counts.completed++;
          merges.get(domain)!.push(outcome.merge);
          entries.push({ episode_id: outcome.episode_id, domain, index: i, status: 'ok', score: outcome.score, reliability: outcome.reliability, ms: Math.round(outcome.ms) });
        } else {
          counts.failed++;
          entries.push({ episode_id: outcome.episode_id, domain, index: i, status: 'failed', error: `${outcome.error.code}: ${outcome.error.message}`, ms: Math.round(outcome.ms) });
          if (outcome.error.fatal && !fatal) {
            fatal = { code: outcome.error.code, message: outcome.error.message };
            stop(outcome.error.message);
          }
        }
        emit({ type: 'episode', outcome, done: ++done, total });
      });
    }
  }
  await queue.onIdle();
  const seconds = (performance.now() - started) / 1000;
  options.signal?.removeEventListener('abort', onAbort);
  await pool.destroy();

  entries.sort((a, b) => (a.episode_id < b.episode_id ? -1 : 1));
  const contention: Record<string, LockStats> = Object.fromEntries([...merges].map(([d, m]) => [d, summarizeMerges(m)]));
  Object.assign(manifest, {
    status: fatal ? 'stopped' : stopReason !== undefined ? 'interrupted' : 'complete',
    finished_at: new Date().toISOString(),
    episodes: entries,
    timings: { seconds: Math.round(seconds * 1000) / 1000, episodesPerSec: Math.round((entries.length / seconds) * 10) / 10 },
    contention,
    ...(stopReason !== undefined ? { stop_reason: stopReason } : {}),
  } satisfies Partial<RunManifest>);

  const report = audit(await loadAuditInput(store, { runId, cap: experiment.cap }).then((input) => ({ ...input, manifests: [manifest] })));
  manifest.audit = report;
  await store.writeManifest(manifest);
  for (const d of experiment.domains) {
    await store.updateStats(d, (prev) => ({
      domain: d,
      updated_at: manifest.finished_at,
      runs: (typeof prev['runs'] === 'number' ? prev['runs'] : 0) + 1,
      episodes_merged: (typeof prev['episodes_merged'] === 'number' ? prev['episodes_merged'] : 0) + manifest.domains[d]!.completed,
      last_run: { run_id: runId, episodes: manifest.domains[d], contention: contention[d] },
    }));
  }
  return { manifest, report, ...(fatal ? { fatal } : {}) };
}
