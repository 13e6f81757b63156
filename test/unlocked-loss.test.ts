/**
 * The loss this tool exists to prevent, reproduced deterministically: all
 * writers read before any writes (a barrier forces it). Unlocked, only one
 * observation survives; locked, all do. The same harness and audit serve both,
 * so the zero-loss result is from a check that demonstrably can fail.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { audit } from '../src/core/audit.js';
import { EXIT } from '../src/core/exit-codes.js';
import { loadAuditInput } from '../src/store/snapshot.js';
import { Store } from '../src/store/store.js';
import type { WriteMode } from '../src/core/types.js';
import type { RaceJob } from './fixtures/race-writer.js';
import { cliRun } from './cli-helper.js';
import { fixtureThreads, overlapDomainModule, tempDir } from './helpers.js';

const WRITERS = 8;

async function race(mode: WriteMode) {
  const dir = await tempDir();
  const pool = new Piscina<RaceJob, void>({ ...fixtureThreads('fixtures/race-writer.ts'), minThreads: WRITERS, maxThreads: WRITERS });
  const barrier = new SharedArrayBuffer(4);
  await Promise.all(Array.from({ length: WRITERS }, (_, writer) => pool.run({ store: dir, writer, mode, barrier, parties: WRITERS })));
  await pool.destroy();
  return audit(await loadAuditInput(new Store(dir), { cap: 100 })).domains[0]!;
}

test('unlocked read-modify-write from a common read loses all but one observation', async (t) => {
  const d = await race('unlocked');
  t.like(d, { episodeFiles: WRITERS, expected: WRITERS, playbookObservations: 1, lost: WRITERS - 1, unexpected: 0 });
});

test('the locked merge from the same interleaving loses nothing', async (t) => {
  const d = await race('locked');
  t.like(d, { episodeFiles: WRITERS, expected: WRITERS, playbookObservations: WRITERS, lost: 0 });
});

test('a run with --no-lock and overlapping episodes loses observations; the manifest records the mode', async (t) => {
  const dir = await tempDir();
  // All 10 episodes are in flight at once (2 processes × 5 threads) and all read the playbook before any writes.
  const modules = [fileURLToPath(await overlapDomainModule(dir, 10))];
  const { code, stderr, manifest, report } = await cliRun(dir, { name: 'overlap', domains: ['overlap'], episodes: 10, threads: 5, processes: 2, episodeMs: 0, cap: 10, seed: 1, modules }, '--no-lock');
  t.is(code, EXIT.loss, stderr);
  t.is(manifest.mode, 'unlocked');
  t.true(manifest.episodes!.every((e) => e.status === 'ok'), JSON.stringify(manifest.episodes));
  // Each wrote the empty playbook it read plus its own observation: the last rename wins.
  t.like(report.domains[0], { episodeFiles: 10, playbookObservations: 1, lost: 9 });
  t.false(report.zeroLoss);
});

test('the locked path loses nothing with 4 processes × 4 threads', async (t) => {
  const { code, stderr, manifest, report } = await cliRun(await tempDir(), { name: 'wide', domains: ['hot_pot', 'chem_tile', 'switch_light'], episodes: 16, threads: 4, processes: 4, episodeMs: 5, cap: 100, seed: 9 });
  t.is(code, EXIT.ok, stderr);
  t.is(manifest.mode, 'locked');
  t.is(manifest.episodes!.length, 48);
  t.true(manifest.episodes!.every((e) => e.status === 'ok'));
  for (const d of report.domains) t.like(d, { episodesRun: 16, episodeFiles: 16, playbookObservations: 16, expected: 16, lost: 0 });
  t.true(report.zeroLoss);
});
