/**
 * The run's start gate: `--rate N` episode attempts per second across every
 * process of the run. The coordinator owns the one limiter (p-queue in strict,
 * sliding-window mode, so no rolling second holds more than N starts); shard
 * processes ask it for each start over IPC.
 */
import PQueue from 'p-queue';
import { setTimeout as sleep } from 'node:timers/promises';
import { epochMs } from './episode-clock.js';

/** Resolves when an attempt may start, with the start's time (ms since the epoch) as the limiter counted it. */
export type StartGate = () => Promise<number>;

export function rateGate(perSecond: number): StartGate {
  // One grant at a time, so that the check below sees every earlier grant.
  const queue = new PQueue({ interval: 1000, intervalCap: perSecond, strict: true, concurrency: 1 });
  /** The last `perSecond` granted start times, oldest first. */
  const granted: number[] = [];
  return () =>
    queue.add(async () => {
      // p-queue spaces starts by its own readings of the wall clock, which a busy machine's clock can step;
      // the times granted (the manifest's started_at) come from the monotonic clock and are held to the
      // bound themselves: the N-th grant after any other is at least a second later.
      let at = Math.floor(epochMs());
      const oldest = granted.length === perSecond ? granted[0]! : undefined;
      while (oldest !== undefined && at - oldest < 1000) {
        await sleep(1000 - (at - oldest));
        at = Math.floor(epochMs());
      }
      granted.push(at);
      if (granted.length > perSecond) granted.shift();
      return at;
    });
}

/** A shard's side: each start is a request to the coordinator, answered with the granted time. */
export function remoteGate(request: (id: number) => void): { gate: StartGate; granted: (id: number, at: number) => void } {
  const waiting = new Map<number, (at: number) => void>();
  let next = 0;
  return {
    gate: () =>
      new Promise<number>((resolve) => {
        const id = next++;
        waiting.set(id, resolve);
        request(id);
      }),
    granted: (id, at) => {
      waiting.get(id)?.(at);
      waiting.delete(id);
    },
  };
}
