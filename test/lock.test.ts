/** The fair lock: FIFO hand-over, and a queue that dead waiters cannot jam. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { hashKey } from '../src/core/rng.js';
import { takeTurn } from '../src/store/local-turns.js';
import { withLock } from '../src/store/lock.js';
import { forkFixture, PATIENT_LOCK, queuedWaiters, tempDir, untilInDir } from './helpers.js';


test('waiters of one process get the lock in the order they arrived', async (t) => {
  const file = join(await tempDir(), 'playbook.json');
  const release = await lockfile.lock(file, { realpath: false });
  const order: number[] = [];
  // Each call takes its ticket in this process's turn table synchronously, so the calls' order is the arrival order.
  const waiters = [0, 1, 2, 3, 4].map((i) => withLock(file, PATIENT_LOCK, async () => void order.push(i)));
  await release();
  await Promise.all(waiters);
  t.deepEqual(order, [0, 1, 2, 3, 4]);
});

test('writer processes get the lock in the order they queued, and one that just released queues behind the others waiting', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'playbook.json');
  const log = join(dir, 'order.log');
  // Held here, so every writer must queue in playbook.json.waiters/.
  const release = await lockfile.lock(file, { realpath: false });
  await mkdir(`${file}.waiters`, { recursive: true });
  const exits: Promise<number | null>[] = [];
  for (const name of ['a', 'b', 'c']) {
    const child = forkFixture('fixtures/queue-writer.ts', [file, log, name, '2']);
    exits.push(new Promise((r) => child.once('exit', (code) => r(code))));
    // The next writer starts only once this one's marker is in the queue: arrival order is a, b, c.
    await untilInDir(`${file}.waiters`, () => queuedWaiters(file).some((m) => m.includes(`-${child.pid}-`)));
  }
  t.is(queuedWaiters(file).length, 3);
  await release();
  t.deepEqual(await Promise.all(exits), [0, 0, 0]);
  // Each asks for the lock twice in a row. The first grants follow the order of arrival, and a writer asking
  // again right after its release queues behind the ones already waiting: nobody gets it twice before everyone
  // had it once. The second round's order is the order of those second arrivals, which the scheduler sets
  // (a writer preempted between its release and its next request arrives after one that was not).
  const grants = (await readFile(log, 'utf8')).trim().split('\n');
  t.deepEqual(grants.slice(0, 3), ['a', 'b', 'c']);
  t.deepEqual([...grants.slice(3)].sort(), ['a', 'b', 'c']);
});

test('a waiter killed while queued does not hold up the ones behind it', async (t) => {
  const file = join(await tempDir(), 'playbook.json');
  // A process that has exited, queued ahead of everyone (the oldest possible arrival time).
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const deadMarker = `${'0'.repeat(20)}-${hashKey(hostname()).toString(36)}-${dead}-0-abcdef`;
  await mkdir(`${file}.waiters`, { recursive: true });
  await writeFile(join(`${file}.waiters`, deadMarker), '');
  const release = await lockfile.lock(file, { realpath: false });
  // Nothing goes stale or times out under PATIENT_LOCK: only seeing that the waiter ahead is dead lets this one through.
  const waiting = withLock(file, PATIENT_LOCK, async () => 'mine');
  // Queued once its own marker is there; it may already have removed the dead one (after DEAD_CHECK_MS), so a
  // count of 2 can come and go between two looks at the folder.
  await untilInDir(`${file}.waiters`, () => queuedWaiters(file).some((m) => m !== deadMarker));
  await release();
  const { value, timing } = await waiting;
  t.is(value, 'mine');
  t.false(timing.reclaimed, 'the lock was released, not reclaimed');
  t.deepEqual(queuedWaiters(file), [], 'the dead waiter\'s marker is gone');
});

test('threads of one process take turns in order, and a waiter that times out is skipped, not waited for', async (t) => {
  const file = join(await tempDir(), 'playbook.json');
  const first = await takeTurn(file, performance.now() + 120_000);
  t.truthy(first);
  const order: string[] = [];
  const impatient = takeTurn(file, performance.now() + 30);
  const patient = takeTurn(file, performance.now() + 120_000).then((turn) => {
    order.push('patient');
    turn!.release();
  });
  t.is(await impatient, null, 'the impatient waiter gave up');
  order.push('first releases');
  first!.release();
  await patient;
  t.deepEqual(order, ['first releases', 'patient']);
  // And the slot is free again.
  const again = await takeTurn(file, performance.now() + 120_000);
  t.truthy(again);
  again!.release();
});
