/** Opens the backend a `--store` value names: a PostgreSQL URL or a directory. */
import type { StoreBackend } from './backend.js';
import { isPostgresUrl } from './backend.js';
import { Store } from './store.js';
import { PgStore } from './pg/pg-store.js';
import type { StoreOptions } from './store.js';

export function openStore(value: string, options: Partial<StoreOptions> = {}): StoreBackend {
  return isPostgresUrl(value) ? new PgStore(value, options) : new Store(value, options);
}
