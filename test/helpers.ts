import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fork } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { readdirSync, watch } from 'node:fs';
import type { LockOptions } from '../src/store/lock.js';
import type { Deltas, EpisodeRecord, Observation, Reliability } from '../src/core/types.js';
import { workerExecArgv } from '../src/run/module-file.js';

/**
 * AVA runs this module compiled, from dist-test/test/ (`npm test` compiles src/, workers/ and test/ into
 * dist-test/ first; test/build-current.ts refuses a stale build). The project root, where the fixtures tsc
 * does not compile (.mjs, .py, the package's consumer), package.json, experiments/ and examples/ are.
 */
const BUILD = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(BUILD, '..');

/** A fixture tsc does not compile (`.mjs`, `.py`), in test/fixtures/. */
export const fixtureFile = (name: string): string => join(ROOT, 'test', 'fixtures', name);

/** Where `file` (a `.ts` fixture, relative to test/) is built. */
const builtFixture = (file: string): string => join(BUILD, 'test', file.replace(/\.ts$/, '.js'));

/** The node arguments that start the CLI (its build), for a test to append the command's own. */
export const CLI: readonly string[] = [join(BUILD, 'src', 'bin.js')];

/**
 * Starts `file` (a `.ts` fixture, relative to test/) from its build as its own process with an IPC channel,
 * the way the CLI is started.
 */
export function forkFixture(file: string, args: readonly string[]): ChildProcess {
  const stdio: StdioOptions = ['ignore', 'inherit', 'inherit', 'ipc'];
  return fork(builtFixture(file), args, { execArgv: [], stdio });
}

/** Piscina's `filename` and `execArgv` for `file` (a `.ts` fixture, relative to test/) run as threads: its build. */
export function fixtureThreads(file: string): { filename: string; execArgv: string[] } {
  return { filename: pathToFileURL(builtFixture(file)).href, execArgv: workerExecArgv().filter((a) => a === '--no-experimental-require-module') };
}

export async function tempDir(prefix = 'ace-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function obs(episode_id: string, reliability: Reliability = 'HIGH', score = 0.5): Observation {
  return {
    episode_id,
    timestamp: '2026-01-01T00:00:00.000Z',
    score,
    beliefs: {},
    context: {},
    reliability,
    reason: 'test',
    metadata: { patterns: [], failures: [] },
  };
}

export function deltasOf(...observations: Observation[]): Deltas {
  return { observations, strategies_and_rules: [], troubleshooting: [], context_patterns: [] };
}

export function episodeRecord(o: Observation, run_id?: string): EpisodeRecord {
  return { episode_id: o.episode_id, timestamp: o.timestamp, ...(run_id ? { run_id } : {}), trajectory: { actions: [], observations: [] }, outcome: { score: o.score, observation: o } };
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

/**
 * Lock options under which only the queue's own rules can move a waiter on: nothing turns stale and
 * no wait times out within a test, however loaded the machine is.
 */
export const PATIENT_LOCK: LockOptions = { staleMs: 120_000, timeoutMs: 120_000, minRetryMs: 1, maxRetryMs: 25 };

/**
 * Resolves once `condition` holds, checking it again on every change inotify reports in `dir`
 * (which must exist): a wait for a file-system event, not a time.
 */
export function untilInDir(dir: string, condition: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    const check = (): void => {
      if (!condition()) return;
      watcher.close();
      resolve();
    };
    watcher.on('change', check);
    watcher.on('error', (err) => (watcher.close(), reject(err)));
    check(); // It may hold already, before any event.
  });
}

/** The lines a child prints on one stream, and a wait for what they say. */
export interface LineLog {
  readonly lines: readonly string[];
  /** Resolves once `holds(lines)` is true, checked on every line: an event the child reports, not a time. */
  until(holds: (lines: readonly string[]) => boolean): Promise<void>;
}

export function watchLines(stream: NodeJS.ReadableStream): LineLog {
  const lines: string[] = [];
  const waiters = new Set<{ holds: (lines: readonly string[]) => boolean; resolve: () => void; reject: (err: Error) => void }>();
  let buffered = '';
  stream.on('data', (chunk: Buffer | string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters) if (w.holds(lines)) (waiters.delete(w), w.resolve());
  });
  stream.once('end', () => {
    for (const w of waiters) w.reject(new Error(`the stream ended before the awaited line; it printed:\n${lines.join('\n')}`));
    waiters.clear();
  });
  return {
    lines,
    until: (holds) => (holds(lines) ? Promise.resolve() : new Promise((resolve, reject) => waiters.add({ holds, resolve, reject }))),
  };
}

/** Resolves once the child prints a line that `matches` on `stream`. */
export function untilLine(stream: NodeJS.ReadableStream, matches: (line: string) => boolean): Promise<void> {
  return watchLines(stream).until((lines) => lines.some(matches));
}

/** The fair lock's queued waiters for `file` (marker names), in arrival order. */
export function queuedWaiters(file: string): string[] {
  try {
    return readdirSync(`${file}.waiters`).sort();
  } catch {
    return [];
  }
}

/**
 * Writes a domain module `overlap` whose episodes all wait for each other after reading the playbook and
 * before writing (test/fixtures/overlap-domain.mjs); returns its file URL for an experiment's `modules`.
 * `parties` must equal the episodes a run has in flight at once (threads × processes).
 */
export async function overlapDomainModule(dir: string, parties: number): Promise<string> {
  const file = join(dir, 'overlap-domain.mjs');
  const fixture = pathToFileURL(fixtureFile('overlap-domain.mjs')).href;
  const config = JSON.stringify({ barrier: join(dir, 'overlap-barrier'), parties });
  await writeFile(file, `import { overlapDomain } from ${JSON.stringify(fixture)};\nexport default overlapDomain(${config});\n`);
  return pathToFileURL(file).href;
}
