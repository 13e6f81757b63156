/** Tests that need the PostgreSQL server: skipped loudly when it is absent (a failure in CI), each on its own schema dropped afterwards. */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { freshPgSchema, pgUnavailable } from './conformance/backends.js';

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
