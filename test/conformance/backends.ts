/**
 * The backends the conformance suite runs against. Each gives a fresh, empty
 * store value (a directory, or a URL naming a new schema) and removes it after.
 * PostgreSQL tests run whenever a server is reachable; in CI (`CI` set) an
 * unreachable server is a failure, elsewhere the suite says loudly what it skipped.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { tempDir } from '../helpers.js';

/** The server the PostgreSQL tests use; `ACE_TEST_PG` overrides it. */
export const PG_URL = process.env['ACE_TEST_PG'] ?? 'postgres://root@127.0.0.1:5432/test';

export interface Fresh {
  store: string;
  cleanup(): Promise<void>;
}

export interface BackendHarness {
  name: 'file' | 'postgres';
  /** null when usable, else why its tests are skipped. */
  unavailable(): Promise<string | null>;
  fresh(): Promise<Fresh>;
}

let reachable: Promise<string | null> | undefined;

/** Whether the test server answers; in CI it must. */
export function pgUnavailable(): Promise<string | null> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return null;
    } catch (err) {
      const why = `PostgreSQL at ${PG_URL} is not reachable (${(err as Error).message})`;
      if (process.env['CI']) throw new Error(`${why}; CI requires it (.ci/run starts it)`);
      process.stderr.write(`\n*** SKIPPING PostgreSQL tests: ${why}. Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start ***\n\n`);
      return why;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

/** A new schema name on the test server, and a way to drop it. */
export async function freshPgSchema(): Promise<Fresh> {
  const schema = `ace_t_${randomBytes(5).toString('hex')}`;
  return {
    store: `${PG_URL}?schema=${schema}`,
    cleanup: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export const BACKENDS: BackendHarness[] = [
  {
    name: 'file',
    unavailable: async () => null,
    fresh: async () => {
      const dir = await tempDir('ace-conf-');
      return { store: dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  { name: 'postgres', unavailable: pgUnavailable, fresh: freshPgSchema },
];

/** One statement on the test server, outside any store: what tests inspect and clean up with. */
export async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}
