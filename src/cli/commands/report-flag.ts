/** `--report FILE` of run and compare: the path is checked before the work starts, the page written at the end. */
import { diffSource } from '../../report/assemble.js';
import { comparisonSource, runSource } from '../../report/load.js';
import type { SourceView } from '../../report/model.js';
import { checkOut } from '../../report/output.js';
import type { ModeComparison } from '../../core/compare.js';
import type { StoreBackend } from '../../store/backend.js';
import type { RunManifest } from '../../core/types.js';
import type { Io } from './io.js';
import { writeReport } from './report.js';

export const reportOption = {
  type: 'string',
  describe: 'Also write an HTML report (loss table, charts, timeline, playbooks) to this file at the end',
} as const;

/** Resolves and checks `--report` (bad input names it) before the run; undefined when not asked for. */
export async function prepareReport(path: string | undefined): Promise<string | undefined> {
  return path === undefined ? undefined : checkOut(path, '--report');
}

export async function reportRun(file: string, manifest: RunManifest, store: StoreBackend, io: Io): Promise<void> {
  await writeReport([await runSource(manifest, store)], file, `ace-orch run ${manifest.run_id}`, '--report');
  io.err(`report written to ${file}`);
}

export async function reportComparison(file: string, comparison: ModeComparison, storesDir: string, io: Io): Promise<void> {
  await writeReport([await comparisonSource(comparison, storesDir)], file, 'ace-orch compare', '--report');
  io.err(`report written to ${file}`);
}

export async function reportDiff(file: string, diff: NonNullable<SourceView['diff']>, io: Io): Promise<void> {
  await writeReport([diffSource('compare A B', { kind: 'diff-json', ...diff })], file, 'ace-orch compare A B', '--report');
  io.err(`report written to ${file}`);
}
