/**
 * Wall-clock stamps of an episode, taken where it runs (a worker thread,
 * maybe in a shard process) and turned into its manifest `trace` by the
 * coordinator. Epoch milliseconds, so stamps from different processes line up.
 */
import type { MergeTiming } from './messages.js';
import type { EpisodeTrace } from '../core/types.js';

/** Stamps carried in an episode's outcome message. */
export interface EpisodeClock {
  pid: number;
  thread: number;
  start: number;
  played?: number;
  acked?: number;
}

/** Epoch ms with sub-ms resolution (performance.now alone has a per-thread origin). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

const round = (x: number): number => Math.round(x * 10) / 10;

/** The manifest trace of an episode, relative to `origin` (epoch ms); undefined when no stamps came back. */
export function episodeTrace(clock: EpisodeClock | undefined, origin: number, merge?: MergeTiming): EpisodeTrace | undefined {
  if (!clock) return undefined;
  const acked = clock.acked ?? clock.played ?? clock.start;
  return {
    pid: clock.pid,
    thread: clock.thread,
    start_ms: round(clock.start - origin),
    ...(clock.played !== undefined ? { played_ms: round(clock.played - origin) } : {}),
    acked_ms: round(acked - origin),
    ...(merge ? { lock: { wait_ms: round(merge.waitMs), hold_ms: round(merge.holdMs), batch: merge.batch ?? 1 } } : {}),
  };
}
