/** PostgreSQL store URLs: `postgres://user[:password]@host:port/db[?schema=NAME]`. */
import { BadInputError } from '../../core/errors.js';
import { isPostgresUrl } from '../backend.js';

/** Where the store's tables live unless `?schema=` says otherwise. */
const DEFAULT_SCHEMA = 'ace';

export interface PgTarget {
  /** The URL without `schema`, as node-postgres takes it. */
  connectionString: string;
  schema: string;
  /** The URL with any password replaced by `***`, for every message. */
  masked: string;
}

/** Query parameters node-postgres reads a secret from (`?password=` works as well as `user:password@`). */
const SECRET_PARAMS = ['password', 'sslpassword'];

/**
 * The URL with every password replaced by `***`, in the authority and in the query; unparseable text is
 * masked after the first `:` of the authority and after any `password=`.
 */
export function maskUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    for (const key of SECRET_PARAMS) if (url.searchParams.has(key)) url.searchParams.set(key, '***');
    return url.toString();
  } catch {
    return value.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/([?&](?:ssl)?password=)[^&]*/gi, '$1***');
  }
}

/**
 * The store a saved output (`--json`) names, when it can be opened: undefined for a PostgreSQL URL saved
 * with its password masked by {@link maskUrl}, which would otherwise be tried with the password `***`.
 */
export function openableStoreUrl(value: string | undefined): string | undefined {
  return value !== undefined && isPostgresUrl(value) && (value.includes(':***@') || /[?&](?:ssl)?password=\*\*\*(?:&|$)/.test(value)) ? undefined : value;
}

export function parsePgUrl(value: string, flag = '--store', defaultSchema = DEFAULT_SCHEMA): PgTarget {
  const masked = maskUrl(value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BadInputError(`${flag}: ${masked} is not a valid postgres:// URL`);
  }
  const schema = url.searchParams.get('schema') ?? defaultSchema;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new BadInputError(`${flag}: ${masked}: Expected \`schema\` to be a lower-case SQL identifier, got \`${schema}\``);
  }
  if (!url.hostname || url.pathname.length <= 1) throw new BadInputError(`${flag}: ${masked}: Expected postgres://user@host:port/database`);
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema, masked };
}

/** The same server and database as `target`, with the store tables in `schema`. */
export function storeUrlIn(target: PgTarget, schema: string): string {
  const url = new URL(target.connectionString);
  url.searchParams.set('schema', schema);
  return url.toString();
}
