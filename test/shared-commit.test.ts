/**
 * Group commit across processes (StoreOptions.shareCommits): a waiter's batch
 * is in its pending file before it queues, the holder folds every
 * pending batch into its one durable write, a folded waiter is done without
 * writing, and a process killed at any of the new fault points loses nothing
 * that `repair` does not fold back exactly once.
 */
import test from 'ava';
import type { fork } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { Piscina } from 'piscina';
import { audit } from '../src/core/audit.js';
import { FOLDED_KEY } from '../src/core/folded-batches.js';
import { repairStore } from '../src/store/repair.js';
import { pendingDirOf } from '../src/store/pending.js';
import { loadAuditInput } from '../src/store/snapshot.js';
import type { FaultPoint, MergeResult, StoreOptions } from '../src/store/store.js';
import { Store } from '../src/store/store.js';
import { cli } from './cli-helper.js';
import type { SharedJob } from './fixtures/shared-writer.js';
import { deltasOf, episodeRecord, fixtureThreads, forkFixture, obs, tempDir } from './helpers.js';

const LOCK = { staleMs: 2_000, timeoutMs: 20_000, minRetryMs: 1, maxRetryMs: 16 };

function spawnShared(store: string, id: string, point: FaultPoint, action: 'kill' | 'park') {
  return forkFixture('fixtures/crash-writer.ts', [store, id, point, action, 'shared']);
}

const exited = (child: ReturnType<typeof fork>) => new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, sig) => r(sig)));
const said = (child: ReturnType<typeof fork>, what: string) => new Promise<void>((r) => child.on('message', (m) => m === what && r()));
const resultOf = (child: ReturnType<typeof fork>) => new Promise<MergeResult>((r) => child.on('message', (m: { result?: MergeResult }) => m.result && r(m.result)));

async function seeded(options: Partial<StoreOptions> = {}): Promise<Store> {
  const store = new Store(await tempDir(), { cap: 100, lock: LOCK, shareCommits: true, ...options });
  await store.writeEpisode('hot_pot', episodeRecord(obs('base')));
  await store.merge('hot_pot', deltasOf(obs('base')));
  return store;
}

const ids = async (store: Store): Promise<string[]> => (await store.readPlaybook('hot_pot')).observations.map((o) => o.episode_id).sort();
const pending = async (store: Store): Promise<string[]> => (await readdir(pendingDirOf(store.playbookPath('hot_pot')))).filter((n) => n.endsWith('.json'));
const generation = async (store: Store): Promise<unknown> => (await store.readPlaybook('hot_pot'))['generation'];

test('a shared commit leaves no batch file behind and records its batch id in the playbook', async (t) => {
  const store = await seeded();
  await store.merge('hot_pot', deltasOf(obs('a')));
  t.deepEqual(await pending(store), []);
  t.deepEqual(await ids(store), ['a', 'base']);
  const folded = (await store.readPlaybook('hot_pot'))[FOLDED_KEY] as string[];
  t.is(folded.length, 2, 'one batch id per merge so far');
});

for (const point of ['batch-written', 'before-check', 'released', 'folded'] as const) {
  test(`a shared-commit writer killed at "${point}" loses nothing: repair folds its batch exactly once and the audit finds zero loss`, async (t) => {
    const store = await seeded();
    const child = spawnShared(store.root, 'victim', point, 'kill');
    t.is(await exited(child), 'SIGKILL');
    JSON.parse(await readFile(store.playbookPath('hot_pot'), 'utf8'));
    // Killed before any holder folded it, or after its fold was renamed into place but before its file went: the batch file stays.
    const folded = point === 'released' || point === 'folded';
    t.is((await pending(store)).length, 1);
    t.deepEqual(await ids(store), folded ? ['base', 'victim'] : ['base']);
    const before = await generation(store);

    const repair = await repairStore(store, { cap: 100 });
    t.is(repair.domains[0]!.pendingBatchesFolded, 1);
    t.deepEqual(repair.domains[0]!.recovered, [], 'the batch file brought the observation back, not the episode file');
    t.deepEqual(await ids(store), ['base', 'victim']);
    t.deepEqual(await pending(store), []);
    // Folding a batch the playbook already holds writes nothing.
    if (folded) t.is(await generation(store), before);
    t.true(audit(await loadAuditInput(store)).zeroLoss);

    const second = await repairStore(store, { cap: 100 });
    t.is(second.domains[0]!.pendingBatchesFolded, undefined);
    await store.merge('hot_pot', deltasOf(obs('next')));
    t.deepEqual(await ids(store), ['base', 'next', 'victim']);
  });
}

/** A holder in this process that stops at `point` until the test lets it go on. */
function gatedHolder(store: Store, extra: Partial<StoreOptions> = {}, point: FaultPoint = 'locked') {
  let open!: () => void;
  let arrived!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const reached = new Promise<void>((r) => (arrived = r));
  const holder = new Store(store.root, {
    ...store.options,
    ...extra,
    faults: async (p) => {
      if (p === point) {
        arrived();
        await gate;
      }
      await extra.faults?.(p);
    },
  });
  return { holder, reached, open };
}

test('the holder folds a waiting process\'s batch; the waiter is done without writing', async (t) => {
  const store = await seeded();
  const { holder, reached, open } = gatedHolder(store);
  const holding = holder.merge('hot_pot', deltasOf(obs('holder')));
  await reached;
  // The waiter would kill itself if it ever renamed a playbook of its own.
  const child = spawnShared(store.root, 'waiter', 'renamed', 'kill');
  const waiterResult = resultOf(child);
  await said(child, 'batch-written');
  const genBefore = await generation(store);
  open();
  const held = await holding;
  t.true(held.changed);
  const waiter = await waiterResult;
  t.true(waiter.foldedByOther, 'acknowledged through the holder\'s write');
  t.is(await exited(child), null, 'exited normally: it never renamed a playbook');
  t.deepEqual(await ids(store), ['base', 'holder', 'waiter']);
  t.is(await generation(store), (genBefore as number) + 1, 'one write carried both');
  t.deepEqual(await pending(store), []);
});

