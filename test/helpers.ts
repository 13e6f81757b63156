import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readdirSync } from 'node:fs';
import type { LockOptions } from '../src/store/lock.js';
import type { Deltas, EpisodeRecord, Observation, Reliability } from '../src/types.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'src', 'bin.ts');

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

/** Resolves once `condition` holds, looking again on every poll of the event loop: a wait for an event, not a time. */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
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
  const fixture = pathToFileURL(join(ROOT, 'test', 'fixtures', 'overlap-domain.mjs')).href;
  const config = JSON.stringify({ barrier: join(dir, 'overlap-barrier'), parties });
  await writeFile(file, `import { overlapDomain } from ${JSON.stringify(fixture)};\nexport default overlapDomain(${config});\n`);
  return pathToFileURL(file).href;
}
