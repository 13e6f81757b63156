/** The observations `bench` merges: realistic in size and shape, deterministic per (writer, index). */
import { findDomain } from '../domains/index.js';
import { playEpisode } from '../core/episode.js';
import { emptyPlaybook } from '../core/merge.js';
import type { Deltas } from '../core/types.js';

export const BENCH_DOMAIN = 'hot_pot';

export function benchDeltas(writer: number, index: number): Deltas {
  const { deltas } = playEpisode({
    runId: `bench-w${String(writer).padStart(3, '0')}`,
    domain: findDomain(BENCH_DOMAIN)!,
    index,
    seed: writer,
    prior: emptyPlaybook(),
    now: new Date().toISOString(),
  });
  return deltas;
}
