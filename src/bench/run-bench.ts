/**
 * `bench`: W writer threads spread over P processes merge N observations each
 * into one playbook, timed from a start barrier (every writer ready) to the
 * last merge. Reports throughput, lock wait and hold, retries, and what the
 * playbook lost.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compareObservations } from '../core/merge.js';
import { siblingModule } from '../run/module-file.js';
import { percentiles } from '../core/stats.js';
import { DEFAULT_LOCK_OPTIONS } from '../store/lock-options.js';
import { openStore } from '../store/open.js';
import { deal } from '../run/shards.js';
import { BENCH_DOMAIN } from './observations.js';
import { BENCH_JOB_ENV } from './types.js';
import { nowUs } from './clock.js';
import type { BenchJob, BenchOptions, BenchResult, FromBenchProcess, WriterTimings } from './types.js';

const DEFAULT_BENCH: BenchOptions = { writers: 4, processes: 1, merges: 200, commit: 'each', method: 'locked', playbookSize: 10 };

function processFile(): string {
  return fileURLToPath(siblingModule(import.meta.url, './bench-process'));
}

/** How far ahead the start is set: far more than sending "go" to every process takes. */
const START_LEAD_US = 50_000;

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** `store`: a scratch directory, or a PostgreSQL URL naming a scratch schema (the locked method only). */
export async function runBench(storeValue: string, options: Partial<BenchOptions> = {}): Promise<BenchResult> {
  const o = { ...DEFAULT_BENCH, ...options };
  const store = await openStore(storeValue, { cap: o.playbookSize });
  await store.init([BENCH_DOMAIN]);
  const shares = deal(
    Array.from({ length: o.writers }, (_, w) => w),
    o.processes,
  ).filter((s) => s.length);

  const children = shares.map((writers) => {
    const job: BenchJob = { store: store.root, merges: o.merges, method: o.method, commit: o.commit, cap: o.playbookSize, lock: DEFAULT_LOCK_OPTIONS, writers };
    return fork(processFile(), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, [BENCH_JOB_ENV]: JSON.stringify(job) } });
  });
  const messages = children.map((c) => {
    const ready = new Promise<void>((resolve, reject) => {
      c.on('message', (m: FromBenchProcess) => (m.type === 'ready' ? resolve() : m.type === 'error' ? reject(new Error(m.message)) : undefined));
      c.once('exit', (code) => reject(new Error(`bench process exited with code ${code} before it was ready`)));
    });
    const done = new Promise<{ timings: WriterTimings[] }>((resolve, reject) => {
      c.on('message', (m: FromBenchProcess) => {
        if (m.type === 'done') resolve({ timings: m.timings });
        if (m.type === 'error') reject(new Error(`bench writer failed: ${m.message}`));
      });
      // 'close', not 'exit': it comes after the IPC channel is drained, so a process that said 'done' and exited is never taken for one that died.
      c.once('close', (code) => reject(new Error(`bench process exited with code ${code}`)));
    });
    return { ready, done };
  });
  await Promise.all(messages.map((m) => m.ready));
  // Every writer starts at one instant on the host's clock, not as each "go" arrives: sent one after another, the
  // last process heard it up to 6 ms after the first, which is no merge's work and weighed most on the shortest rows.
  // A process that hears it late still starts late, and the clock counts that.
  const startUs = nowUs() + START_LEAD_US;
  for (const c of children) c.send({ type: 'go', atUs: startUs });
  const finished = await Promise.all(messages.map((m) => m.done));
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));

  const timings = finished.flatMap((f) => f.timings);
  // A writer that started before the clock would make every figure of its row look better than it was.
  const early = timings.find((t) => t.startedUs < startUs);
  if (early) throw new Error(`bench: writer ${early.writer} started ${startUs - early.startedUs} µs before the clock`);
  // Stopped where each writer saw its last merge acknowledged, not when its process reported back: the
  // report's trip (thread to process to orchestrator) is no merge's work.
  const seconds = (Math.max(...timings.map((t) => t.lastAckUs)) - startUs) / 1e6;
  const expected = timings
    .flatMap((t) => t.keys)
    .sort(compareObservations)
    .slice(0, o.playbookSize)
    .map((k) => k.episode_id);
  const kept = new Set((await store.readPlaybook(BENCH_DOMAIN)).observations.map((x) => x.episode_id));
  await store.close();
  const total = o.writers * o.merges;
  return {
    method: o.method,
    writers: o.writers,
    processes: shares.length,
    merges: total,
    mergesPerWriter: o.merges,
    commit: o.commit,
    seconds: round(seconds),
    mergesPerSec: Math.round(total / seconds),
    lockWaitMs: percentiles(timings.flatMap((t) => t.waitMs)),
    lockHoldMs: percentiles(timings.flatMap((t) => t.holdMs)),
    ackMs: percentiles(timings.flatMap((t) => t.ackMs)),
    retries: timings.reduce((n, t) => n + t.retries, 0),
    lost: expected.filter((id) => !kept.has(id)).length,
  };
}
