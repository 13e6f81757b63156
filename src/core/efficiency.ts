/**
 * How much of a run's in-flight capacity went to the agents. Pure: times and
 * counts in, the figures the manifest records out.
 */

export interface EfficiencyInput {
  /** Play time of the episodes (the agents' own time, think time included), summed. */
  playMs: number;
  /** From the start of scheduling to the last acknowledgement. */
  wallMs: number;
  /** From the start of scheduling to the first episode's start (worker start-up); 0 when unknown. */
  startupMs: number;
  /** Episodes allowed in flight, over all processes. */
  concurrency: number;
  /** Episodes this run scheduled. */
  episodes: number;
}

export interface Efficiency {
  /** Slots that could ever be busy: a run of 600 episodes at concurrency 1000 never has more than 600 in flight. */
  lanes: number;
  /** playMs / (wall × lanes), 0..1: start-up counted. */
  efficiency: number;
  /** The same from the first episode's start: what the run wasted once agents could run. */
  afterStartup: number;
}

const share = (playMs: number, spanMs: number, lanes: number): number => (spanMs > 0 && lanes > 0 ? Math.min(1, Math.round((playMs / (spanMs * lanes)) * 1000) / 1000) : 0);

export function runEfficiency(input: EfficiencyInput): Efficiency {
  const lanes = Math.min(input.concurrency, input.episodes);
  const startupMs = Math.min(Math.max(0, input.startupMs), input.wallMs);
  return { lanes, efficiency: share(input.playMs, input.wallMs, lanes), afterStartup: share(input.playMs, input.wallMs - startupMs, lanes) };
}

/** The run summary's efficiency line; empty figures (an older manifest) print as 0. */
export function formatEfficiency(t: { concurrency?: number; lanes?: number; efficiency?: number; startupSeconds?: number; efficiencyAfterStartup?: number } = {}): string {
  const pct = (x: number | undefined): string => `${Math.round((x ?? 0) * 100)}%`;
  const lanes = t.lanes !== undefined && t.lanes !== t.concurrency ? ` (${t.lanes} lane${t.lanes === 1 ? '' : 's'}: one per episode)` : '';
  const after = t.startupSeconds !== undefined ? `; ${pct(t.efficiencyAfterStartup)} from the first episode's start, after ${t.startupSeconds.toFixed(3)} s of worker start-up` : '';
  return `concurrency ${t.concurrency}${lanes}, efficiency ${pct(t.efficiency)} (play time of the episodes / (wall time × lanes))${after}`;
}
