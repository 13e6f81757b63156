/**
 * The fixed benchmark matrix behind `npm run bench`: the original fix as the
 * baseline beside the store's locked merge and group commit, how merge cost
 * grows with episodes per domain, and how long an audit of a big store takes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { audit } from '../core/audit.js';
import { findDomain } from '../domains/index.js';
import { playEpisode } from '../core/episode.js';
import { emptyPlaybook } from '../core/merge.js';
import { loadAuditInput } from '../store/snapshot.js';
import { Store } from '../store/store.js';
import { runBench } from './run-bench.js';
import { runEpisodeRows } from './episodes.js';
import type { EpisodeRow } from './episodes.js';
import { loadavg } from 'node:os';
import type { BenchOptions, BenchResult } from './types.js';

export interface MatrixRow {
  label: string;
  result: BenchResult;
  /** Merges per second relative to the baseline of the same shape (or the 5 × 200 baseline). */
  vsBaseline: number | null;
}

export interface MatrixReport {
  rows: MatrixRow[];
  /** Milliseconds per merge for one writer as episodes per domain grow (the capped playbook stays small). */
  costPerMerge: { episodes: number; msPerMerge: number }[];
  audit: { episodeFiles: number; seconds: number };
  /** Whole episodes end to end beside the durable-file floor (src/bench/episodes.ts). */
  episodes: EpisodeRow[];
  /** 1-minute load average before and after: the machine may be shared, so ratios matter more than rates. */
  load: { before: number; after: number };
}

const SHAPES: [string, Partial<BenchOptions>][] = [
  ['baseline 5×4 in 5 processes', { method: 'baseline', writers: 5, processes: 5, merges: 4 }],
  ['each 5×4 in 5 processes', { writers: 5, processes: 5, merges: 4 }],
  ['shared 5×4 in 5 processes', { writers: 5, processes: 5, merges: 4, commit: 'shared' }],
  // The harness's floor for one write per merge in this shape: the pre-fix read-modify-write, no lock and no
  // fsync (it loses observations). Only a path that writes less often than once per merge can beat it.
  ['unlocked 5×4 in 5 processes (floor; loses)', { method: 'unlocked', writers: 5, processes: 5, merges: 4 }],
  ['baseline 5×200 in 5 processes', { method: 'baseline', writers: 5, processes: 5, merges: 200 }],
  ['each 5×200 in 5 processes', { writers: 5, processes: 5, merges: 200 }],
  ['batched 5×200 in 5 processes', { writers: 5, processes: 5, merges: 200, commit: 'batched' }],
  ['shared 5×200 in 5 processes', { writers: 5, processes: 5, merges: 200, commit: 'shared' }],
  ['shared 5 processes × 4 threads ×500', { writers: 20, processes: 5, merges: 500, commit: 'shared' }],
  ['each 1 writer ×200', { writers: 1, merges: 200 }],
  ['each 4 threads ×200', { writers: 4, merges: 200 }],
  ['each 8 threads ×200', { writers: 8, merges: 200 }],
  ['batched 1 writer ×500', { writers: 1, merges: 500, commit: 'batched' }],
  ['batched 4 threads ×500', { writers: 4, merges: 500, commit: 'batched' }],
  ['batched 8 threads ×500', { writers: 8, merges: 500, commit: 'batched' }],
];

/** Writes `n` realistic episode files (no fsync: this is setup, not the thing measured). */
function seedEpisodes(store: Store, n: number): void {
  const dir = store.episodesDir('hot_pot');
  mkdirSync(dir, { recursive: true });
  const domain = findDomain('hot_pot')!;
  for (let i = 0; i < n; i++) {
    const { record } = playEpisode({ runId: 'audit-bench', domain, index: i, seed: 1, prior: emptyPlaybook(), now: new Date().toISOString() });
    writeFileSync(join(dir, `${record.episode_id}.json`), JSON.stringify(record, null, 2));
  }
}

export async function runMatrix(scratch: string, onProgress: (line: string) => void = () => {}): Promise<MatrixReport> {
  const before = loadavg()[0]!;
  const rows: MatrixRow[] = [];
  let n = 0;
  for (const [label, shape] of SHAPES) {
    onProgress(`bench: ${label} (${++n}/${SHAPES.length})`);
    const result = await runBench(join(scratch, `row-${n}`), shape);
    const sameShape = rows.find((r) => r.result.method === 'baseline' && r.result.writers === result.writers && r.result.merges === result.merges);
    const reference = sameShape ?? rows.find((r) => r.label.startsWith('baseline 5×200'));
    rows.push({ label, result, vsBaseline: reference && result.method !== 'baseline' ? Math.round((result.mergesPerSec / reference.result.mergesPerSec) * 100) / 100 : null });
  }

  const costPerMerge: MatrixReport['costPerMerge'] = [];
  for (const episodes of [10, 1_000, 10_000]) {
    onProgress(`bench: merge cost at ${episodes} episodes per domain`);
    const r = await runBench(join(scratch, `cost-${episodes}`), { writers: 1, merges: episodes });
    costPerMerge.push({ episodes, msPerMerge: Math.round((r.seconds / episodes) * 1e6) / 1e3 });
  }

  onProgress('bench: audit of 10,000 episode files');
  const store = new Store(join(scratch, 'audit'));
  await store.init(['hot_pot']);
  seedEpisodes(store, 10_000);
  const t0 = performance.now();
  audit(await loadAuditInput(store));
  const seconds = Math.round(performance.now() - t0) / 1000;
  const episodes = await runEpisodeRows(join(scratch, 'episodes'), onProgress);
  const round2 = (x: number): number => Math.round(x * 100) / 100;
  return { rows, costPerMerge, audit: { episodeFiles: 10_000, seconds }, episodes, load: { before: round2(before), after: round2(loadavg()[0]!) } };
}
