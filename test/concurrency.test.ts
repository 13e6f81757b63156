/**
 * Real threads and real OS processes merging into one playbook, started
 * together at a barrier. The cap is larger than the number of observations,
 * so every single merge must survive: one lost write fails the audit.
 */
import test from 'ava';
import { Piscina } from 'piscina';
import { audit } from '../src/core/audit.js';
import { loadAuditInput } from '../src/store/snapshot.js';
import { Store } from '../src/store/store.js';
import type { ThreadJob } from './fixtures/thread-writer.js';
import { fixtureThreads, forkFixture, tempDir } from './helpers.js';

const THREADS = 8;
const PROCESSES = 4;
const MERGES = 25;

test(`${THREADS} writer threads merging into one playbook lose nothing`, async (t) => {
  const dir = await tempDir();
  const cap = THREADS * MERGES;
  const pool = new Piscina<ThreadJob, number>({ ...fixtureThreads('fixtures/thread-writer.ts'), minThreads: THREADS, maxThreads: THREADS });
  const barrier = new SharedArrayBuffer(4);
  const changed = await Promise.all(
    Array.from({ length: THREADS }, (_, writer) => pool.run({ store: dir, domain: 'hot_pot', writer, merges: MERGES, cap, barrier, parties: THREADS })),
  );
  await pool.destroy();
  t.deepEqual(changed, new Array(THREADS).fill(MERGES), 'every merge changed the playbook');

  const store = new Store(dir);
  const report = audit(await loadAuditInput(store, { cap }));
  t.like(report.domains[0], { domain: 'hot_pot', episodeFiles: cap, playbookObservations: cap, expected: cap, lost: 0, unexpected: 0 });
  t.true(report.zeroLoss);
  // Under the default cap the playbook holds exactly the top 10.
  const capped = audit(await loadAuditInput(store, { cap: 10 }));
  t.like(capped.domains[0], { expected: 10 });
});

test(`${PROCESSES} OS processes merging into one playbook lose nothing`, async (t) => {
  const dir = await tempDir();
  const cap = PROCESSES * MERGES;
  const children = Array.from({ length: PROCESSES }, (_, writer) => forkFixture('fixtures/process-writer.ts', [JSON.stringify({ store: dir, domain: 'chem_tile', writer, merges: MERGES, cap })]));
  const ready = children.map((c) => new Promise<void>((resolve) => c.once('message', () => resolve())));
  const exited = children.map((c) => new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code))));
  await Promise.all(ready);
  for (const c of children) c.send('go');
  t.deepEqual(await Promise.all(exited), new Array(PROCESSES).fill(0));

  const report = audit(await loadAuditInput(new Store(dir), { cap }));
  t.like(report.domains[0], { domain: 'chem_tile', episodeFiles: cap, playbookObservations: cap, lost: 0, unexpected: 0 });
  t.true(report.zeroLoss);
});
