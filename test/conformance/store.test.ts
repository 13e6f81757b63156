/**
 * The store conformance suite: the same tests against every backend. A
 * backend that passes is correct by this project's definition: the pure merge
 * rules, idempotence by episode id, no loss from concurrent threads and
 * processes, group commit acknowledging only what is durable, a writer killed
 * mid-commit leaving the playbook whole, and the audit's findings.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { Piscina } from 'piscina';
import { audit } from '../../src/core/audit.js';
import { BadInputError } from '../../src/core/errors.js';
import { applyDeltas, combineDeltas, emptyPlaybook } from '../../src/core/merge.js';
import type { StoreBackend } from '../../src/store/backend.js';
import { GroupCommitter } from '../../src/store/committer.js';
import { isPostgresUrl } from '../../src/store/backend.js';
import { PgStore } from '../../src/store/pg/pg-store.js';
import { Store } from '../../src/store/store.js';
import type { StoreOptions } from '../../src/store/store.js';
import { observationFor } from '../fixtures/writer.js';
import { deltasOf, episodeRecord, fixtureThreads, forkFixture, obs } from '../helpers.js';
import { BACKENDS } from './backends.js';
import type { BackendHarness } from './backends.js';

const THREADS = 4;
const PROCESSES = 3;
const MERGES = 15;
const ids = (p: { observations: { episode_id: string }[] }): string[] => p.observations.map((o) => o.episode_id);
const { generation: _g, ...noGeneration } = emptyPlaybook() as Record<string, unknown>;
const content = (p: Record<string, unknown>): Record<string, unknown> => {
  const { generation: _gen, ...rest } = p;
  return rest;
};

/** Opens a fresh store of the backend for one test, and removes it when the test ends. */
async function fresh(t: ExecutionContext, backend: BackendHarness, options: Partial<StoreOptions> = {}): Promise<{ value: string; open: (o?: Partial<StoreOptions>) => StoreBackend }> {
  const f = await backend.fresh();
  const opened: StoreBackend[] = [];
  t.teardown(async () => {
    for (const s of opened) await s.close();
    await f.cleanup();
  });
  const open = (o: Partial<StoreOptions> = options): StoreBackend => {
    // The backend the value names, as openStore picks it (opened synchronously, for many opens per test).
    const s: StoreBackend = isPostgresUrl(f.store) ? new PgStore(f.store, o) : new Store(f.store, o);
    opened.push(s);
    return s;
  };
  await open().init(['hot_pot']);
  return { value: f.store, open };
}

