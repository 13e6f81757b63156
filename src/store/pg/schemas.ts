/**
 * Stores as schemas of one database, for the commands that make fresh stores
 * (`compare` one per mode and repeat, `chaos` one): whether a schema already
 * holds a store, the schemas made under a base name, and their URLs.
 */
import pg from 'pg';
import { BadInputError } from '../../core/errors.js';
import { openError } from './connect.js';
import { storedVersion } from './schema.js';
import { parsePgUrl, storeUrlIn } from './url.js';

async function withClient<T>(url: string, use: (client: pg.Client, target: ReturnType<typeof parsePgUrl>) => Promise<T>): Promise<T> {
  const target = parsePgUrl(url);
  const client = new pg.Client({ connectionString: target.connectionString, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw openError(target.masked, err);
  }
  try {
    return await use(client, target);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Refuses a store URL whose schema already holds ace-orch tables: `command` needs a fresh one and never reuses or wipes one. */
export async function assertFreshPgStore(url: string, command: string): Promise<void> {
  await assertFreshPgStores([url], command);
}

/** The same for stores of one database, over one connection, naming the first that is not fresh. */
export async function assertFreshPgStores(urls: readonly string[], command: string): Promise<void> {
  if (!urls.length) return;
  await withClient(urls[0]!, async (client) => {
    for (const url of urls) {
      const target = parsePgUrl(url);
      if ((await storedVersion(client, target.schema)) !== null) {
        throw new BadInputError(`--store: ${target.masked} already holds a store in schema \`${target.schema}\`; ${command} needs a fresh schema and never reuses or wipes one`);
      }
    }
  });
}

/** The store of `mode` and `repeat` under `base`: schema `<base schema>_<mode>_<repeat>` of the same database. Bad input when the name is not a valid schema. */
export function pgStoreUnder(base: string, mode: string, repeat: number): string {
  const target = parsePgUrl(base);
  const url = storeUrlIn(target, `${target.schema}_${mode}_${repeat}`);
  parsePgUrl(url);
  return url;
}

/** The stores `compare` made under `base` (schemas `<base schema>_<mode>_<repeat>` holding a store), in name order. */
export async function pgStoresUnder(base: string): Promise<string[]> {
  return withClient(base, async (client, target) => {
    const r = await client.query<{ name: string }>(
      `SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name ~ $1 AND to_regclass(quote_ident(schema_name) || '.schema_version') IS NOT NULL ORDER BY 1`,
      [`^${target.schema}_(locked|unlocked)_[0-9]+$`],
    );
    return r.rows.map((row) => storeUrlIn(target, row.name));
  });
}

/** Whether the URL's schema holds a store. */
export async function pgHoldsStore(url: string): Promise<boolean> {
  return withClient(url, async (client, target) => (await storedVersion(client, target.schema)) !== null);
}
