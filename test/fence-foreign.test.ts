/**
 * The fence without leaks: a write refused while the lock is still this writer's releases it and
 * retries from a fresh read (no 30 s wait on its own lock); a write by a tool that does not take
 * this project's lock, even one that drops the `generation` key, is detected and kept.
 */
import test from 'ava';
import fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fsExt from 'fs-ext';
import lockfile from 'proper-lockfile';
import { DEFAULT_LOCK_OPTIONS } from '../src/store/lock.js';
import { Store } from '../src/store/store.js';
import { deltasOf, obs, tempDir, writeJson } from './helpers.js';

/** Short enough that a leaked lock fails the test quickly, long enough for a loaded machine. */
const LOCK = { ...DEFAULT_LOCK_OPTIONS, timeoutMs: 10_000 };

const ids = (pb: { observations: { episode_id: string }[] }): string[] => pb.observations.map((o) => o.episode_id).sort();
const sections = { strategies_and_rules: [], troubleshooting: [], context_patterns: [] };

/** Replaces the playbook the way the reference tool does: temp file, rename, no `generation` key. */
function referenceWrite(file: string, playbook: object): void {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(playbook, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

test('a playbook whose generation is its last key takes a merge at once', async (t) => {
  const store = new Store(await tempDir(), { lock: LOCK });
  await writeJson(store.playbookPath('hot_pot'), { observations: [obs('old')], ...sections, generation: 5 });
  const r = await store.merge('hot_pot', deltasOf(obs('new')));
  const pb = JSON.parse(await readFile(store.playbookPath('hot_pot'), 'utf8'));
  t.deepEqual(ids(pb), ['new', 'old']);
  t.is(pb.generation, 6);
  t.is(r.attempts, 1);
  t.false(fs.existsSync(`${store.playbookPath('hot_pot')}.lock`), 'the lock is released');
});

/**
 * A store whose playbook starts as `before`; between the first merge's read and its rename, a tool
 * that takes no lock replaces it with `foreign`.
 */
async function withForeignWrite(before: object, foreign: object): Promise<{ store: Store; file: string }> {
  let fired = false;
  const root = await tempDir();
  const file = join(root, 'domains', 'hot_pot', 'playbook.json');
  const store = new Store(root, {
    lock: LOCK,
    faults: (point) => {
      if (point !== 'temp-written' || fired) return;
      fired = true;
      referenceWrite(file, foreign);
    },
  });
  await writeJson(file, before);
  return { store, file };
}

test('a foreign write that drops the generation key under the lock is detected, counted and kept', async (t) => {
  const { store, file } = await withForeignWrite({ observations: [obs('ref-a')], ...sections }, { observations: [obs('ref-a'), obs('ref-c')], ...sections });
  const r = await store.merge('hot_pot', deltasOf(obs('ours')));
  t.deepEqual(ids(JSON.parse(await readFile(file, 'utf8'))), ['ours', 'ref-a', 'ref-c'], 'the foreign observation survives the retried merge');
  t.is(r.foreignWrites, 1);
  t.is(r.refused, 0);
  t.is(r.attempts, 2);
  t.false(fs.existsSync(`${file}.lock`), 'the lock is released');
});

test('a foreign write that keeps the same generation is detected too', async (t) => {
  const { store, file } = await withForeignWrite({ generation: 3, observations: [obs('x')], ...sections }, { generation: 3, observations: [obs('x'), obs('y')], ...sections });
  const r = await store.merge('hot_pot', deltasOf(obs('z')));
  t.deepEqual(ids(JSON.parse(await readFile(file, 'utf8'))), ['x', 'y', 'z']);
  t.is(r.foreignWrites, 1);
});

test('a lock that another writer took over is left alone, and the merge waits for it', async (t) => {
  const root = await tempDir();
  const file = join(root, 'domains', 'switch_light', 'playbook.json');
  const lockDir = `${file}.lock`;
  let takenOver: { release: () => void; identity: bigint } | null = null;
  const store = new Store(root, {
    lock: LOCK,
    faults: (point) => {
      if (point !== 'temp-written' || takenOver) return;
      // Another ace-orch writer reclaims the lock (as after a pause past the stale time) and commits generation 2.
      fs.rmdirSync(lockDir);
      const release = lockfile.lockSync(file, { realpath: false, stale: 10_000, onCompromised: () => {} });
      takenOver = { release, identity: fs.statSync(lockDir, { bigint: true }).ino };
      fs.writeFileSync(file, JSON.stringify({ generation: 2, observations: [obs('theirs')], ...sections }));
      // It releases once this writer queues behind it, i.e. after the refused write left its lock alone.
      const watcher = fs.watch(join(root, 'domains', 'switch_light'), (_event, name) => {
        if (name !== 'playbook.json.waiters' || !takenOver) return;
        watcher.close();
        t.is(fs.statSync(lockDir, { bigint: true }).ino, takenOver.identity, 'the other writer still holds its lock');
        takenOver.release();
      });
    },
  });
  await writeJson(file, { generation: 1, observations: [], ...sections });
  const r = await store.merge('switch_light', deltasOf(obs('ours')));
  t.deepEqual(ids(JSON.parse(await readFile(file, 'utf8'))), ['ours', 'theirs']);
  t.is(r.refused, 1);
  t.is(r.foreignWrites, 0);
});

test('the commit waits for the reference tool\'s flock on playbook.lock and sees what it wrote under it', async (t) => {
  const root = await tempDir();
  const file = join(root, 'domains', 'hot_pot', 'playbook.json');
  const lockFile = join(root, 'domains', 'hot_pot', 'playbook.lock');
  let held = 0;
  const store = new Store(root, {
    lock: LOCK,
    faults: (point) => {
      if (point !== 'temp-written' || held++ > 0) return;
      // A reference writer takes its flock, writes, and lets go only after this writer has found the flock busy.
      const fd = fs.openSync(lockFile, 'a');
      t.true(tryFlock(fd));
      referenceWrite(file, { observations: [obs('ref-a'), obs('ref-b')], ...sections });
      setImmediate(() => fs.closeSync(fd));
    },
  });
  await writeJson(file, { observations: [obs('ref-a')], ...sections });
  const r = await store.merge('hot_pot', deltasOf(obs('ours')));
  t.deepEqual(ids(JSON.parse(await readFile(file, 'utf8'))), ['ours', 'ref-a', 'ref-b']);
  t.is(r.foreignWrites, 1);
  const fd = fs.openSync(lockFile, 'a');
  t.true(tryFlock(fd), 'the flock is released after the merge');
  fs.closeSync(fd);
});

test('a store ace-orch writes gets playbook.lock, as the reference tool expects', async (t) => {
  const store = new Store(await tempDir(), { lock: LOCK });
  await store.merge('hot_pot', deltasOf(obs('a')));
  t.true(fs.existsSync(store.referenceLockPath('hot_pot')));
});

/** True when this descriptor got the exclusive flock (then held until it is closed). */
function tryFlock(fd: number): boolean {
  try {
    fsExt.flockSync(fd, 'exnb');
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return false;
    throw err;
  }
}
