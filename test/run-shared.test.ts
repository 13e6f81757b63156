/** `run --commit shared`: the group committers of a multi-process run fold each other's pending batches. */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_LOCK_OPTIONS, withLock } from '../src/store/lock.js';
import { pendingDirOf } from '../src/store/pending.js';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { tempDir, untilInDir } from './helpers.js';

const DOMAIN = 'hot_pot';

test('run --commit shared --processes 3 loses nothing, records commit shared, and folds batches across processes', async (t) => {
  const store = await tempDir();
  const playbook = join(store, 'domains', DOMAIN, 'playbook.json');
  const pending = pendingDirOf(playbook);
  const waiters = `${playbook}.waiters`;
  await mkdir(pending, { recursive: true });
  await mkdir(waiters, { recursive: true });
  // Holding the playbook's lock until two processes queue for it; a shared commit writes its batch before it queues.
  const waiting = (): number => readdirSync(waiters).filter((n) => !n.startsWith('.')).length;
  const queuedBy = (): number => new Set(readdirSync(pending).filter((n) => n.endsWith('.json')).map((n) => n.split('-')[1])).size;
  let run!: ReturnType<typeof cli>;
  // The run's stale time, so its processes see a live holder, not one to reclaim.
  const { value: batchesFrom } = await withLock(playbook, { ...DEFAULT_LOCK_OPTIONS, timeoutMs: 120_000 }, async () => {
    run = cli(['run', '--domains', DOMAIN, '--episodes', '60', '--processes', '3', '--threads', '2', '--episode-ms', '0', '--cap', '1000', '--commit', 'shared', '--store', store, '--json']);
    await untilInDir(waiters, () => waiting() >= 2);
    return queuedBy();
  });
  // Whoever takes the lock now folds both processes' batches in its one write.
  t.true(batchesFrom >= 2, `batches pending from ${batchesFrom} processes while two queued`);
  const r = await run;
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { runId: string; zeroLoss: boolean; contention: Record<string, { merges: number }> };
  t.true(out.zeroLoss);
  const manifest = JSON.parse(await readFile(join(store, 'runs', `${out.runId}.json`), 'utf8')) as { commit: string; status: string };
  t.like(manifest, { commit: 'shared', status: 'complete' });

  const audit = await cliHere(['audit', '--store', store, '--json']);
  t.is(audit.code, 0, audit.stdout);
  t.like(JSON.parse(audit.stdout), { zeroLoss: true, domains: [{ domain: DOMAIN, expected: 60, playbookObservations: 60, lost: 0, unexpected: 0 }] });

  const written = JSON.parse(await readFile(playbook, 'utf8')) as { generation: number; folded_batches?: string[] };
  // Only shared commits record the batches they folded.
  t.true((written.folded_batches?.length ?? 0) > 0, 'folded_batches recorded');
  t.deepEqual(readdirSync(pending), [], 'no batch left pending');
  // Every group commit of every process counts as a merge; one folded into another process's write made none of its own.
  const commits = out.contention[DOMAIN]!.merges;
  t.log(`${written.generation} playbook writes for ${commits} group commits`);
  t.true(written.generation < commits, `${written.generation} playbook writes for ${commits} group commits`);
});

test('run --commit shared with --no-lock is one line, exit 2, nothing written', async (t) => {
  const store = join(await tempDir(), 'store');
  const r = await cliHere(['run', '--domains', 'hot_pot', '--episodes', '2', '--processes', '2', '--commit', 'shared', '--no-lock', '--store', store]);
  assertOneLineError(t, r, '--commit shared', '--no-lock');
  t.deepEqual(await readdir(store).catch(() => 'absent'), 'absent');
});

test('run --help describes --commit shared', async (t) => {
  const r = await cli(['run', '--help']);
  t.is(r.code, 0);
  t.regex(r.stdout.replace(/\s+/g, ' '), /shared: batched, and the lock holder also folds the other processes' pending batches/);
});
