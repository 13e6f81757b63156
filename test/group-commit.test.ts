/** Group commit: one lock and one durable write for many episodes, each acknowledged only once durable. */
import test from 'ava';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { episodeFileText, episodeRecordOf } from '../src/core/episode.js';
import { BadInputError } from '../src/core/errors.js';
import { GroupCommitter } from '../src/store/committer.js';
import { repairStore } from '../src/store/repair.js';
import { Store } from '../src/store/store.js';
import { cliRun } from './cli-helper.js';
import { deltasOf, episodeRecord, obs, tempDir } from './helpers.js';

const onDisk = async (store: Store): Promise<string[]> =>
  JSON.parse(await readFile(store.playbookPath('hot_pot'), 'utf8').catch(() => '{"observations":[]}'))
    .observations.map((o: { episode_id: string }) => o.episode_id)
    .sort();

test('episodes are acknowledged only after their observations are durable, and later ones join the next batch', async (t) => {
  // Each commit stops after writing its temp file: it tells the test (reached[n]) and waits until the test opens its gate.
  const gates: (() => void)[] = [];
  const arrivals: (() => void)[] = [];
  const reached = [0, 1].map((n) => new Promise<void>((r) => (arrivals[n] = r)));
  let commits = 0;
  const store = new Store(await tempDir(), {
    faults: async (point) => {
      if (point === 'temp-written') {
        const gate = new Promise<void>((r) => gates.push(r));
        arrivals[commits++]!();
        await gate;
      }
    },
  });
  const committer = new GroupCommitter(store);
  const acked: string[] = [];
  const submit = (id: string) => committer.submit('hot_pot', deltasOf(obs(id))).then((r) => (acked.push(id), r));

  const first = [submit('a'), submit('b'), submit('c')];
  await reached[0];
  t.is(commits, 1, 'the first batch is being written');
  t.deepEqual(acked, [], 'nothing is acknowledged before the rename');
  t.deepEqual(await onDisk(store), []);
  // These arrive while the first batch is inside its critical section.
  const second = [submit('d'), submit('e')];

  gates[0]!();
  const results = await Promise.all(first);
  t.deepEqual(results.map((r) => r.batch), [3, 3, 3]);
  t.deepEqual(await onDisk(store), ['a', 'b', 'c'], 'acknowledged means on disk');
  t.deepEqual(acked.sort(), ['a', 'b', 'c']);

  // The two that waited go together, in the second commit.
  await reached[1];
  t.is(commits, 2);
  gates[1]!();
  const later = await Promise.all(second);
  t.deepEqual(later.map((r) => r.batch), [2, 2]);
  t.deepEqual(await onDisk(store), ['a', 'b', 'c', 'd', 'e']);
});

test('a failed commit acknowledges nobody and leaves a corrupt playbook untouched', async (t) => {
  const store = new Store(await tempDir());
  await mkdir(store.domainDir('hot_pot'), { recursive: true });
  await writeFile(store.playbookPath('hot_pot'), '{"observations": [');
  const committer = new GroupCommitter(store);
  const results = await Promise.allSettled([committer.submit('hot_pot', deltasOf(obs('a'))), committer.submit('hot_pot', deltasOf(obs('b')))]);
  t.true(results.every((r) => r.status === 'rejected' && r.reason instanceof BadInputError));
  t.is(await readFile(store.playbookPath('hot_pot'), 'utf8'), '{"observations": [');
});

test('a batched run across 4 processes × 4 threads loses nothing and needs fewer merges than episodes', async (t) => {
  const experiment = { name: 'batched', domains: ['hot_pot', 'chem_tile', 'switch_light'], episodes: 20, threads: 4, processes: 4, episodeMs: 0, cap: 100, seed: 2 };
  const { code, stderr, manifest, report } = await cliRun(await tempDir(), experiment, '--commit', 'batched');
  t.is(code, 0, stderr);
  t.is(manifest.commit, 'batched');
  t.true(manifest.episodes!.every((e) => e.status === 'ok'));
  for (const d of report.domains) t.like(d, { episodesRun: 20, episodeFiles: 20, playbookObservations: 20, lost: 0 });
  t.true(report.zeroLoss);
  const contention = Object.values(manifest.contention!);
  t.is(contention.reduce((n, c) => n + c.count, 0), 60);
  t.true(contention.reduce((n, c) => n + c.merges, 0) <= 60);
});

