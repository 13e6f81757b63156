/** `ace-orch report`: one self-contained HTML page from stores, run manifests and --json outputs. */
import type { Argv } from 'yargs';
import { EXIT } from '../../core/exit-codes.js';
import { renderReport } from '../../report/html.js';
import { loadSources } from '../../report/load.js';
import type { SourceView } from '../../report/model.js';
import { checkOut, writeReportFile } from '../../report/output.js';
import type { Io } from './io.js';

export interface ReportArgs {
  sources: string[];
  out: string;
  title?: string;
}

const DEFAULT_REPORT = 'ace-orch-report.html';

export function reportBuilder<T>(y: Argv<T>) {
  return y
    .positional('sources', {
      type: 'string',
      array: true,
      // yargs gives a variadic positional the default [], and its help would show it beside [required].
      default: undefined,
      describe: 'Store directories or postgres://user@host:5432/db[?schema=NAME] stores, run manifests (runs/<id>.json), or the --json output of run, audit or compare; several are shown side by side',
    })
    .option('out', { type: 'string', default: DEFAULT_REPORT, describe: 'HTML file to write; an existing file is replaced only if it is an ace-orch report' })
    .option('title', { type: 'string', describe: 'Page title (default: "ace-orch report")' });
}

/** Renders the page and writes it to `file` (already checked by checkOut). */
export async function writeReport(sources: SourceView[], file: string, title = 'ace-orch report', flag = '--out'): Promise<void> {
  const html = await renderReport({ title, generatedAt: new Date().toISOString(), sources });
  await writeReportFile(file, html, flag);
}

export async function executeReport(args: ReportArgs, io: Io): Promise<number> {
  const file = await checkOut(args.out);
  io.progress(`report: reading ${args.sources.length} source${args.sources.length === 1 ? '' : 's'} ...`);
  const sources = await loadSources(args.sources);
  io.progress('report: rendering charts ...');
  await writeReport(sources, file, args.title);
  io.progress('');
  io.out(`report written to ${file}`);
  return EXIT.ok;
}
