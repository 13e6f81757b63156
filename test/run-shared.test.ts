/** `run --commit shared`: the group committers of a multi-process run fold each other's pending batches. */
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertOneLineError, cli } from './cli-helper.js';
import { tempDir } from './helpers.js';

const DOMAINS = ['hot_pot', 'switch_light'];

test('run --commit shared --processes 3 loses nothing, records commit shared, and folds batches across processes', async (t) => {
  const store = await tempDir();
  const r = await cli(['run', '--domains', DOMAINS.join(','), '--episodes', '60', '--processes', '3', '--threads', '2', '--episode-ms', '0', '--cap', '1000', '--commit', 'shared', '--store', store, '--json']);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { runId: string; zeroLoss: boolean; contention: Record<string, { count: number; merges: number }> };
  t.true(out.zeroLoss);
  const manifest = JSON.parse(await readFile(join(store, 'runs', `${out.runId}.json`), 'utf8')) as { commit: string; status: string };
  t.like(manifest, { commit: 'shared', status: 'complete' });

  const audit = await cli(['audit', '--store', store, '--json']);
  t.is(audit.code, 0, audit.stdout);
  t.like(JSON.parse(audit.stdout), { zeroLoss: true, domains: DOMAINS.map((domain) => ({ domain, expected: 60, playbookObservations: 60, lost: 0, unexpected: 0 })) });

  let writes = 0;
  let commits = 0;
  for (const domain of DOMAINS) {
    const file = join(store, 'domains', domain, 'playbook.json');
    const playbook = JSON.parse(await readFile(file, 'utf8')) as { generation: number; folded_batches?: string[] };
    // Only shared commits record the batches they folded.
    t.true((playbook.folded_batches?.length ?? 0) > 0, `${domain}: folded_batches recorded`);
    t.deepEqual(await readdir(`${file}.pending`).catch(() => []), [], `${domain}: no batch left pending`);
    writes += playbook.generation;
    commits += out.contention[domain]!.merges;
  }
  // Every group commit of every process counts as a merge; one folded into another process's write made no write of its own.
  t.true(writes < commits, `${writes} playbook writes for ${commits} group commits`);
});

test('run --commit shared with --no-lock is one line, exit 2, nothing written', async (t) => {
  const store = join(await tempDir(), 'store');
  const r = await cli(['run', '--domains', 'hot_pot', '--episodes', '2', '--processes', '2', '--commit', 'shared', '--no-lock', '--store', store]);
  assertOneLineError(t, r, '--commit shared', '--no-lock');
  t.deepEqual(await readdir(store).catch(() => 'absent'), 'absent');
});

test('run --help describes --commit shared', async (t) => {
  const r = await cli(['run', '--help']);
  t.is(r.code, 0);
  t.regex(r.stdout.replace(/\s+/g, ' '), /shared: batched, and the lock holder also folds the other processes' pending batches/);
});
