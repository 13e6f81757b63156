/**
 * A `chaos` writer process: runs its writer threads on a Piscina pool and
 * relays messages between them and the orchestrator. The orchestrator kills
 * and pauses this whole process.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { siblingModule, workerExecArgv } from '../run/module-file.js';
import { sendToParent } from '../run/parent-ipc.js';
import { GroupCommitter } from '../store/committer.js';
import { lockTurnsWorkerData } from '../store/local-turns.js';
import { openStore } from '../store/open.js';
import { faultPark } from './fault-park.js';
import { CHAOS_JOB_ENV } from './messages.js';
import type { CommitAsk, FromWriter, ToThread, ToWriter, WriterJob } from './messages.js';

const job = JSON.parse(process.env[CHAOS_JOB_ENV]!) as WriterJob;
const threads = Number(process.argv[2]);
const send = (msg: FromWriter): void => {
  process.send?.(msg);
};

const pool = new Piscina({
  filename: siblingModule(import.meta.url, '../../workers/chaos-writer').href,
  execArgv: workerExecArgv(),
  workerData: lockTurnsWorkerData(),
  minThreads: threads,
  maxThreads: threads,
});
const ports = Array.from({ length: threads }, () => new MessageChannel());
let armedThread = -1;

// Batched: this process's committer does the merges, so faults are aimed here rather than at a thread.
const park = faultPark((point, action) => send({ type: 'at-point', point, action }));
const committerStore = job.commit !== 'each' ? await openStore(job.store, { cap: job.cap, lock: job.lock, maxAttempts: 50, faults: park.faults, asyncIo: true, shareCommits: job.commit === 'shared' }) : null;
const committer = committerStore ? new GroupCommitter(committerStore) : null;

// Ready only once every thread runs and has started an episode: an aim at a process whose threads are still
// loading would wait on nothing.
const startedThreads = new Set<number>();
const noteStarted = (thread: number): void => {
  if (startedThreads.size === threads) return;
  startedThreads.add(thread);
  if (startedThreads.size === threads) send({ type: 'ready' });
};

ports.forEach(({ port1 }, thread) =>
  port1.on('message', (msg: FromWriter | CommitAsk) => {
    if (msg.type === 'started') noteStarted(thread);
    if (msg.type !== 'commit') return send(msg);
    committer!.submit(msg.domain, msg.deltas, msg.record).then(
      (r) => {
        send({ type: 'ack', ack: { episode_id: msg.episode_id, domain: msg.domain, refused: r.refused / r.batch, reclaimed: r.reclaimed / r.batch, waitMs: r.waitMs } });
        port1.postMessage({ type: 'committed', seq: msg.seq } satisfies ToThread);
      },
      (err: Error) => port1.postMessage({ type: 'committed', seq: msg.seq, error: err.message } satisfies ToThread),
    );
  }),
);

process.on('message', (msg: ToWriter) => {
  if (committer && (msg.type === 'arm' || msg.type === 'disarm' || msg.type === 'continue')) {
    if (msg.type === 'arm') park.arm(msg.action, msg.point);
    else if (msg.type === 'disarm') park.disarm();
    else park.release();
    return;
  }
  if (msg.type === 'arm') {
    // Arm one thread at random; it reports when it reaches the point.
    armedThread = Math.floor(Math.random() * threads);
    ports[armedThread]!.port1.postMessage(msg satisfies ToThread);
  } else if (msg.type === 'continue' || msg.type === 'disarm') {
    if (armedThread >= 0) ports[armedThread]!.port1.postMessage(msg satisfies ToThread);
  } else if (msg.type === 'stop') {
    for (const { port1 } of ports) port1.postMessage(msg satisfies ToThread);
  }
});

const runs = ports.map(({ port2 }, thread) => pool.run({ job, thread, port: port2 }, { transferList: [port2] }));
Promise.all(runs).then(
  async () => {
    await pool.destroy();
    await committerStore?.close();
    process.disconnect?.();
  },
  async (err: Error) => {
    process.exitCode = 1;
    // Delivered before the channel closes: see src/run/parent-ipc.ts.
    await sendToParent({ type: 'error', message: err.message } satisfies FromWriter);
    await pool.destroy();
    process.disconnect?.();
  },
);
