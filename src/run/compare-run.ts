/**
 * Runs one experiment per write mode (and repeat), each on a fresh store with
 * the same seeds, and collects the loss counts: the work of `ace-orch compare`.
 * The stores are directories under one directory, or schemas of one
 * PostgreSQL database named after one base schema.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { countsOf } from '../core/compare.js';
import type { ModeComparison } from '../core/compare.js';
import { runExperiment } from './coordinator.js';
import { BadInputError } from '../core/errors.js';
import { isPostgresUrl } from '../store/backend.js';
import { openStore } from '../store/open.js';
import type { CommitMode, ExperimentConfig, WriteMode } from '../core/types.js';

/** Options of {@link compareModes}. */
export interface CompareModesOptions {
  experiment: ExperimentConfig;
  /**
   * Directory that receives one fresh store per mode and repeat, named `<mode>-<repeat>`; or a
   * `postgres://` URL whose schema NAME (default `ace`) names one fresh schema per mode and repeat,
   * `NAME_<mode>_<repeat>`. PostgreSQL runs only the locked mode: the unlocked one reproduces the
   * file store's pre-fix write path.
   */
  storeDir: string;
  /** Write modes, in column order. @default ['unlocked', 'locked']; ['locked'] on PostgreSQL */
  modes?: readonly WriteMode[];
  /** Runs per mode. @default 1 */
  repeat?: number;
  /** How locked runs commit merges. @default 'batched' */
  commit?: CommitMode;
  /** Stops after the runs in flight; their counts are kept. @default undefined */
  signal?: AbortSignal;
  /** Called before each run starts, with its 1-based number out of `total`. @default undefined */
  onRun?: (run: { n: number; total: number; mode: WriteMode; repeat: number; store: string }) => void;
}

/** What {@link compareModes} returns: the counts per mode, and the message of a run that stopped on bad input. */
export interface CompareModesResult {
  comparison: ModeComparison;
  /** Set when a run stopped on bad input or a lock timeout; no further run was started. */
  fatal?: string;
}

/** In order, so that the message names the first store that is not fresh. */
async function assertFreshDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => []);
    if (names.length) throw new BadInputError(`--store: ${dir} is not empty; compare needs fresh stores and never reuses or wipes one`, dir);
  }
}

/** Where each run's store goes, and a check that stores are fresh. Loads the PostgreSQL client only for a URL. */
async function storePlaces(base: string, modes: readonly WriteMode[]): Promise<{ place: (mode: WriteMode, r: number) => string; assertFresh: (stores: readonly string[]) => Promise<void> }> {
  if (!isPostgresUrl(base)) return { place: (mode, r) => join(base, `${mode}-${r}`), assertFresh: assertFreshDirs };
  if (modes.includes('unlocked')) throw new BadInputError(UNLOCKED_ON_PG);
  const { assertFreshPgStores, pgStoreUnder } = await import('../store/pg/schemas.js');
  return { place: (mode, r) => pgStoreUnder(base, mode, r), assertFresh: (urls) => assertFreshPgStores(urls, 'compare') };
}

/** Why compare runs only the locked mode on PostgreSQL. */
const UNLOCKED_ON_PG =
  '--modes unlocked: the unlocked mode reproduces the file store\'s pre-fix read-modify-write of playbook.json; a PostgreSQL store has no such write path (every merge locks its row), so give --modes locked';

/** Runs the experiment once per mode and repeat, each on a fresh store under `storeDir`; refuses a non-empty one. */
export async function compareModes(options: CompareModesOptions): Promise<CompareModesResult> {
  const { experiment, signal } = options;
  const modes = options.modes ?? (isPostgresUrl(options.storeDir) ? ['locked'] : ['unlocked', 'locked']);
  const repeat = options.repeat ?? 1;
  const comparison: ModeComparison = { modes: Object.fromEntries(modes.map((m) => [m, { runs: [] }])) };
  let n = 0;
  let fatal: string | undefined;
  const places = await storePlaces(options.storeDir, modes);
  const runs = Array.from({ length: repeat }, (_, i) => modes.map((mode) => ({ mode, r: i + 1, place: places.place(mode, i + 1) }))).flat();
  // Every store is checked before the first run, so bad input writes nothing; each is checked again
  // just before its run, as another process may have made it meanwhile.
  await places.assertFresh(runs.map((run) => run.place));
  for (const { mode, r, place } of runs) {
    if (signal?.aborted || fatal) break;
    await places.assertFresh([place]);
    const store = await openStore(place, { cap: experiment.cap });
    options.onRun?.({ n: ++n, total: runs.length, mode, repeat: r, store: store.location });
    // Unlocked runs do no commit: --commit is the locked runs'.
    const result = await runExperiment({ experiment, store, mode, ...(mode === 'locked' ? { commit: options.commit } : {}), signal }).finally(() => store.close());
    fatal = result.fatal?.message;
    comparison.modes[mode]!.runs.push(countsOf(result.report));
  }
  return fatal ? { comparison, fatal } : { comparison };
}