test('a batch makes its episode files durable before its merge; a conflicting file refuses only its own episode', async (t) => {
  let filesAtMerge: string[] = [];
  const store = new Store(await tempDir(), {
    asyncIo: true,
    faults: async (point) => {
      if (point === 'locked') filesAtMerge = (await store.listEpisodeFiles('hot_pot')).map((f) => basename(f)).sort();
    },
  });
  await store.init(['hot_pot']);
  // An older file under b's id with other content: b must be refused, and must not reach the playbook.
  await writeFile(store.episodePath('hot_pot', 'b'), '{"other": true}\n');
  const committer = new GroupCommitter(store);
  const submit = (id: string) => committer.submit('hot_pot', deltasOf(obs(id)), episodeRecord(obs(id)));
  const results = await Promise.allSettled([submit('a'), submit('b'), submit('c')]);
  t.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  t.true(results[1]!.status === 'rejected' && results[1].reason instanceof BadInputError);
  t.deepEqual(filesAtMerge, ['a.json', 'b.json', 'c.json'], 'every file of the batch was in place when the lock was taken');
  t.deepEqual(await onDisk(store), ['a', 'c']);
  t.is(await readFile(store.episodePath('hot_pot', 'b'), 'utf8'), '{"other": true}\n', 'the older file is untouched');
  t.deepEqual(JSON.parse(await readFile(store.episodePath('hot_pot', 'a'), 'utf8')), episodeRecord(obs('a')));
  // A retried submit of an acknowledged episode writes nothing new and changes nothing.
  const again = await submit('a');
  t.false(again.changed);
});

test('an episode handed over as its file text (serialized by the worker thread) is written byte for byte as its record would be', async (t) => {
  const store = new Store(await tempDir(), { asyncIo: true });
  await store.init(['hot_pot']);
  const committer = new GroupCommitter(store);
  const [a, b] = [episodeRecord(obs('a'), 'run-1'), episodeRecord(obs('b'), 'run-1')];
  await Promise.all([
    committer.submit('hot_pot', deltasOf(obs('a')), { episode_id: 'a', text: episodeFileText(a) }),
    committer.submit('hot_pot', deltasOf(obs('b')), b),
  ]);
  // The same bytes either way: indented JSON and a final newline, the reference tool's format.
  t.is(await readFile(store.episodePath('hot_pot', 'a'), 'utf8'), `${JSON.stringify(a, null, 2)}\n`);
  t.is(await readFile(store.episodePath('hot_pot', 'b'), 'utf8'), `${JSON.stringify(b, null, 2)}\n`);
  t.deepEqual(await onDisk(store), ['a', 'b']);
  // A store that keeps records as rows (PostgreSQL) gets the record back from the text.
  t.deepEqual(episodeRecordOf({ episode_id: 'a', text: episodeFileText(a) }), a);
  t.is(episodeRecordOf(a), a);
});

