/**
 * A `bench` process: its share of the writer threads on one Piscina pool, a
 * group committer for batched mode, and a start barrier released by the
 * orchestrator's "go" so that every process starts at once.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { siblingModule, workerExecArgv } from '../run/module-file.js';
import { GroupCommitter } from '../store/committer.js';
import { lockTurnsWorkerData } from '../store/local-turns.js';
import { openStore } from '../store/open.js';
import { BENCH_DOMAIN, benchDeltas } from './observations.js';
import { BENCH_JOB_ENV } from './types.js';
import { sendToParent } from '../run/parent-ipc.js';
import type { BenchJob, CommitReply, CommitRequest, FromBenchProcess, ToBenchProcess, WriterTask, WriterTimings } from './types.js';

const job = JSON.parse(process.env[BENCH_JOB_ENV]!) as BenchJob;
const send = (msg: FromBenchProcess): void => {
  process.send?.(msg);
};

const pool = new Piscina<WriterTask, WriterTimings>({
  filename: siblingModule(import.meta.url, '../../workers/bench-writer').href,
  execArgv: workerExecArgv(),
  workerData: lockTurnsWorkerData(),
  minThreads: job.writers.length,
  maxThreads: job.writers.length,
});
const committer = new GroupCommitter(await openStore(job.store, { cap: job.cap, lock: job.lock, shareCommits: job.commit === 'shared' }));
// Warm the committer's path too (as each writer thread warms its own), on a scratch domain of this process.
if (job.commit !== 'each' && job.method === 'locked') await committer.submit(`warmup-p${process.pid}`, benchDeltas(job.writers[0]!, -1));
const barrier = new SharedArrayBuffer(16);
const b = new Int32Array(barrier);

const runs = job.writers.map((writer) => {
  let port: MessageChannel | undefined;
  if (job.commit !== 'each' && job.method === 'locked') {
    port = new MessageChannel();
    const p = port.port1;
    // A writer hands over everything it has in one message (workers/bench-writer.ts): submitted in one turn, one batch.
    p.on('message', (reqs: CommitRequest[]) => {
      for (const req of reqs) {
        committer.submit(BENCH_DOMAIN, req.deltas).then(
          (r) => p.postMessage({ seq: req.seq, waitMs: r.waitMs, holdMs: r.holdMs, retries: r.retries } satisfies CommitReply),
          (err: Error) => p.postMessage({ seq: req.seq, waitMs: 0, holdMs: 0, retries: 0, error: err.message } satisfies CommitReply),
        );
      }
    });
  }
  const { writers: _all, ...common } = job;
  const task: WriterTask = { ...common, writer, barrier, parties: job.writers.length, ...(port ? { port: port.port2 } : {}) };
  return pool.run(task, port ? { transferList: [port.port2] } : {}).finally(() => port?.port1.close());
});

// Ready once every writer thread is parked at the barrier.
const waitReady = setInterval(() => {
  if (Atomics.load(b, 0) >= job.writers.length) {
    clearInterval(waitReady);
    send({ type: 'ready' });
  }
}, 2);

process.on('message', (msg: ToBenchProcess) => {
  if (msg.type !== 'go') return;
  new Float64Array(barrier, 8, 1)[0] = msg.atUs;
  Atomics.store(b, 1, 1);
  Atomics.notify(b, 1);
});

// The report is delivered before the channel closes: see src/run/parent-ipc.ts.
Promise.all(runs).then(
  async (timings) => {
    await sendToParent({ type: 'done', timings } satisfies FromBenchProcess);
    await pool.destroy();
    process.disconnect?.();
  },
  async (err: Error) => {
    await sendToParent({ type: 'error', message: err.message } satisfies FromBenchProcess);
    await pool.destroy();
    process.disconnect?.();
  },
);
