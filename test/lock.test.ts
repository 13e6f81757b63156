/** The fair lock: FIFO hand-over, and a queue that dead waiters cannot jam. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { hashKey } from '../src/rng.js';
import { takeTurn } from '../src/store/local-turns.js';
import { DEFAULT_LOCK_OPTIONS, withLock } from '../src/store/lock.js';
import { tempDir } from './helpers.js';

test('waiters get the lock in the order they arrived', async (t) => {
  const file = join(await tempDir(), 'playbook.json');
  const release = await lockfile.lock(file, { realpath: false });
  const order: number[] = [];
  const waiters: Promise<unknown>[] = [];
  for (let i = 0; i < 5; i++) {
    waiters.push(withLock(file, DEFAULT_LOCK_OPTIONS, async () => void order.push(i)));
    // Let each one reach the queue before the next arrives.
    await new Promise((r) => setTimeout(r, 20));
  }
  await release();
  await Promise.all(waiters);
  t.deepEqual(order, [0, 1, 2, 3, 4]);
});

test('a waiter killed while queued does not hold up the ones behind it', async (t) => {
  const file = join(await tempDir(), 'playbook.json');
  // A process that has exited, queued ahead of everyone (the oldest possible arrival time).
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  await mkdir(`${file}.waiters`, { recursive: true });
  await writeFile(join(`${file}.waiters`, `${'0'.repeat(20)}-${hashKey(hostname()).toString(36)}-${dead}-0-abcdef`), '');
  const release = await lockfile.lock(file, { realpath: false });
  const started = performance.now();
  const waiting = withLock(file, DEFAULT_LOCK_OPTIONS, async () => 'mine');
  await new Promise((r) => setTimeout(r, 50));
  await release();
  const { value } = await waiting;
  t.is(value, 'mine');
  const waited = performance.now() - started;
  t.true(waited < DEFAULT_LOCK_OPTIONS.staleMs / 4, `waited ${Math.round(waited)} ms, not a stale time`);
});

test('threads of one process take turns in order, and a waiter that times out is skipped, not waited for', async (t) => {
  const file = join(await tempDir(), 'playbook.json');
  const first = await takeTurn(file, performance.now() + 5_000);
  t.truthy(first);
  const order: string[] = [];
  const impatient = takeTurn(file, performance.now() + 30);
  const patient = takeTurn(file, performance.now() + 5_000).then((turn) => {
    order.push('patient');
    turn!.release();
  });
  t.is(await impatient, null, 'the impatient waiter gave up');
  order.push('first releases');
  first!.release();
  await patient;
  t.deepEqual(order, ['first releases', 'patient']);
  // And the slot is free again.
  const again = await takeTurn(file, performance.now() + 100);
  t.truthy(again);
  again!.release();
});
