/**
 * Whole episodes end to end beside the file-system floor they are measured
 * against: one thread making episode-sized files durable one by one, and in
 * groups of 50 (parallel fsyncs, one directory fsync). The runs are real
 * `runExperiment` runs (worker threads, episode files, merges) and each is
 * audited: a lost observation shows in its row.
 */
import { join } from 'node:path';
import { runExperiment } from '../run/coordinator.js';
import { findDomain } from '../domains/index.js';
import { playEpisode } from '../core/episode.js';
import { emptyPlaybook } from '../core/merge.js';
import { createFilesDurable } from '../store/durable-batch.js';
import { createFileDurable } from '../store/durable.js';
import { Store } from '../store/store.js';
import type { CommitMode } from '../core/types.js';

export interface EpisodeRow {
  label: string;
  perSec: number;
  /** Relative to one thread making single files durable one by one, measured in the same invocation. */
  vsOneByOne: number | null;
  /** Observations the audit found missing (whole-episode rows only; 0 for file rows). */
  lost: number;
}

/** How much each row does. */
export interface EpisodeRowSizes {
  /** Files for the floor rows. */
  files: number;
  /** Episodes per whole run: enough that the worker threads' start-up (~0.1 s, inside the run's time) does not decide the row. */
  episodes: number;
}

const EPISODE_ROW_SIZES: EpisodeRowSizes = { files: 300, episodes: 1000 };
const GROUP = 50;

function episodeTexts(n: number): { name: string; data: string }[] {
  const domain = findDomain('hot_pot')!;
  return Array.from({ length: n }, (_, i) => {
    const { record } = playEpisode({ runId: 'bench-files', domain, index: i, seed: 1, prior: emptyPlaybook(), now: new Date().toISOString() });
    return { name: `${record.episode_id}.json`, data: `${JSON.stringify(record, null, 2)}\n` };
  });
}

async function filesPerSec(dir: string, grouped: boolean, n: number): Promise<number> {
  const store = new Store(dir);
  await store.init(['hot_pot']);
  const files = episodeTexts(n).map((f) => ({ file: join(store.episodesDir('hot_pot'), f.name), data: f.data, onConflict: () => new Error(`${f.name} exists`) }));
  const t0 = performance.now();
  if (grouped) {
    for (let i = 0; i < files.length; i += GROUP) {
      const failed = (await createFilesDurable(files.slice(i, i + GROUP))).find((r) => r instanceof Error);
      if (failed) throw failed;
    }
  } else for (const f of files) createFileDurable(f.file, f.data, f.onConflict);
  return Math.round(files.length / ((performance.now() - t0) / 1000));
}

async function episodesPerSec(dir: string, shape: Shape, episodes: number): Promise<{ perSec: number; lost: number }> {
  const store = new Store(dir);
  const { threads, concurrency, commit } = shape;
  const { manifest, report } = await runExperiment({
    experiment: { name: 'bench-episodes', domains: ['hot_pot'], episodes, threads, concurrency, processes: 1, episodeMs: 0, cap: 10, seed: 1 },
    store,
    commit,
  });
  const failed = manifest.episodes?.filter((e) => e.status !== 'ok').length ?? 0;
  if (failed) throw new Error(`bench: ${failed} episodes failed in ${dir}`);
  return { perSec: Math.round(episodes / manifest.timings!.seconds), lost: report.domains.reduce((n, d) => n + d.lost, 0) };
}

interface Shape {
  label: string;
  threads: number;
  /** Episodes in flight (`--concurrency`); one per thread unless given. */
  concurrency: number;
  commit: CommitMode;
}

const shape = (commit: CommitMode, threads: number, concurrency = threads): Shape => ({
  label: `whole episodes, ${commit}, ${threads} thread${threads > 1 ? 's' : ''}${concurrency > threads ? `, ${concurrency} in flight` : ''}`,
  threads,
  concurrency,
  commit,
});

// One episode per thread, as before --concurrency; then many in flight on 2 threads, which is how
// agent runs are meant to go and what gives the group committer whole batches to make durable.
const SHAPES: Shape[] = [shape('each', 1), shape('each', 2), shape('batched', 1), shape('batched', 2), shape('batched', 4), shape('batched', 2, 16), shape('batched', 2, 64)];

/** The file floor, then whole runs of `sizes.episodes` episodes with --episode-ms 0; ratios against the one-by-one floor. */
export async function runEpisodeRows(scratch: string, onProgress: (line: string) => void, sizes: EpisodeRowSizes = EPISODE_ROW_SIZES): Promise<EpisodeRow[]> {
  onProgress(`bench: ${sizes.files} durable files one by one, then in groups of ${GROUP}`);
  const floor = await filesPerSec(join(scratch, 'files-one'), false, sizes.files);
  const rows: EpisodeRow[] = [
    { label: `durable files one by one, 1 thread (floor)`, perSec: floor, vsOneByOne: null, lost: 0 },
    { label: `durable files ${GROUP} at a time, parallel fsyncs`, perSec: await filesPerSec(join(scratch, 'files-group'), true, sizes.files), vsOneByOne: null, lost: 0 },
  ];
  for (const [i, s] of SHAPES.entries()) {
    onProgress(`bench: ${s.label} (${i + 1}/${SHAPES.length})`);
    rows.push({ label: s.label, ...(await episodesPerSec(join(scratch, `episodes-${i}`), s, sizes.episodes)), vsOneByOne: null });
  }
  return rows.map((r, i) => (i === 0 ? r : { ...r, vsOneByOne: Math.round((r.perSec / floor) * 100) / 100 }));
}