for (const backend of BACKENDS) {
  const it = (title: string, body: (t: ExecutionContext) => Promise<void>): void => {
    test(`[${backend.name}] ${title}`, async (t) => {
      const why = await backend.unavailable();
      if (why) {
        t.log(`SKIPPED: ${why}`);
        t.pass();
        return;
      }
      await body(t);
    });
  };

  it('merges follow the pure rules, in any order and batching', async (t) => {
    const all = Array.from({ length: 14 }, (_, i) => observationFor(i % 3, i));
    const expected = applyDeltas(emptyPlaybook(), deltasOf(...all), 10);
    const one = (await fresh(t, backend, { cap: 10 })).open();
    for (const o of all) await one.merge('hot_pot', deltasOf(o));
    const other = (await fresh(t, backend, { cap: 10 })).open();
    await other.merge('hot_pot', combineDeltas(all.slice(7).map((o) => deltasOf(o))));
    await other.merge('hot_pot', combineDeltas(all.slice(0, 7).reverse().map((o) => deltasOf(o))));
    t.deepEqual(content(await one.readPlaybook('hot_pot')), content(expected));
    t.deepEqual(content(await other.readPlaybook('hot_pot')), content(expected));
    t.is(ids(await one.readPlaybook('hot_pot')).length, 10);
    t.deepEqual(noGeneration, content(emptyPlaybook()));
  });

  it('an episode record is written once, and a repeated merge changes nothing', async (t) => {
    const store = (await fresh(t, backend)).open();
    const o = obs('e-1');
    await store.writeEpisode('hot_pot', episodeRecord(o));
    await t.notThrowsAsync(store.writeEpisode('hot_pot', episodeRecord(o)), 'an identical retry is accepted');
    await t.throwsAsync(store.writeEpisode('hot_pot', episodeRecord({ ...o, score: 0.9 })), { instanceOf: BadInputError });
    const first = await store.merge('hot_pot', deltasOf(o));
    const again = await store.merge('hot_pot', deltasOf(o));
    t.true(first.changed);
    t.false(again.changed);
    t.is(again.generation, first.generation);
    t.deepEqual(ids(await store.readPlaybook('hot_pot')), ['e-1']);
  });

  it(`${THREADS} threads merging into one playbook lose nothing`, async (t) => {
    const { value, open } = await fresh(t, backend);
    const cap = THREADS * MERGES;
    const pool = new Piscina({ ...fixtureThreads('conformance/fixtures/thread-writer.ts'), minThreads: THREADS, maxThreads: THREADS });
    const barrier = new SharedArrayBuffer(4);
    const changed = await Promise.all(Array.from({ length: THREADS }, (_, writer) => pool.run({ store: value, domain: 'hot_pot', writer, merges: MERGES, cap, barrier, parties: THREADS })));
    await pool.destroy();
    t.deepEqual(changed, new Array(THREADS).fill(MERGES));
    const report = audit(await open().auditInput({ cap }));
    t.like(report.domains[0], { domain: 'hot_pot', episodeFiles: cap, playbookObservations: cap, lost: 0, unexpected: 0 });
    t.true(report.zeroLoss);
  });

  it(`${PROCESSES} processes merging into one playbook lose nothing`, async (t) => {
    const { value, open } = await fresh(t, backend);
    const cap = PROCESSES * MERGES;
    const children = Array.from({ length: PROCESSES }, (_, writer) =>
      forkFixture('conformance/fixtures/process-writer.ts', [JSON.stringify({ store: value, domain: 'hot_pot', writer, merges: MERGES, cap })]),
    );
    const ready = children.map((c) => new Promise<void>((resolve) => c.once('message', () => resolve())));
    const exited = children.map((c) => new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code))));
    await Promise.all(ready);
    for (const c of children) c.send('go');
    t.deepEqual(await Promise.all(exited), new Array(PROCESSES).fill(0));
    const report = audit(await open().auditInput({ cap }));
    t.like(report.domains[0], { episodeFiles: cap, playbookObservations: cap, lost: 0, unexpected: 0 });
    t.true(report.zeroLoss);
  });

  it('group commit acknowledges a batch only once it is durable; later submissions join the next batch', async (t) => {
    const reached: (() => void)[] = [];
    const gates: (() => void)[] = [];
    const atPoint = [new Promise<void>((r) => reached.push(r)), new Promise<void>((r) => reached.push(r))];
    const { open } = await fresh(t, backend);
    let commits = 0;
    const writer = open({
      faults: async (point) => {
        if (point !== 'temp-written') return;
        const n = commits++;
        const gate = new Promise<void>((r) => gates.push(r));
        reached[n]?.();
        await gate;
      },
    });
    const reader = open({});
    const committer = new GroupCommitter(writer);
    const acked: string[] = [];
    const submit = (id: string) => committer.submit('hot_pot', deltasOf(obs(id))).then((r) => (acked.push(id), r));
    const first = [submit('a'), submit('b'), submit('c')];
    await atPoint[0];
    t.deepEqual(acked, [], 'nothing acknowledged inside the commit');
    t.deepEqual(ids(await reader.readPlaybook('hot_pot')), [], 'nothing visible before the commit');
    const second = [submit('d'), submit('e')];
    gates[0]!();
    t.deepEqual((await Promise.all(first)).map((r) => r.batch), [3, 3, 3]);
    t.deepEqual(ids(await reader.readPlaybook('hot_pot')).sort(), ['a', 'b', 'c'], 'acknowledged means durable and visible');
    await atPoint[1];
    gates[1]!();
    t.deepEqual((await Promise.all(second)).map((r) => r.batch), [2, 2]);
    t.deepEqual(ids(await reader.readPlaybook('hot_pot')).sort(), ['a', 'b', 'c', 'd', 'e']);
  });

  it('a writer killed mid-commit leaves the playbook whole; the next writer proceeds and the audit sees the lost merge', async (t) => {
    const { value, open } = await fresh(t, backend, { cap: 100, lock: { staleMs: 2_000, timeoutMs: 20_000, minRetryMs: 1, maxRetryMs: 16 } });
    const store = open();
    await store.merge('hot_pot', deltasOf(obs('before')));
    const child = forkFixture('conformance/fixtures/crash-writer.ts', [value, 'victim', 'temp-written']);
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    t.deepEqual(ids(await store.readPlaybook('hot_pot')), ['before'], 'the playbook is whole and holds only committed merges');
    await store.merge('hot_pot', deltasOf(obs('after')));
    t.deepEqual(ids(await store.readPlaybook('hot_pot')).sort(), ['after', 'before']);
    const report = audit(await store.auditInput({ cap: 100 }));
    t.deepEqual(report.domains[0]!.lostIds, ['victim'], 'its episode record is there, its merge is not: the audit says so');
    t.false(report.zeroLoss);
  });

  it("the audit's findings: lost, unexpected and zero loss", async (t) => {
    const store = (await fresh(t, backend)).open();
    const kept = obs('kept', 'HIGH', 0.9);
    const lost = obs('lost', 'HIGH', 0.8);
    for (const o of [kept, lost]) await store.writeEpisode('hot_pot', episodeRecord(o));
    await store.merge('hot_pot', deltasOf(kept, obs('stray', 'LOW', 0.1)));
    const report = audit(await store.auditInput({ cap: 10 }));
    t.like(report.domains[0], { episodeFiles: 2, playbookObservations: 2, expected: 2, lost: 1, lostIds: ['lost'], unexpected: 1, unexpectedIds: ['stray'] });
    t.false(report.zeroLoss);
    await store.merge('hot_pot', deltasOf(lost));
    t.true(audit(await store.auditInput({ cap: 10 })).zeroLoss);
  });
}
