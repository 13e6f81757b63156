/**
 * Reads the sources named to `ace-orch report`: a store directory or
 * PostgreSQL URL, a run manifest, or the `--json` output of run, audit or
 * compare. Stores are read through their backend. The thin I/O
 * side of classify.ts and assemble.ts; a source that is none of these is bad
 * input naming it.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { audit } from '../core/audit.js';
import type { ModeComparison } from '../core/compare.js';
import { BadInputError } from '../core/errors.js';
import { isPostgresUrl } from '../store/backend.js';
import type { StoreBackend } from '../store/backend.js';
import { assertNotMistypedUrl, openStore } from '../store/open.js';
import type { PgStore } from '../store/pg/pg-store.js';
import { maskUrl, openableStoreUrl } from '../store/pg/url.js';
import { Store } from '../store/store.js';
import type { RunManifest } from '../core/types.js';
import { parseJson } from '../core/validate.js';
import { compareSource, diffSource, manifestSource, reportJsonSource, storeSource } from './assemble.js';
import { classify } from './classify.js';
import type { SourceView } from './model.js';

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** A store has `domains/` or `runs/`. */
async function isStore(dir: string): Promise<boolean> {
  return (await isDir(join(dir, 'domains'))) || (await isDir(join(dir, 'runs')));
}

/** The stores directly under `dir`, as `compare` lays them out (`<mode>-<repeat>/`). */
async function storesUnder(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [])).sort();
  const out: string[] = [];
  for (const n of names) if (await isStore(join(dir, n))) out.push(join(dir, n));
  return out;
}

/** The stores `compare` made under `base`: directories `<mode>-<repeat>/`, or schemas `NAME_<mode>_<repeat>` of a PostgreSQL URL. */
async function comparedStores(base: string): Promise<string[]> {
  if (!isPostgresUrl(base)) return storesUnder(base);
  const { pgStoresUnder } = await import('../store/pg/schemas.js');
  return pgStoresUnder(base);
}

/** The readable playbooks of these domains; a torn one is left out here (the loss table marks it). */
function playbooksOf(store: Store, domains: readonly string[]): SourceView['playbooks'] {
  return domains.flatMap((domain) => {
    try {
      const { playbook, exists } = store.readPlaybookFile(domain);
      return exists ? [{ domain, playbook }] : [];
    } catch {
      return [];
    }
  });
}

/** The same from either backend; a PostgreSQL playbook row that does not validate is left out too. */
async function storePlaybooks(store: StoreBackend, domains: readonly string[]): Promise<SourceView['playbooks']> {
  if (store instanceof Store) return playbooksOf(store, domains);
  const rows = await Promise.all(domains.map((domain) => (store as PgStore).readPlaybookRow(domain).then((row) => ({ domain, row }), () => null)));
  return rows.flatMap((r) => (r?.row.exists ? [{ domain: r.domain, playbook: r.row.playbook }] : []));
}

