/**
 * The PostgreSQL store's schema (`json`, not `jsonb`: documents keep their key order, so
 * the merge rules' JSON comparisons and exported files match the file store's), created on first use in one transaction
 * (so a failure leaves nothing half-created) and versioned, so a later
 * release can migrate it and an older one refuses a newer schema.
 */
import type { ClientBase, PoolClient } from 'pg';
import { BadInputError, SettingError } from '../../core/errors.js';

/**
 * The schema version this release writes and reads. 2: `episodes.run_entry`, what a queue worker
 * records of an episode's attempts for the run's manifest.
 */
export const SCHEMA_VERSION = 2;

/**
 * From each older version to the next: what a writer of this release adds to a store an older release
 * made. Readers (audit, export) read an older schema as it is and never migrate it: a migrated store is
 * refused by the older release that made it.
 */
const MIGRATIONS: Record<number, (t: ReturnType<typeof tables>) => string[]> = {
  2: (t) => [`ALTER TABLE ${t.episodes} ADD COLUMN IF NOT EXISTS run_entry json`],
};

/** Table names, qualified and quoted for the store's schema. */
export function tables(schema: string) {
  const q = (t: string): string => `"${schema}"."${t}"`;
  return { version: q('schema_version'), playbooks: q('playbooks'), episodes: q('episodes'), manifests: q('manifests'), stats: q('stats'), meta: q('meta') };
}

function ddl(schema: string): string[] {
  const t = tables(schema);
  return [
    `CREATE SCHEMA IF NOT EXISTS "${schema}"`,
    `CREATE TABLE IF NOT EXISTS ${t.version} (version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${t.playbooks} (domain text PRIMARY KEY, generation bigint NOT NULL, body json NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${t.episodes} (episode_id text PRIMARY KEY, domain text NOT NULL, run_id text, record json NOT NULL, host text, worker text, created_at timestamptz NOT NULL DEFAULT now(), run_entry json)`,
    `CREATE INDEX IF NOT EXISTS episodes_domain ON ${t.episodes} (domain)`,
    `CREATE INDEX IF NOT EXISTS episodes_run ON ${t.episodes} (run_id)`,
    `CREATE TABLE IF NOT EXISTS ${t.manifests} (run_id text PRIMARY KEY, body json NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${t.stats} (domain text PRIMARY KEY, body json NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${t.meta} (key text PRIMARY KEY, value json NOT NULL)`,
  ];
}

/** The version a schema holds, or null when it has no store tables yet. */
export async function storedVersion(client: ClientBase, schema: string): Promise<number | null> {
  const exists = await client.query(`SELECT to_regclass($1) AS t`, [`"${schema}".schema_version`]);
  if (exists.rows[0]?.t === null) return null;
  const r = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${tables(schema).version}`);
  return r.rows[0]?.v ?? null;
}

function newerSchemaError(masked: string, found: number): BadInputError {
  return new BadInputError(`store ${masked} has schema version ${found}, newer than this ace-orch reads (${SCHEMA_VERSION}); upgrade ace-orch`);
}

/**
 * How a command uses the store: `create` it when absent (run, worker, init), `write` to an existing one,
 * or only `read` it (audit, export). Creating and writing migrate an older schema; reading never does.
 */
export type SchemaUse = 'create' | 'write' | 'read';

/**
 * Checks the schema's version, and creates it when absent or migrates it when older (as `use` allows),
 * under a transaction-scoped advisory lock so concurrent first users do it once. A missing schema is bad
 * input unless `use` is `create`.
 */
export async function ensureSchema(client: PoolClient, schema: string, masked: string, use: SchemaUse): Promise<void> {
  const found = await storedVersion(client, schema);
  if (found !== null && found > SCHEMA_VERSION) throw newerSchemaError(masked, found);
  if (found === SCHEMA_VERSION || (found !== null && use === 'read')) return;
  if (found === null && use !== 'create') throw new SettingError((n) => `store ${masked} has no ace-orch tables in schema \`${schema}\`; is ${n.name('store')} pointing at an ACE store?`);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ace-orch schema ${schema}`]);
    const again = await storedVersion(client, schema);
    if (again !== null && again > SCHEMA_VERSION) throw newerSchemaError(masked, again);
    if (again === null) {
      for (const sql of ddl(schema)) await client.query(sql);
      await client.query(`INSERT INTO ${tables(schema).version} (version) VALUES ($1)`, [SCHEMA_VERSION]);
    } else {
      for (let v = again + 1; v <= SCHEMA_VERSION; v++) {
        for (const sql of MIGRATIONS[v]!(tables(schema))) await client.query(sql);
        await client.query(`INSERT INTO ${tables(schema).version} (version) VALUES ($1)`, [v]);
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
