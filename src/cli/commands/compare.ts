/**
 * `ace-orch compare`: run one experiment per write mode (and repeat), each on
 * a fresh store with the same seeds, and show lost observations side by side;
 * or compare two saved reports (before and after a change).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { isPostgresUrl } from '../../store/backend.js';
import { assertNotMistypedUrl } from '../../store/open.js';
import { maskUrl } from '../../store/pg/url.js';
import { diffReports, lockedRunsClean, parseSavedReport, regressed } from '../../core/compare.js';
import { compareModes } from '../../run/compare-run.js';
import { checkWritePath, newRunId } from '../../run/coordinator.js';
import { BadInputError, UsageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { formatDiff, formatModeComparison } from '../format-compare.js';
import { count } from '../format.js';
import type { CommitMode, WriteMode } from '../../core/types.js';
import { parseJson } from '../../core/validate.js';
import { commitOption, experimentFromArgs, experimentOptions } from './experiment-args.js';
import type { ExperimentArgs } from './experiment-args.js';
import { intFlag } from './flags.js';
import type { Io } from './io.js';
import { prepareReport, reportComparison, reportDiff, reportOption } from './report-flag.js';
import { splitList } from './io.js';

export interface CompareArgs extends ExperimentArgs {
  files: string[];
  /** @default 'unlocked,locked'; 'locked' for a PostgreSQL --store */
  modes?: string;
  repeat: number;
  commit?: CommitMode;
  store?: string;
  json: boolean;
  report?: string;
}

const MODES: readonly WriteMode[] = ['unlocked', 'locked'];

export function compareBuilder<T>(y: Argv<T>) {
  return experimentOptions(
    y.positional('files', {
      type: 'string',
      array: true,
      describe: 'One experiment file to run per mode; or two saved reports (run manifests, or run/audit --json output) to diff',
    }),
  )
    .option('modes', { type: 'string', describe: 'Write modes to run, in column order: unlocked (pre-fix, file stores only), locked (default: unlocked,locked; locked for postgres://)' })
    .option('commit', commitOption)
    .option('repeat', { type: 'number', default: 1, coerce: intFlag('repeat'), describe: 'Runs per mode; cells then show min/median/max' })
    .option('store', {
      type: 'string',
      describe: 'Directory for the fresh stores, one per mode and repeat (default ./stores/compare-<time>); or postgres://user@host:5432/db[?schema=NAME]: one fresh schema NAME_<mode>_<repeat> each (NAME defaults to ace)',
    })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as one JSON object on stdout' })
    .option('report', reportOption);
}

async function readReport(file: string) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BadInputError(`report ${file} cannot be read: ${(err as Error).message}`, file);
  }
  return parseSavedReport(parseJson(text, file, 'report'), file);
}

async function compareReports(a: string, b: string, args: CompareArgs, io: Io): Promise<number> {
  const reportFile = await prepareReport(args.report);
  const [ra, rb] = [await readReport(a), await readReport(b)];
  const rows = diffReports(ra, rb);
  // A report without a run id is labelled by its file: say the file once.
  const name = (file: string, label: string): string => (label === file ? file : `${file} (${label})`);
  if (reportFile) await reportDiff(reportFile, { a: name(a, ra.label), b: name(b, rb.label), rows, regressed: regressed(rows) }, io);
  if (args.json) io.out(JSON.stringify({ a: ra.label, b: rb.label, domains: rows, regressed: regressed(rows) }));
  else {
    io.out(formatDiff(rows, name(a, ra.label), name(b, rb.label)));
    io.out('');
    io.out(regressed(rows) ? 'B loses more than A: regression.' : 'B loses no more than A.');
  }
  return regressed(rows) ? EXIT.loss : EXIT.ok;
}

export async function executeCompare(args: CompareArgs, io: Io, signal?: AbortSignal): Promise<number> {
  const files = args.files ?? [];
  if (files.length > 2) throw new UsageError(`compare takes one experiment file or two reports, got ${files.length} files`);
  if (files.length === 2) return compareReports(files[0]!, files[1]!, args, io);

  const pg = args.store !== undefined && isPostgresUrl(args.store);
  // Before the value becomes a directory path under which stores are made.
  if (args.store !== undefined && !pg) assertNotMistypedUrl(args.store);
  const modeList = args.modes ?? (pg ? 'locked' : 'unlocked,locked');
  const modes = splitList(modeList) ?? [];
  const bad = modes.filter((m) => !MODES.includes(m as WriteMode));
  if (!modes.length || bad.length) throw new BadInputError(`--modes: Expected a list of ${MODES.join(', ')}, got \`${modeList}\``);
  // Each mode's stores are named after it: a mode given twice would run once, then find its store taken.
  const twice = modes.filter((m, i) => modes.indexOf(m) !== i);
  if (twice.length) throw new BadInputError(`--modes: \`${twice[0]}\` is given twice in \`${modeList}\`; use --repeat N to run a mode N times`);
  // Before any store is created: --commit shared needs a file store.
  if (args.commit === 'shared') checkWritePath('locked', args.commit, pg ? 'postgres' : 'file', pg ? maskUrl(args.store!) : '');
  const experiment = await experimentFromArgs(files[0], args);
  const reportFile = await prepareReport(args.report);
  const base = pg ? args.store! : resolve(args.store ?? join('stores', `compare-${newRunId()}`));
  const shown = pg ? maskUrl(base) : base;

  const { comparison, fatal } = await compareModes({
    experiment,
    storeDir: base,
    modes: modes as WriteMode[],
    repeat: args.repeat,
    commit: args.commit,
    signal,
    onRun: (r) => io.progress(`compare: run ${r.n}/${r.total} (${r.mode}, repeat ${r.repeat}) ...`),
  });
  io.progress('');
  if (args.json) io.out(JSON.stringify({ ...comparison, stores: shown }));
  else {
    const where = experiment.processes > 1 ? `${experiment.processes} processes × ${experiment.threads} threads` : `${experiment.threads} threads`;
    io.out(`Compare ${experiment.name}: ${count(experiment.domains.length, 'domain')} × ${count(experiment.episodes, 'episode')} on ${where}, think time ${experiment.episodeMs} ms, seed ${experiment.seed}; stores under ${shown}`);
    io.out('');
    io.out(formatModeComparison(comparison, experiment.domains));
    const unlocked = comparison.modes['unlocked']?.runs ?? [];
    if (unlocked.length && unlocked.every((run) => run.zeroLoss)) {
      io.out('note: the unlocked mode lost nothing here; raise --episode-ms, --threads or --processes to widen the overlap between episodes');
    }
  }
  if (reportFile) await reportComparison(reportFile, comparison, base, io);
  if (fatal) {
    io.err(`ace-orch: ${fatal}`);
    return EXIT.usage;
  }
  if (signal?.aborted) return EXIT.interrupted;
  return lockedRunsClean(comparison) ? EXIT.ok : EXIT.loss;
}
