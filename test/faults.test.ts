/**
 * Crash safety of the write path: writers killed at every fault point of the
 * critical section, a writer paused past the stale time while another takes
 * its lock, mutual exclusion among live writers, and repair.
 */
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { Piscina } from 'piscina';
import { audit } from '../src/core/audit.js';
import { repairStore } from '../src/store/repair.js';
import { loadAuditInput } from '../src/store/snapshot.js';
import type { FaultPoint, MergeResult } from '../src/store/store.js';
import { lockTurnsWorkerData } from '../src/store/local-turns.js';
import { Store } from '../src/store/store.js';
import type { ExclusionJob } from './fixtures/exclusion-writer.js';
import { deltasOf, episodeRecord, fixtureThreads, forkFixture, obs, tempDir } from './helpers.js';

const LOCK = { staleMs: 2_000, timeoutMs: 20_000, minRetryMs: 1, maxRetryMs: 16 };

function spawnWriter(store: string, id: string, point: FaultPoint, action: 'kill' | 'park') {
  return forkFixture('fixtures/crash-writer.ts', [store, id, point, action]);
}

async function seeded(): Promise<Store> {
  const store = new Store(await tempDir(), { cap: 100, lock: LOCK });
  await store.writeEpisode('hot_pot', episodeRecord(obs('base')));
  await store.merge('hot_pot', deltasOf(obs('base')));
  return store;
}

const ids = async (store: Store): Promise<string[]> => (await store.readPlaybook('hot_pot')).observations.map((o) => o.episode_id).sort();

for (const point of ['locked', 'temp-written', 'renamed'] as const) {
  test(`a writer killed at "${point}" leaves a whole playbook; its lock is reclaimed and repair finishes its merge`, async (t) => {
    const store = await seeded();
    const before = await readFile(store.playbookPath('hot_pot'), 'utf8');
    const child = spawnWriter(store.root, 'victim', point, 'kill');
    const [, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (code, sig) => r([code, sig])));
    t.is(signal, 'SIGKILL');

    // Valid JSON, and either exactly as it was or with the merge applied.
    const after = await readFile(store.playbookPath('hot_pot'), 'utf8');
    JSON.parse(after);
    t.deepEqual(await ids(store), point === 'renamed' ? ['base', 'victim'] : ['base']);
    if (point !== 'renamed') t.is(after, before);
    const leftovers = (await readdir(store.domainDir('hot_pot'))).filter((n) => n.endsWith('.tmp'));
    t.is(leftovers.length, point === 'temp-written' ? 1 : 0);

    // The dead writer's lock is reclaimed once stale; the next writer also removes its temp file.
    const next: MergeResult = await store.merge('hot_pot', deltasOf(obs('next')));
    t.is(next.reclaimed, 1, 'the dead writer\'s lock was reclaimed, not released');
    t.deepEqual((await readdir(store.domainDir('hot_pot'))).filter((n) => n.endsWith('.tmp')), []);

    const repair = await repairStore(store, { cap: 100 });
    t.deepEqual(repair.domains[0]!.recovered, point === 'renamed' ? [] : ['victim']);
    t.deepEqual(await ids(store), ['base', 'next', 'victim']);
  });
}

for (const point of ['locked', 'temp-written'] as const) {
  test(`a writer paused at "${point}" past the stale time is fenced off and retries; nothing is overwritten`, async (t) => {
    const store = await seeded();
    const child = spawnWriter(store.root, 'sleeper', point, 'park');
    await new Promise<void>((r) => child.once('message', () => r()));
    child.kill('SIGSTOP');
    // Meanwhile another writer waits out the stale time, reclaims the lock and merges.
    const other = await store.merge('hot_pot', deltasOf(obs('other')));
    t.is(other.reclaimed, 1);
    child.kill('SIGCONT');
    const done = new Promise<MergeResult>((r) => child.on('message', (m: { result?: MergeResult }) => m.result && r(m.result)));
    child.send('continue');
    const sleeper = await done;
    if (point === 'temp-written') {
      // It read generation 1 and wrote its temp file before the pause; generation 2 landed meanwhile.
      t.true(sleeper.refused >= 1, `the sleeper's stale write was refused (${sleeper.refused})`);
      t.true(sleeper.attempts >= 2);
    }
    t.deepEqual(await ids(store), ['base', 'other', 'sleeper']);
    const pb = await store.readPlaybook('hot_pot');
    t.is(pb['generation'], 3, 'one generation per landed write: base, other, sleeper');
  });
}

for (const turns of [true, false]) {
  test(`live writers are never inside the critical section at once (8 threads${turns ? ', taking turns in-process' : ', file lock only'})`, async (t) => {
    const dir = await tempDir();
    const counters = new SharedArrayBuffer(8);
    // With turns the threads share this process's turn table, as the product's pools do; without, only the file lock excludes.
    const pool = new Piscina<ExclusionJob, void>({
      ...fixtureThreads('fixtures/exclusion-writer.ts'),
      ...(turns ? { workerData: lockTurnsWorkerData() } : {}),
      minThreads: 8,
      maxThreads: 8,
    });
    await Promise.all(Array.from({ length: 8 }, (_, writer) => pool.run({ store: dir, writer, merges: 15, counters })));
    await pool.destroy();
    const c = new Int32Array(counters);
    t.is(Atomics.load(c, 1), 1, 'at most one writer inside at any moment');
    t.is(Atomics.load(c, 0), 0);
    t.is((await new Store(dir).readPlaybook('switch_light')).observations.length, 120);
  });
}

test('repair re-merges episodes that never reached their merge, and a second repair changes nothing', async (t) => {
  const store = new Store(await tempDir());
  for (const id of ['a', 'b', 'c', 'd']) await store.writeEpisode('chem_tile', episodeRecord(obs(id, 'MEDIUM', 0.3)));
  await store.merge('chem_tile', deltasOf(obs('a', 'MEDIUM', 0.3)));
  t.deepEqual(audit(await loadAuditInput(store)).domains[0]!.lostIds.sort(), ['b', 'c', 'd']);

  const first = await repairStore(store);
  t.deepEqual(first.domains[0]!.recovered, ['b', 'c', 'd']);
  t.true(audit(await loadAuditInput(store)).zeroLoss);
  const bytes = await readFile(store.playbookPath('chem_tile'), 'utf8');

  const second = await repairStore(store);
  t.deepEqual(second.domains[0]!.recovered, []);
  t.is(await readFile(store.playbookPath('chem_tile'), 'utf8'), bytes);
});
