/**
 * Runs one experiment per write mode (and repeat), each on a fresh store with
 * the same seeds, and collects the loss counts: the work of `ace-orch compare`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { countsOf } from './compare.js';
import type { ModeComparison } from './compare.js';
import { runExperiment } from './coordinator.js';
import { BadInputError } from './errors.js';
import { Store } from './store/store.js';
import type { CommitMode, ExperimentConfig, WriteMode } from './types.js';

/** Options of {@link compareModes}. */
export interface CompareModesOptions {
  experiment: ExperimentConfig;
  /** Directory that receives one fresh store per mode and repeat, named `<mode>-<repeat>`. */
  storeDir: string;
  /** Write modes, in column order. @default ['unlocked', 'locked'] */
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

async function assertFresh(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => []);
  if (names.length) throw new BadInputError(`--store: ${dir} is not empty; compare needs fresh stores and never reuses or wipes one`, dir);
}

/** Runs the experiment once per mode and repeat, each on a fresh store under `storeDir`; refuses a non-empty one. */
export async function compareModes(options: CompareModesOptions): Promise<CompareModesResult> {
  const { experiment, signal } = options;
  const modes = options.modes ?? ['unlocked', 'locked'];
  const repeat = options.repeat ?? 1;
  const comparison: ModeComparison = { modes: Object.fromEntries(modes.map((m) => [m, { runs: [] }])) };
  const total = modes.length * repeat;
  let n = 0;
  let fatal: string | undefined;
  for (let r = 1; r <= repeat && !signal?.aborted && !fatal; r++) {
    for (const mode of modes) {
      if (signal?.aborted || fatal) break;
      const dir = join(options.storeDir, `${mode}-${r}`);
      await assertFresh(dir);
      options.onRun?.({ n: ++n, total, mode, repeat: r, store: dir });
      const result = await runExperiment({ experiment, store: new Store(dir, { cap: experiment.cap }), mode, commit: options.commit, signal });
      fatal = result.fatal?.message;
      comparison.modes[mode]!.runs.push(countsOf(result.report));
    }
  }
  return fatal ? { comparison, fatal } : { comparison };
}
