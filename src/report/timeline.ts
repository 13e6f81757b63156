/** The run's timeline: episodes on process/thread lanes, and how busy the lanes were. Pure. */
import type { EpisodeEntry, EpisodeStatus } from '../core/types.js';
import type { RunView } from './model.js';

export interface TimelineBar {
  lane: string;
  episode: string;
  domain: string;
  status: EpisodeStatus;
  start: number;
  /** End of play and think time; equals `start` when the episode failed before. */
  played: number;
  acked: number;
}

export interface Timeline {
  bars: TimelineBar[];
  lanes: string[];
  /** Lanes the run had (processes × threads), whether or not each ran an episode. */
  capacity: number;
  /** From the moment scheduling began to the last acknowledgement, ms. */
  spanMs: number;
  /** Before the first episode started (pool and module start-up), ms. */
  startupMs: number;
  /** Sum of every episode's play and think time, ms. */
  playMs: number;
  /** playMs / (capacity × (spanMs − startupMs)): the share of the lanes' time spent playing, from the first start to the last acknowledgement. */
  efficiency: number;
  /** The same counting worker start-up: playMs / (capacity × spanMs). */
  overallEfficiency: number;
  /** Time some episode of each lane was between its start and its acknowledgement, summed over lanes, ms. */
  busyMs: number;
  /** busyMs / (capacity × (spanMs − startupMs)): how full the lanes were, commits included. */
  occupancy: number;
  /** Episodes without a trace (older manifests, or lost with their process). */
  untraced: number;
}

function laneName(pid: number, thread: number): string {
  return `pid ${pid} · thread ${thread}`;
}

/** Length of the union of intervals (under group commit a lane's episodes overlap: the next plays while the last commits). */
export function unionLength(intervals: readonly [number, number][]): number {
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of [...intervals].sort((x, y) => x[0] - y[0])) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

/** Null when no episode of the run carries a trace. */
export function timelineOf(run: RunView): Timeline | null {
  const traced = run.episodes.filter((e): e is EpisodeEntry & { trace: NonNullable<EpisodeEntry['trace']> } => e.trace !== undefined);
  if (traced.length === 0) return null;
  const bars = traced
    .map((e) => ({
      lane: laneName(e.trace.pid, e.trace.thread),
      pid: e.trace.pid,
      thread: e.trace.thread,
      episode: e.episode_id,
      domain: e.domain,
      status: e.status,
      start: e.trace.start_ms,
      played: e.trace.played_ms ?? e.trace.start_ms,
      acked: e.trace.acked_ms,
    }))
    .sort((a, b) => a.pid - b.pid || a.thread - b.thread || a.start - b.start);
  const lanes = [...new Set(bars.map((b) => b.lane))];
  const configured = run.config ? run.config.threads * run.config.processes : 0;
  const capacity = Math.max(configured, lanes.length);
  const spanMs = Math.max(...bars.map((b) => b.acked));
  const playMs = bars.reduce((n, b) => n + (b.played - b.start), 0);
  const startupMs = Math.min(...bars.map((b) => b.start));
  const busyMs = lanes.reduce((n, lane) => n + unionLength(bars.filter((b) => b.lane === lane).map((b) => [b.start, b.acked])), 0);
  const share = (ms: number, of = playMs): number => (ms > 0 ? Math.min(1, of / (capacity * ms)) : 0);
  return {
    bars: bars.map(({ pid: _pid, thread: _thread, ...bar }) => bar),
    lanes,
    capacity,
    spanMs,
    startupMs,
    playMs,
    efficiency: share(spanMs - startupMs),
    overallEfficiency: share(spanMs),
    busyMs,
    occupancy: share(spanMs - startupMs, busyMs),
    untraced: run.episodes.length - traced.length,
  };
}