test('a waiter whose batch id the playbook records is done even though the holder failed before removing its file', async (t) => {
  const store = await seeded();
  const { holder, reached, open } = gatedHolder(store, {
    faults: (p) => {
      if (p === 'folded') throw new Error('the holder stops after its durable write, before removing the batch files');
    },
  });
  const holding = holder.merge('hot_pot', deltasOf(obs('holder')));
  await reached;
  const child = spawnShared(store.root, 'waiter', 'renamed', 'kill');
  const waiterResult = resultOf(child);
  await said(child, 'batch-written');
  open();
  await t.throwsAsync(holding);
  const waiter = await waiterResult;
  t.true(waiter.foldedByOther, 'it found its id recorded and wrote nothing');
  t.is(waiter.reclaimed, 0);
  t.deepEqual(await ids(store), ['base', 'holder', 'waiter']);
  // The waiter removed its own file; the failed holder's stays for the next holder or repair.
  t.is((await pending(store)).length, 1);
  const repair = await repairStore(store, { cap: 100 });
  t.is(repair.domains[0]!.pendingBatchesFolded, 1);
  t.deepEqual(await pending(store), []);
  t.true(audit(await loadAuditInput(store)).zeroLoss);
});

test('a shared-commit holder releases the lock before making its write durable: the next writer commits meanwhile', async (t) => {
  const store = await seeded();
  const { holder, reached, open } = gatedHolder(store, {}, 'released');
  let acknowledged = false;
  const holding = holder.merge('hot_pot', deltasOf(obs('holder'))).then((r) => ((acknowledged = true), r));
  await reached;
  // Parked after its rename, before its directory fsync: the lock must already be free, and nobody acknowledged yet.
  const next = await store.merge('hot_pot', deltasOf(obs('next')));
  t.falsy(next.foldedByOther, 'the next writer took the lock itself');
  t.false(acknowledged, 'the holder is acknowledged only after its own directory fsync and its batch files go');
  open();
  t.true((await holding).changed);
  t.deepEqual(await ids(store), ['base', 'holder', 'next']);
  t.deepEqual(await pending(store), []);
});

for (const point of ['locked', 'temp-written'] as const) {
  test(`a shared-commit holder paused at "${point}" past the stale time is fenced off; the next holder folds its batch`, async (t) => {
    const store = await seeded();
    const child = spawnShared(store.root, 'sleeper', point, 'park');
    await said(child, 'at-point');
    child.kill('SIGSTOP');
    // Another writer waits out the stale time, reclaims the lock, and folds the sleeper's pending batch with its own.
    const other = await store.merge('hot_pot', deltasOf(obs('other')));
    t.is(other.reclaimed, 1);
    t.deepEqual(await ids(store), ['base', 'other', 'sleeper']);
    const genAfterOther = await generation(store);
    child.kill('SIGCONT');
    const done = resultOf(child);
    child.send('continue');
    const sleeper = await done;
    if (point === 'temp-written') t.true(sleeper.refused >= 1, `the sleeper's stale write was refused (${sleeper.refused})`);
    t.true(sleeper.foldedByOther, 'then it found its batch folded and wrote nothing');
    t.is(await generation(store), genAfterOther, 'nothing overwrote the newer playbook');
    t.deepEqual(await ids(store), ['base', 'other', 'sleeper']);
    t.deepEqual(await pending(store), []);
  });
}

test('bench --commit shared: processes fold each other\'s batches and the audit finds nothing lost', async (t) => {
  const r = await cli(['bench', '--processes', '3', '--writers', '3', '--merges', '40', '--commit', 'shared', '--json']);
  t.is(r.code, 0, r.stderr);
  type P = { p50: number; p99: number };
  const result = JSON.parse(r.stdout) as { seconds: number; lockWaitMs: P; ackMs: P };
  t.like(result, { commit: 'shared', processes: 3, merges: 120, lost: 0 });
  // Stopped on the writers' clock of the last acknowledgement, started on the orchestrator's: one host clock, so never negative.
  t.true(Number.isFinite(result.seconds) && result.seconds > 0, `seconds: ${result.seconds}`);
  // Every merge's acknowledgement comes after its lock wait ends, so each order statistic of the one bounds the other's.
  const { ackMs: ack, lockWaitMs: wait } = result;
  t.true(ack.p50 > 0 && ack.p50 >= wait.p50 && ack.p99 >= wait.p99, `ack ${JSON.stringify(ack)}, lock wait ${JSON.stringify(wait)}`);
});

test('8 threads queueing on the file lock on their own fold each other\'s batches and lose nothing', async (t) => {
  const dir = await tempDir();
  // No shared turn table: every thread queues on the file, as separate processes do.
  const pool = new Piscina<SharedJob, number>({ ...fixtureThreads('fixtures/shared-writer.ts'), minThreads: 8, maxThreads: 8 });
  const carried = await Promise.all(Array.from({ length: 8 }, (_, writer) => pool.run({ store: dir, writer, merges: 15 })));
  await pool.destroy();
  const store = new Store(dir);
  t.is((await store.readPlaybook('switch_light')).observations.length, 120);
  t.deepEqual((await readdir(pendingDirOf(store.playbookPath('switch_light')))).filter((n) => n.endsWith('.json')), []);
  t.log(`merges carried by another writer's write: ${carried.reduce((a, b) => a + b, 0)} of 120`);
});
