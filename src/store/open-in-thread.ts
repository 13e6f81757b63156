/**
 * `openStore` for worker threads: the PostgreSQL backend is imported statically, because a worker
 * thread's dynamic import() does not go through tsx's loader (the test suite runs the TypeScript
 * sources). Main threads use the lazy `openStore` (src/store/open.ts), which loads pg only for a
 * PostgreSQL store.
 */
import type { StoreBackend } from './backend.js';
import { isPostgresUrl } from './backend.js';
import { PgStore } from './pg/pg-store.js';
import { Store } from './store.js';
import type { StoreOptions } from './store.js';

export function openStoreInThread(value: string, options: Partial<StoreOptions> = {}): StoreBackend {
  return isPostgresUrl(value) ? new PgStore(value, options) : new Store(value, options);
}
