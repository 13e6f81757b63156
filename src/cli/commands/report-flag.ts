/**
 * `--report FILE` of run and compare: the path is checked before the work starts, the page written at the end.
 * The report's modules (page, charts, sources) are imported only when a page is written: most runs write none.
 */
import type { SourceView } from '../../report/model.js';
import { checkOut } from '../../report/output.js';
import type { ModeComparison } from '../../core/compare.js';
import type { StoreBackend } from '../../store/backend.js';
import type { RunManifest } from '../../core/types.js';
import type { Io } from './io.js';

export const reportOption = {
  type: 'string',
  describe: 'Also write an HTML report (loss table, charts, timeline, playbooks) to this file at the end',
} as const;

/** Resolves and checks `--report` (bad input names it) before the run; undefined when not asked for. */
export async function prepareReport(path: string | undefined): Promise<string | undefined> {
  return path === undefined ? undefined : checkOut(path, '--report');
}

export async function reportRun(file: string, manifest: RunManifest, store: StoreBackend, io: Io): Promise<void> {
  const [{ runSource }, { writeReport }] = await Promise.all([import('../../report/load.js'), import('./report.js')]);
  await writeReport([await runSource(manifest, store)], file, `ace-orch run ${manifest.run_id}`, '--report');
  io.err(`report written to ${file}`);
}

export async function reportComparison(file: string, comparison: ModeComparison, storesDir: string, io: Io): Promise<void> {
  const [{ comparisonSource }, { writeReport }] = await Promise.all([import('../../report/load.js'), import('./report.js')]);
  await writeReport([await comparisonSource(comparison, storesDir)], file, 'ace-orch compare', '--report');
  io.err(`report written to ${file}`);
}

export async function reportDiff(file: string, diff: NonNullable<SourceView['diff']>, io: Io): Promise<void> {
  const [{ diffSource }, { writeReport }] = await Promise.all([import('../../report/assemble.js'), import('./report.js')]);
  await writeReport([diffSource('compare A B', { kind: 'diff-json', ...diff })], file, 'ace-orch compare A B', '--report');
  io.err(`report written to ${file}`);
}
