/**
 * Piscina task for `bench`: one writer thread merging observations into one
 * domain's playbook as fast as it can, from a start barrier shared by every
 * writer of its process (processes are lined up by the orchestrator).
 */
import { applyDeltas } from '../src/core/merge.js';
import { baselineMerge } from '../src/repro/original-fix.js';
import { overwriteUnlocked } from '../src/repro/unlocked.js';
import type { CommitReply, CommitRequest, WriterTask, WriterTimings } from '../src/bench/types.js';
import { benchDeltas, BENCH_DOMAIN } from '../src/bench/observations.js';
import { Store } from '../src/store/store.js';
import { openStore } from '../src/store/open.js';
import { nowUs } from '../src/bench/clock.js';

/** Unacknowledged merges a batched writer may have outstanding. */
const WINDOW = 32;

export default async function benchWriter(task: WriterTask): Promise<WriterTimings> {
  // The locked path goes through whichever backend the store value names; baseline and unlocked are the file store's.
  const backend = await openStore(task.store, { cap: task.cap, lock: task.lock });
  const store = new Store(task.store, { cap: task.cap, lock: task.lock });
  const file = store.playbookPath(BENCH_DOMAIN);
  const out: WriterTimings = { writer: task.writer, waitMs: [], holdMs: [], retries: 0, ackMs: [], keys: [], lastAckUs: 0, startedUs: 0 };
  // Batched merges awaiting their reply, and when their burst was handed over (an acknowledgement is timed
  // from then, not from when the merge joined the burst).
  const pending = new Map<number, { sentAt: number; onReply: (r: CommitReply, sentAt: number) => void }>();
  task.port?.on('message', (r: CommitReply) => {
    const p = pending.get(r.seq);
    pending.delete(r.seq);
    p?.onReply(r, p.sentAt);
  });

  // Warm up (module loading, first file handles, JIT) on a scratch domain, so the clock measures merges.
  await backend.merge(`warmup-${task.writer}`, benchDeltas(task.writer, -1));

  // The observations are made before the clock starts: it measures merging them, not playing episodes.
  const all = Array.from({ length: task.merges }, (_, i) => benchDeltas(task.writer, i));

  // Start together: block until every writer of this process has arrived and the process says go.
  const b = new Int32Array(task.barrier);
  Atomics.add(b, 0, 1);
  Atomics.notify(b, 0);
  while (Atomics.load(b, 1) === 0) Atomics.wait(b, 1, 0, 1_000);
  // Then sleep until the start time every process was given (the flag stays 1, so only the timeout wakes it).
  const atUs = new Float64Array(task.barrier, 8, 1)[0]!;
  for (let left = atUs - nowUs(); left > 0; left = atUs - nowUs()) Atomics.wait(b, 1, 1, left / 1000);
  out.startedUs = nowUs();

  const record = (r: { waitMs: number; holdMs: number; retries: number }, since: number): void => {
    out.waitMs.push(r.waitMs);
    out.holdMs.push(r.holdMs);
    out.retries += r.retries;
    out.ackMs.push(performance.now() - since);
  };
  // Batched: hand deltas to the committer and go on, like an episode worker does; at most WINDOW unacknowledged.
  // Everything the window allows goes in one message, as from a worker whose episodes finished together: sent
  // one by one, the first could wake the process's main thread alone and commit as a batch of one, so how
  // deltas were grouped would depend on thread wake-ups rather than on the store.
  const inFlight = new Set<Promise<void>>();
  let burst: CommitRequest[] = [];
  const flushBurst = (): void => {
    const now = performance.now();
    for (const req of burst) pending.get(req.seq)!.sentAt = now;
    if (burst.length) task.port!.postMessage(burst);
    burst = [];
  };
  for (let i = 0; i < task.merges; i++) {
    const deltas = all[i]!;
    const o = deltas.observations[0]!;
    out.keys.push({ episode_id: o.episode_id, reliability: o.reliability, score: o.score });
    const t0 = performance.now();
    if (task.method === 'baseline') record(await baselineMerge(file, deltas, task.cap), t0);
    else if (task.method === 'unlocked') {
      await overwriteUnlocked(store, BENCH_DOMAIN, applyDeltas(await store.readPlaybook(BENCH_DOMAIN), deltas, task.cap));
      record({ waitMs: 0, holdMs: performance.now() - t0, retries: 0 }, t0);
    } else if (task.commit !== 'each') {
      const ack = new Promise<void>((resolve, reject) => {
        pending.set(i, {
          sentAt: 0,
          onReply: (r, sentAt) => {
            if (r.error) reject(new Error(r.error));
            else {
              record(r, sentAt);
              resolve();
            }
          },
        });
      });
      burst.push({ seq: i, deltas });
      inFlight.add(ack);
      void ack.finally(() => inFlight.delete(ack)).catch(() => {});
      if (inFlight.size >= WINDOW) {
        flushBurst();
        await Promise.race(inFlight);
        // The rest of that batch's acknowledgements are already on their way: take them all before refilling.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } else record(await backend.merge(BENCH_DOMAIN, deltas), t0);
  }
  flushBurst();
  await Promise.all(inFlight);
  out.lastAckUs = nowUs();
  task.port?.close();
  await backend.close();
  return out;
}
