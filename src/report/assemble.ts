/** Builds a report's sources from what was read. Pure: load.ts and the run and compare commands do the reading. */
import type { AuditReport, RunManifest } from '../core/types.js';
import type { Classified } from './classify.js';
import type { LossTable, RunView, SourceView } from './model.js';

/** A store with many runs shows its latest this many. */
const MAX_RUNS = 10;

type Playbooks = SourceView['playbooks'];

function lossTable(report: AuditReport): LossTable {
  return { scope: report.runId ? `run ${report.runId}` : `store ${report.store}`, zeroLoss: report.zeroLoss, rows: report.domains };
}

function runView(m: RunManifest): RunView {
  return {
    runId: m.run_id,
    mode: m.mode,
    commit: m.commit,
    status: m.status,
    startedAt: m.started_at,
    finishedAt: m.finished_at,
    timings: m.timings,
    config: m.config,
    stopReason: m.stop_reason,
    ...(m.resumed_at?.length ? { resumedAt: m.resumed_at } : {}),
    contention: m.contention ?? {},
    episodes: m.episodes ?? [],
  };
}

function latest(manifests: readonly RunManifest[]): { runs: RunView[]; runsOmitted: number } {
  const sorted = [...manifests].sort((a, b) => (a.started_at < b.started_at ? -1 : 1));
  const kept = sorted.slice(-MAX_RUNS);
  return { runs: kept.map(runView), runsOmitted: sorted.length - kept.length };
}

/** A store: today's audit of the whole store, its latest runs, its playbooks. */
export function storeSource(label: string, report: AuditReport, manifests: readonly RunManifest[], playbooks: Playbooks): SourceView {
  return { label, kind: 'store', loss: lossTable(report), ...latest(manifests), playbooks, storeDir: report.store };
}

/** A run manifest: the audit it recorded at the end of the run. */
export function manifestSource(label: string, manifest: RunManifest, playbooks: Playbooks = [], storeDir?: string): SourceView {
  return {
    label,
    kind: 'manifest',
    ...(manifest.audit ? { loss: lossTable(manifest.audit) } : {}),
    runs: [runView(manifest)],
    runsOmitted: 0,
    playbooks,
    ...(storeDir ? { storeDir } : {}),
  };
}

/**
 * The `--json` output of run or audit. `manifest` is the run's manifest when
 * its store is still there: it adds the timeline and the failures.
 */
export function reportJsonSource(label: string, c: Classified & { kind: 'run-json' | 'audit-json' }, manifest: RunManifest | undefined, playbooks: Playbooks): SourceView {
  let runs: RunView[] = [];
  if (manifest) runs = [runView(manifest)];
  else if (c.kind === 'run-json' && c.run) {
    runs = [{ runId: c.report.runId, mode: c.run.mode, status: c.run.status, timings: c.run.timings, contention: c.run.contention ?? {}, episodes: [] }];
  }
  return { label, kind: c.kind, loss: lossTable(c.report), runs, runsOmitted: 0, playbooks, ...(c.report.store ? { storeDir: c.report.store } : {}) };
}

/** The `--json` output of `compare` run mode: the table per mode, and the runs of the stores it made when they are still there. */
export function compareSource(label: string, c: Classified & { kind: 'compare-json' }, manifests: readonly RunManifest[]): SourceView {
  const domains = [...new Set(Object.values(c.comparison.modes).flatMap((m) => m.runs.flatMap((r) => r.domains.map((d) => d.domain))))];
  return { label, kind: 'compare-json', modes: { comparison: c.comparison, domains }, ...latest(manifests), playbooks: [], ...(c.stores ? { storeDir: c.stores } : {}) };
}

export function diffSource(label: string, c: Classified & { kind: 'diff-json' }): SourceView {
  return { label, kind: 'diff-json', diff: { a: c.a, b: c.b, rows: c.rows, regressed: c.regressed }, runs: [], runsOmitted: 0, playbooks: [] };
}
