import test from 'ava';
import { mkdir, readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { audit } from '../src/core/audit.js';
import { BadInputError, LockTimeoutError } from '../src/core/errors.js';
import { loadAuditInput } from '../src/store/snapshot.js';
import { Store } from '../src/store/store.js';
import { deltasOf, episodeRecord, obs, tempDir, writeJson } from './helpers.js';

test('merge writes a whole playbook and leaves no temp files', async (t) => {
  const store = new Store(await tempDir());
  const r1 = await store.merge('hot_pot', deltasOf(obs('a')));
  const r2 = await store.merge('hot_pot', deltasOf(obs('b', 'LOW')));
  t.true(r1.changed && r2.changed);
  t.true(r1.bytes > 0);
  const pb = JSON.parse(await readFile(store.playbookPath('hot_pot'), 'utf8'));
  t.deepEqual(pb.observations.map((o: { episode_id: string }) => o.episode_id), ['a', 'b']);
  t.deepEqual(Object.keys(pb), ['generation', 'observations', 'strategies_and_rules', 'troubleshooting', 'context_patterns']);
  t.is(pb.generation, 2, 'every write bumps the generation');
  t.deepEqual((await readdir(store.domainDir('hot_pot'))).sort(), ['episodes', 'metadata', 'playbook.json', 'playbook.lock']);
});

test('a repeated merge is a no-op and does not rewrite the file', async (t) => {
  const store = new Store(await tempDir());
  await store.merge('hot_pot', deltasOf(obs('a')));
  const again = await store.merge('hot_pot', deltasOf(obs('a')));
  t.false(again.changed);
  t.is(again.bytes, 0);
});

test('a corrupt playbook is never overwritten: the merge fails naming the file', async (t) => {
  const store = new Store(await tempDir());
  await mkdir(store.domainDir('chem_tile'), { recursive: true });
  // A section that is absent is read as empty, as the reference tool reads it; one that is not a list is corrupt.
  for (const bad of ['{"observations": [', '', '{"observations": {}}', '{"observations": [], "troubleshooting": "none"}', '{"observations":[{"score":1,"reliability":"HIGH"}],"strategies_and_rules":[],"troubleshooting":[],"context_patterns":[]}']) {
    await writeFile(store.playbookPath('chem_tile'), bad);
    const err = await t.throwsAsync(store.merge('chem_tile', deltasOf(obs('a'))), { instanceOf: BadInputError });
    t.true(err!.message.includes(store.playbookPath('chem_tile')), err!.message);
    t.is(await readFile(store.playbookPath('chem_tile'), 'utf8'), bad);
  }
});

test('an episode file is never overwritten; an identical retry is accepted', async (t) => {
  const store = new Store(await tempDir());
  const record = episodeRecord(obs('ep1'));
  await store.writeEpisode('hot_pot', record);
  await t.notThrowsAsync(store.writeEpisode('hot_pot', record));
  const before = await readFile(store.episodePath('hot_pot', 'ep1'), 'utf8');
  await t.throwsAsync(store.writeEpisode('hot_pot', episodeRecord(obs('ep1', 'LOW'))), { instanceOf: BadInputError, message: /refusing to overwrite/ });
  t.is(await readFile(store.episodePath('hot_pot', 'ep1'), 'utf8'), before);
  t.deepEqual(await readdir(store.episodesDir('hot_pot')), ['ep1.json']);
});

test('temp files left by a crash are ignored by readers and the audit', async (t) => {
  const store = new Store(await tempDir());
  await store.writeEpisode('hot_pot', episodeRecord(obs('ep1')));
  await store.merge('hot_pot', deltasOf(obs('ep1')));
  await writeFile(join(store.domainDir('hot_pot'), '.playbook.json.999.0.abcd.tmp'), '{"observations": [');
  await writeFile(join(store.episodesDir('hot_pot'), '.ep2.json.999.0.abcd.tmp'), '{');
  const report = audit(await loadAuditInput(store));
  t.like(report.domains[0], { domain: 'hot_pot', episodeFiles: 1, playbookObservations: 1, lost: 0 });
});

test('a lock held elsewhere past the timeout fails with a message naming the file', async (t) => {
  const store = new Store(await tempDir(), { lock: { staleMs: 10_000, timeoutMs: 150, minRetryMs: 1, maxRetryMs: 16 } });
  await mkdir(store.domainDir('hot_pot'), { recursive: true });
  const release = await lockfile.lock(store.playbookPath('hot_pot'), { realpath: false });
  const err = await t.throwsAsync(store.merge('hot_pot', deltasOf(obs('a'))), { instanceOf: LockTimeoutError });
  t.true(err!.message.includes(store.playbookPath('hot_pot')));
  await release();
  await t.notThrowsAsync(store.merge('hot_pot', deltasOf(obs('a'))));
});

test('a stale lock left by a dead writer is reclaimed', async (t) => {
  const store = new Store(await tempDir(), { lock: { staleMs: 2_000, timeoutMs: 120_000, minRetryMs: 1, maxRetryMs: 16 } });
  await mkdir(`${store.playbookPath('hot_pot')}.lock`, { recursive: true });
  const old = new Date(Date.now() - 60_000);
  await utimes(`${store.playbookPath('hot_pot')}.lock`, old, old);
  const r = await store.merge('hot_pot', deltasOf(obs('a')));
  t.true(r.changed);
  t.is(r.reclaimed, 1);
  t.is(r.retries, 0, 'reclaimed at the first look: the lock was already stale, nothing was waited for');
});

test('the store refuses a directory it cannot write, naming it', async (t) => {
  const dir = await tempDir();
  await writeJson(join(dir, 'file'), 'x');
  const err = await t.throwsAsync(new Store(join(dir, 'file', 'store')).init(['hot_pot']), { instanceOf: BadInputError });
  t.true(err!.message.includes(join(dir, 'file', 'store')));
});
