/**
 * `--store` as a message shows it for the user to paste back: a path, quoted for a POSIX shell only when it
 * must be; a PostgreSQL URL as it is, unless messages masked its password (`***`), which would not open.
 */
export function storeArg(location: string): string {
  if (/^postgres(ql)?:\/\//i.test(location)) return location.includes('***') ? '<your postgres:// URL>' : location;
  return /^[\w@%+=:,./-]+$/.test(location) ? location : `'${location.replace(/'/g, `'\\''`)}'`;
}
