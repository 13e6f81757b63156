/**
 * The run's start gate: `--rate N` episode attempts per second across every
 * process of the run. The coordinator owns the one limiter (p-queue in strict,
 * sliding-window mode, so no rolling second holds more than N starts); shard
 * processes ask it for each start over IPC.
 */
import PQueue from 'p-queue';

/** Resolves when an attempt may start, with the start's time (ms since the epoch) as the limiter counted it. */
export type StartGate = () => Promise<number>;

export function rateGate(perSecond: number): StartGate {
  const queue = new PQueue({ interval: 1000, intervalCap: perSecond, strict: true });
  return () => queue.add(() => Date.now());
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
