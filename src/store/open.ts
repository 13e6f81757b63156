/** Opens the backend a `--store` value names: a PostgreSQL URL or a directory. */
import { existsSync } from 'node:fs';
import { BadInputError } from '../core/errors.js';
import type { StoreBackend } from './backend.js';
import { isPostgresUrl } from './backend.js';
import { Store } from './store.js';
import type { StoreOptions } from './store.js';

/** A value that is no URL at all, with whatever stands between a `user:` and the `@` after it masked. */
const maskLoose = (value: string): string => value.replace(/([^:/@]+:)[^@]*@/, '$1***@');

/**
 * A value meant as a URL that is not a PostgreSQL one (another scheme, or a mistyped `postgres://`) would
 * become a directory named after it, password and all, printed in every message and written into manifests.
 * What exists is what it is (a store directory may be named `postgres-old@2024`): only a missing path is judged.
 */
export function assertNotMistypedUrl(value: string, what = '--store'): void {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  const postgresLike = /^postgres[a-z]*(:|\/\/)/i.test(value);
  if ((scheme || postgresLike) && !existsSync(value)) {
    throw new BadInputError(`${what} ${maskLoose(value)}: neither a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE) nor a directory to use as a store`);
  }
}

/** For any thread: the PostgreSQL client is loaded on the first PostgreSQL store only. */
export async function openStore(value: string, options: Partial<StoreOptions> = {}): Promise<StoreBackend> {
  if (!isPostgresUrl(value)) {
    assertNotMistypedUrl(value);
    return new Store(value, options);
  }
  // Loaded only for a PostgreSQL store: a file-store run, and each of its worker threads, never loads the client.
  const { PgStore } = await import('./pg/pg-store.js');
  return new PgStore(value, options);
}
