/** Tables for `bench --pg`. */
import { markdownTable } from '../cli/format.js';
import type { PgBenchReport } from './pg-bench.js';

export function formatPgBench(r: PgBenchReport): string {
  const m = (label: string, x: PgBenchReport['merges']['file']) => [label, x.merges, x.seconds, x.mergesPerSec, x.lockWaitMs.p50, x.lockWaitMs.p99, x.lost];
  return [
    'Merges into one playbook, 5 processes × 1 writer × 200 merges, group commit:',
    '',
    markdownTable(['Store', 'Merges', 'Seconds', 'Merges/s', 'Wait p50 ms', 'Wait p99 ms', 'Lost'], [m('file', r.merges.file), m('postgres', r.merges.postgres)]),
    '',
    'Episodes through pg-boss (first claim to last completion; worker start-up excluded):',
    '',
    markdownTable(
      ['Workers', 'Concurrency', 'Episode ms', 'Episodes', 'Seconds', 'Episodes/s', 'Efficiency'],
      r.queue.map((q) => [q.workers, q.concurrency, q.episodeMs, q.episodes, q.seconds, q.episodesPerSec, q.efficiency === null ? '' : `${Math.round(q.efficiency * 100)}%`]),
    ),
  ].join('\n');
}
