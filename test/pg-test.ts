/** Tests that need the PostgreSQL server: skipped loudly when it is absent (a failure in CI), each on its own schema dropped afterwards. */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { freshPgSchema, pgUnavailable, sql } from './conformance/backends.js';

export const pgTest = (title: string, body: (t: ExecutionContext) => Promise<void>): void =>
  test(title, async (t) => {
    const why = await pgUnavailable();
    if (why) return void (t.log(`SKIPPED: ${why}`), t.pass());
    await body(t);
  });

/** A store URL naming a new schema, dropped when the test ends. */
export async function freshUrl(t: ExecutionContext): Promise<string> {
  const f = await freshPgSchema();
  t.teardown(() => f.cleanup());
  return f.store;
}

/** The schemas made under the test's own, dropped when the test ends. */
export async function schemasUnder(t: ExecutionContext, url: string): Promise<() => Promise<string[]>> {
  const base = new URL(url).searchParams.get('schema')!;
  const list = async () => (await sql<{ name: string }>(`SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE $1 ORDER BY 1`, [`${base}\\_%`])).map((r) => r.name);
  t.teardown(async () => {
    for (const name of await list()) await sql(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  });
  return list;
}
