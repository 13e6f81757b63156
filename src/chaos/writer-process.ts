/**
 * A `chaos` writer process: runs its writer threads on a Piscina pool and
 * relays messages between them and the orchestrator. The orchestrator kills
 * and pauses this whole process.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { FromWriter, ToThread, ToWriter, WriterJob } from './messages.js';

const job = JSON.parse(process.argv[2]!) as WriterJob;
const threads = Number(process.argv[3]);
const send = (msg: FromWriter): void => {
  process.send?.(msg);
};

const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const pool = new Piscina({ filename: new URL(`../../workers/chaos-writer.${ext}`, import.meta.url).href, minThreads: threads, maxThreads: threads });
const ports = Array.from({ length: threads }, () => new MessageChannel());
let armedThread = -1;
for (const { port1 } of ports) port1.on('message', (msg: FromWriter) => send(msg));

process.on('message', (msg: ToWriter) => {
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
send({ type: 'ready' });
Promise.all(runs).then(
  async () => {
    await pool.destroy();
    process.disconnect?.();
  },
  (err: Error) => {
    send({ type: 'error', message: err.message });
    process.exitCode = 1;
    void pool.destroy().then(() => process.disconnect?.());
  },
);