/** Opens the store a `postgres://` value names for `use`, and closes it after. */
async function withPgStore<T>(url: string, use: (store: StoreBackend) => Promise<T>): Promise<T> {
  const store = await openStore(url);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

async function fromStore(dir: string, label: string): Promise<SourceView> {
  return fromBackend(new Store(dir), label);
}

async function fromBackend(store: StoreBackend, label: string): Promise<SourceView> {
  const input = await store.auditInput();
  // The audit's read of each playbook is the page's: nothing is read twice.
  const playbooks = input.domains.flatMap((d) => (d.playbook ? [{ domain: d.domain, playbook: d.playbook }] : []));
  return storeSource(label, audit(input), input.manifests, playbooks);
}

async function fromFile(file: string): Promise<SourceView[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BadInputError(`${file}: cannot be read: ${(err as Error).message}`, file);
  }
  const c = classify(parseJson(text, file, 'report source'), text, file);
  switch (c.kind) {
    case 'manifest': {
      // A manifest inside a store (<store>/runs/<id>.json) brings that store's playbooks.
      const root = dirname(dirname(file));
      const inStore = basename(dirname(file)) === 'runs' && (await isStore(root));
      const playbooks = inStore ? playbooksOf(new Store(root), c.manifest.config.domains ?? []) : [];
      return [manifestSource(file, c.manifest, playbooks, inStore ? root : undefined)];
    }
    case 'run-json':
    case 'audit-json': {
      const dir = openableStoreUrl(c.report.store);
      const withStore = async (store: StoreBackend): Promise<SourceView[]> => {
        const manifest = c.report.runId ? (await store.readManifests()).find((m) => m.run_id === c.report.runId) : undefined;
        return [reportJsonSource(file, c, manifest, await storePlaybooks(store, c.report.domains.map((d) => d.domain)))];
      };
      // A PostgreSQL store named with its password masked, gone, or unreachable gives the output alone, as a removed directory does.
      if (dir && isPostgresUrl(dir)) return withPgStore(dir, withStore).catch(() => [reportJsonSource(file, c, undefined, [])]);
      if (!dir || !(await isStore(dir))) return [reportJsonSource(file, c, undefined, [])];
      return withStore(new Store(dir));
    }
    case 'compare-json': {
      // Stores named with a masked password give the comparison alone, as for run and audit output.
      const stores = openableStoreUrl(c.stores);
      return [{ ...(stores ? await comparisonSource(c.comparison, stores) : compareSource(file, c, [])), label: file }];
    }
    case 'diff-json':
      return [diffSource(file, c)];
  }
}

/** A PostgreSQL store, or the schemas `compare` made under the URL's schema, each store side by side. */
async function fromPgUrl(url: string): Promise<SourceView[]> {
  const { pgHoldsStore, pgStoresUnder } = await import('../store/pg/schemas.js');
  const stores = (await pgHoldsStore(url)) ? [url] : await pgStoresUnder(url);
  // Neither: opening it says why in one line (no ace-orch tables, newer schema).
  if (stores.length === 0) stores.push(url);
  const out: SourceView[] = [];
  for (const store of stores) out.push(await withPgStore(store, (s) => fromBackend(s, s.location)));
  return out;
}

/** One source path: a file, a store, or a directory of stores (what `compare` leaves), each store side by side. */
async function loadSource(path: string): Promise<SourceView[]> {
  if (isPostgresUrl(path)) return fromPgUrl(path);
  assertNotMistypedUrl(path, 'report source');
  const s = await stat(path).catch(() => null);
  if (!s) throw new BadInputError(`${path}: no such file or directory`, path);
  if (!s.isDirectory()) return fromFile(path);
  if (await isStore(path)) return [await fromStore(path, path)];
  const stores = await storesUnder(path);
  if (stores.length === 0) throw new BadInputError(`${path}: not a store (no domains/ or runs/ in it, nor in any directory under it)`, path);
  const out: SourceView[] = [];
  for (const dir of stores) out.push(await fromStore(dir, dir));
  return out;
}

export async function loadSources(paths: readonly string[]): Promise<SourceView[]> {
  const out: SourceView[] = [];
  for (const p of paths) out.push(...(await loadSource(p)));
  return out;
}

/** The run that just finished (`run --report`): its manifest and its store's playbooks. */
export async function runSource(manifest: RunManifest, store: StoreBackend): Promise<SourceView> {
  return manifestSource(`run ${manifest.run_id}`, manifest, await storePlaybooks(store, manifest.config.domains), store.location);
}

/** The comparison that just finished (`compare --report`), with the runs of the stores it made. */
export async function comparisonSource(comparison: ModeComparison, storesDir: string): Promise<SourceView> {
  const manifests: RunManifest[] = [];
  const pg = isPostgresUrl(storesDir);
  // Stores that are gone (or a server that cannot be reached) leave the comparison's table without its runs.
  const stores = await comparedStores(storesDir).catch((err: unknown) => (pg ? [] : Promise.reject(err)));
  for (const store of stores) manifests.push(...(pg ? await withPgStore(store, (s) => s.readManifests()) : await new Store(store).readManifests()));
  const shown = pg ? maskUrl(storesDir) : storesDir;
  return compareSource(`compare ${shown}`, { kind: 'compare-json', comparison, stores: shown }, manifests);
}