test('an episode file is written as its episode arrives, while an earlier batch commits; it is acknowledged with its own batch', async (t) => {
  /** The store, noting each episode file the committer starts. */
  class Noting extends Store {
    readonly linked = new Map<string, Promise<unknown>>();
    override linkEpisode(...args: Parameters<Store['linkEpisode']>): ReturnType<Store['linkEpisode']> {
      const started = super.linkEpisode(...args);
      this.linked.set(args[1].episode_id, started);
      return started;
    }
  }
  let holding!: () => void;
  const held = new Promise<void>((r) => (holding = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let first = true;
  const store = new Noting(await tempDir(), {
    asyncIo: true,
    faults: async (point) => {
      if (point === 'locked' && first) {
        first = false;
        holding();
        await gate;
      }
    },
  });
  await store.init(['hot_pot']);
  const committer = new GroupCommitter(store);
  const acked: string[] = [];
  const submit = (id: string) => committer.submit('hot_pot', deltasOf(obs(id)), episodeRecord(obs(id))).then((r) => (acked.push(id), r));
  const a = submit('a');
  await held;
  // a's batch holds the lock; b arrives now, and its file is written and linked before that batch ends.
  const b = submit('b');
  t.true(store.linked.has('b'), 'b’s file was started on arrival');
  t.is(await store.linked.get('b'), true);
  t.deepEqual(JSON.parse(await readFile(store.episodePath('hot_pot', 'b'), 'utf8')), episodeRecord(obs('b')));
  t.deepEqual(acked, [], 'nothing is acknowledged while the first batch holds the lock');
  t.deepEqual(await onDisk(store), []);
  release();
  t.is((await a).batch, 1);
  t.is((await b).batch, 1, 'b is merged by the next batch, not the one it arrived during');
  t.deepEqual(await onDisk(store), ['a', 'b']);
});

test('a batch’s merge runs while its files’ directory fsync does and renames only after it; if that fsync fails, nobody is acknowledged and nothing is merged', async (t) => {
  const events: string[] = [];
  const syncs: { release: () => void; fail: boolean }[] = [];
  let lockedNow!: () => void;
  let locked = new Promise<void>((r) => (lockedNow = r));
  /** The store, holding each episode-directory fsync until the test releases it; the second one fails, as a disk error would. */
  class Syncing extends Store {
    override async syncEpisodes(domain: string): Promise<void> {
      events.push('dir-fsync');
      const sync = { release: () => {}, fail: syncs.length === 1 };
      syncs.push(sync);
      await new Promise<void>((r) => (sync.release = r));
      if (sync.fail) throw Object.assign(new Error('fsync failed'), { code: 'EIO' });
      await super.syncEpisodes(domain);
      events.push('dir-fsynced');
    }
  }
  const store = new Syncing(await tempDir(), {
    asyncIo: true,
    faults: (point) => {
      if (point === 'locked') events.push('locked'), lockedNow();
      if (point === 'temp-written') events.push('renaming');
    },
  });
  await store.init(['hot_pot']);
  const committer = new GroupCommitter(store);
  const submit = (id: string) => committer.submit('hot_pot', deltasOf(obs(id)), episodeRecord(obs(id)));
  const first = Promise.all([submit('a'), submit('b')]);
  await locked;
  t.deepEqual(events, ['dir-fsync', 'locked'], 'the merge took the lock while the links were being made durable');
  t.deepEqual(await onDisk(store), [], 'and renames nothing before they are');
  syncs[0]!.release();
  await first;
  t.deepEqual(events, ['dir-fsync', 'locked', 'dir-fsynced', 'renaming']);
  t.deepEqual(await onDisk(store), ['a', 'b']);

  events.length = 0;
  locked = new Promise<void>((r) => (lockedNow = r));
  const second = Promise.allSettled([submit('c'), submit('d')]);
  await locked;
  syncs[1]!.release();
  const failed = await second;
  t.true(failed.every((r) => r.status === 'rejected' && /fsync failed/.test(String(r.reason))), 'no episode of the batch is acknowledged');
  t.deepEqual(events, ['dir-fsync', 'locked'], 'its merge stopped before its rename');
  t.deepEqual(await onDisk(store), ['a', 'b']);
  t.deepEqual((await readdir(store.domainDir('hot_pot'))).filter((n) => n.endsWith('.tmp')), [], 'its temp file is gone');
});

test('a batch that fails between its episode files and its merge acknowledges nobody, and repair merges the files', async (t) => {
  const dir = await tempDir();
  const failing = new Store(dir, {
    faults: (point) => {
      if (point === 'locked') throw new Error('crash after the episode files, before the merge');
    },
  });
  await failing.init(['hot_pot']);
  const committer = new GroupCommitter(failing);
  const results = await Promise.allSettled(['a', 'b'].map((id) => committer.submit('hot_pot', deltasOf(obs(id)), episodeRecord(obs(id)))));
  t.true(results.every((r) => r.status === 'rejected'), 'nothing acknowledged');
  const store = new Store(dir);
  t.deepEqual((await store.listEpisodeFiles('hot_pot')).map((f) => basename(f)).sort(), ['a.json', 'b.json']);
  t.deepEqual(await onDisk(store), []);
  const repair = await repairStore(store, { cap: 10 });
  t.deepEqual(repair.domains[0]!.recovered, ['a', 'b']);
  t.deepEqual(await onDisk(store), ['a', 'b']);
});

test('the next batch takes the lock while the last one\'s rename is still being made durable; each is acknowledged only after its own', async (t) => {
  const events: string[] = [];
  let parkedNow!: () => void;
  const parked = new Promise<void>((r) => (parkedNow = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let releases = 0;
  const store = new Store(await tempDir(), {
    asyncIo: true,
    faults: async (point) => {
      if (point === 'locked') events.push('locked');
      // The first batch stops after releasing the lock, before the directory fsync that makes its rename durable.
      if (point === 'released' && releases++ === 0) {
        events.push('released, not yet durable');
        parkedNow();
        await gate;
      }
    },
  });
  const committer = new GroupCommitter(store);
  const acked: string[] = [];
  const a = committer.submit('hot_pot', deltasOf(obs('a'))).then(() => void acked.push('a'));
  await parked;
  const b = committer.submit('hot_pot', deltasOf(obs('b'))).then(() => void acked.push('b'));
  // With the first batch still parked, the second goes through its whole merge (it would wait forever otherwise).
  await Promise.race([b, a]);
  t.deepEqual(events, ['locked', 'released, not yet durable', 'locked']);
  t.deepEqual(acked, ['b'], 'the first batch is not acknowledged before its own directory fsync');
  t.deepEqual(await onDisk(store), ['a', 'b']);
  release();
  await a;
  t.deepEqual(acked, ['b', 'a']);
});
