/** Opens the backend a `--store` value names: a PostgreSQL URL or a directory. */
import type { StoreBackend } from './backend.js';
import { isPostgresUrl } from './backend.js';
import { Store } from './store.js';
import type { StoreOptions } from './store.js';

/** For any thread: the PostgreSQL client is loaded on the first PostgreSQL store only. */
export async function openStore(value: string, options: Partial<StoreOptions> = {}): Promise<StoreBackend> {
  if (!isPostgresUrl(value)) return new Store(value, options);
  // Loaded only for a PostgreSQL store: a file-store run, and each of its worker threads, never loads the client.
  const { PgStore } = await import('./pg/pg-store.js');
  return new PgStore(value, options);
}
