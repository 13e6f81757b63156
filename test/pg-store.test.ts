/** PostgreSQL-only behaviour: schema versioning, bad URLs, connection loss retried and reported. */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import pg from 'pg';
import { BadInputError } from '../src/core/errors.js';
import { PgStore } from '../src/store/pg/pg-store.js';
import { SCHEMA_VERSION } from '../src/store/pg/schema.js';
import { freshPgSchema, PG_URL, pgUnavailable } from './conformance/backends.js';
import { deltasOf, episodeRecord, obs } from './helpers.js';

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const pgTest = (title: string, body: (t: ExecutionContext) => Promise<void>): void =>
  test(title, async (t) => {
    const why = await pgUnavailable();
    if (why) return void (t.log(`SKIPPED: ${why}`), t.pass());
    await body(t);
  });

async function freshStore(t: ExecutionContext, suffix = ''): Promise<{ url: string; schema: string; store: PgStore }> {
  const f = await freshPgSchema();
  const url = `${f.store}${suffix}`;
  const store = new PgStore(url);
  t.teardown(async () => {
    await store.close();
    await f.cleanup();
  });
  return { url, schema: new URL(url).searchParams.get('schema')!, store };
}

pgTest('the schema is created on first use, versioned, and a newer version is refused naming the store', async (t) => {
  const { url, schema, store } = await freshStore(t);
  await store.init();
  t.is(await admin(async (c) => (await c.query(`SELECT max(version) AS v FROM "${schema}".schema_version`)).rows[0].v), SCHEMA_VERSION);
  await admin((c) => c.query(`INSERT INTO "${schema}".schema_version (version) VALUES ($1)`, [SCHEMA_VERSION + 1]));
  const later = new PgStore(url);
  t.teardown(() => later.close());
  const err = await t.throwsAsync(later.init(), { instanceOf: BadInputError });
  t.regex(err!.message, new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this ace-orch reads \\(${SCHEMA_VERSION}\\)`));
  t.true(err!.message.includes(schema));
});

pgTest('a store of schema version 1 is read as it is, and migrated to the current version by the first write', async (t) => {
  const { url, schema, store } = await freshStore(t);
  await store.init();
  await store.writeEpisode('hot_pot', episodeRecord(obs('old')));
  await store.merge('hot_pot', deltasOf(obs('old')));
  // Version 1, as an earlier release left it: no run_entry column.
  await admin((c) => c.query(`ALTER TABLE "${schema}".episodes DROP COLUMN run_entry; DELETE FROM "${schema}".schema_version; INSERT INTO "${schema}".schema_version (version) VALUES (1)`));
  const version = (): Promise<number> => admin(async (c) => (await c.query(`SELECT max(version) AS v FROM "${schema}".schema_version`)).rows[0].v);
  const columns = (): Promise<string[]> =>
    admin(async (c) => (await c.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'episodes'`, [schema])).rows.map((r) => r.column_name));

  // A reader (audit, export) changes nothing: the earlier release can still open the store afterwards.
  const reader = new PgStore(url);
  t.teardown(() => reader.close());
  const input = await reader.auditInput({});
  t.deepEqual(input.domains.map((d) => d.episodes.length), [1]);
  t.is(await version(), 1);
  t.false((await columns()).includes('run_entry'));

  // A writer migrates it, in one transaction, and writes as this release does.
  const writer = new PgStore(url);
  t.teardown(() => writer.close());
  await writer.writeEpisode('hot_pot', episodeRecord(obs('new')));
  t.is(await version(), SCHEMA_VERSION);
  t.true((await columns()).includes('run_entry'));
  t.deepEqual((await writer.listEpisodes('hot_pot')).map((e) => e.record.episode_id).sort(), ['new', 'old']);
});

pgTest('an unreachable server, bad credentials or a missing database are one-line errors with the password masked', async (t) => {
  const cases: [string, RegExp][] = [
    ['postgres://root:hunter2@127.0.0.1:1/test', /cannot be reached/],
    ['postgres://nobody:hunter2@127.0.0.1:5432/test', /rejected the credentials/],
    ['postgres://root:hunter2@127.0.0.1:5432/no_such_db_ace', /has no such database/],
  ];
  for (const [url, why] of cases) {
    const store = new PgStore(url);
    const err = await t.throwsAsync(store.init(), { instanceOf: BadInputError });
    await store.close();
    t.regex(err!.message, why);
    t.true(err!.message.includes(':***@'), err!.message);
    t.false(err!.message.includes('hunter2'));
  }
  t.throws(() => new PgStore('postgres://root@127.0.0.1:5432/test?schema=Bad-Name'), { instanceOf: BadInputError, message: /schema/ });
});

pgTest('a connection lost mid-merge is retried, reported, and loses nothing', async (t) => {
  const f = await freshPgSchema();
  let cut = false;
  // Inside the merge's transaction, with the playbook row locked, the server drops our connection.
  const store = new PgStore(`${f.store}&application_name=ace_retry_test`, {
    faults: async (point) => {
      if (point !== 'locked' || cut) return;
      cut = true;
      await admin((c) => c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ace_retry_test'`));
    },
  });
  t.teardown(async () => {
    await store.close();
    await f.cleanup();
  });
  await store.init();
  const reports: string[] = [];
  store.onRetry = (r) => reports.push(r.error);
  const r = await store.merge('hot_pot', deltasOf(obs('a')));
  t.true(cut);
  t.true(r.changed);
  t.true(store.retried >= 1, 'the failure was retried');
  t.true(reports.length >= 1, 'and reported');
  t.deepEqual((await store.readPlaybook('hot_pot')).observations.map((o) => o.episode_id), ['a']);
});

pgTest('episodes starting together share one playbook read per domain, each with its own copy, and a read asked after a merge sees it', async (t) => {
  const f = await freshPgSchema();
  let playbookQueries = 0;
  // Counts the playbook reads that reach PostgreSQL.
  class CountingStore extends PgStore {
    override query<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
      if (sql.startsWith('SELECT body, generation FROM')) playbookQueries++;
      return super.query<R>(sql, values);
    }
  }
  const store = new CountingStore(f.store);
  t.teardown(async () => {
    await store.close();
    await f.cleanup();
  });
  await store.init();
  await store.merge('hot_pot', deltasOf(obs('a')));

  const reads = await Promise.all(Array.from({ length: 50 }, () => store.readPlaybook('hot_pot')));
  t.is(playbookQueries, 1, '50 reads asked in one turn: one query');
  t.true(reads.every((p) => p.observations.length === 1 && p.observations[0]!.episode_id === 'a'));
  reads[0]!.observations.push(obs('mine'));
  t.is(reads[1]!.observations.length, 1, 'one caller changing its playbook changes no other caller\'s');

  await store.merge('hot_pot', deltasOf(obs('b')));
  const after = await store.readPlaybook('hot_pot');
  t.is(playbookQueries, 2, 'a read asked after the merge is a new query');
  t.deepEqual(after.observations.map((o) => o.episode_id).sort(), ['a', 'b']);
});
