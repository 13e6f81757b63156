/**
 * What a store records about itself: `<store>/metadata/store.json`, written
 * by ace-orch's first write to the store. Today it holds the cap (see
 * src/core/cap.ts for the rules); the I/O here is thin, the decisions are pure.
 */
import { access, lstat, mkdir, readFile, readdir, readlink, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { capFromManifests, decideWriteCap, nextCapRecord, type CapDecision, type CapRecord, type PlaybookSize, type RecordedCap } from '../core/cap.js';
import { BadInputError, SettingError, UnreadableFileError } from '../core/errors.js';
import { parseJson, positiveInt } from '../core/validate.js';
import { writeFileAtomic } from './durable.js';
import type { Store } from './store.js';
import type { RunManifest } from '../core/types.js';

/** `<store>/metadata/store.json` */
export type StoreMeta = CapRecord;

function storeMetaPath(store: Store): string {
  return join(store.root, 'metadata', 'store.json');
}

/** ENOTDIR: a path under a plain file; `init` then names the store as not writable. */
function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function readStoreMeta(store: Store): Promise<StoreMeta | null> {
  const file = storeMetaPath(store);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (isMissing(err)) return null;
    // A directory in its place, no permission: named, never an internal error.
    throw new UnreadableFileError(`${file} cannot be read (${(err as Error).message}); make it readable, or move it away, and try again`, file);
  }
  const v = parseJson(text, file, 'store metadata') as Partial<StoreMeta> | null;
  positiveInt(v?.cap, 'cap', file, Infinity, file);
  return v as StoreMeta;
}

/**
 * The store's cap: `metadata/store.json`, else (a store written by an older
 * ace-orch) the largest cap its run manifests name, else null: ace-orch never
 * wrote here.
 */
export async function readRecordedCap(store: Store, manifests?: readonly RunManifest[]): Promise<RecordedCap | null> {
  const meta = await readStoreMeta(store);
  if (meta) return { cap: meta.cap, source: storeMetaPath(store) };
  return capFromManifests(manifests ?? (await store.readManifests()), (m) => store.manifestPath(m.run_id));
}

/**
 * Observations each playbook holds now. A torn one counts as 0: its size is unknown, but it still shows the
 * store holds playbooks (another tool's, when no cap is recorded), so the cap a write takes is the one the
 * audit infers rather than a new store's 10; reporting it is left to whoever reads it next.
 */
async function playbookSizes(store: Store, domains: readonly string[]): Promise<PlaybookSize[]> {
  const sizes: PlaybookSize[] = [];
  for (const domain of domains) {
    const file = store.playbookPath(domain);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    try {
      const observations = (JSON.parse(text) as { observations?: unknown }).observations;
      if (Array.isArray(observations)) sizes.push({ domain, file, observations: observations.length });
    } catch {
      sizes.push({ domain, file, observations: 0 });
    }
  }
  return sizes;
}

/**
 * Refuses a store path that is another store's `domains/` directory (the reference tool's own
 * `base_path`, `memory/domains`, is the path its users know): writing there would nest a second
 * store inside the first, whose audit would then show `domains`, `metadata` and `runs` as domains.
 */
async function refuseDomainsDirectory(store: Store): Promise<void> {
  const names: string[] = await readdir(store.root).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
  if (names.includes('domains')) return;
  const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);
  for (const name of names.sort()) {
    // A domain's shape, not any playbook.json: its playbook beside its episodes directory.
    const playbook = join(store.root, name, 'playbook.json');
    if ((await exists(playbook)) && (await exists(join(store.root, name, 'episodes')))) {
      // The parent is the store only when this is its `domains/`; otherwise no guess at someone's directory.
      const parent = basename(store.root) === 'domains' ? `${dirname(store.root)}` : null;
      throw new SettingError(
        (n) => `store ${store.root} looks like a store's domains/ directory (it holds ${playbook} and its episodes); ${parent ? `${n.give('store', parent)}, the store itself` : `${n.name('store')} names the directory that holds domains/`}`,
        store.root,
      );
    }
  }
}

/** A file where ace-orch keeps a directory (`runs`, `metadata`...): what every command that meets one says. */
export function fileForDirectoryError(path: string): BadInputError {
  return new BadInputError(`${path} is a file where ace-orch keeps a directory; move it away and try again; nothing was written`, path);
}

/**
 * Refuses a file where a write would make a directory (`runs`, `metadata`, `domains`, a domain's `episodes` or
 * `metadata`): named, before anything is written, not a mkdir error (or an empty `runs/`) halfway through. Returns the
 * store's domains, listed once the store's own directories are known to be directories.
 */
async function refuseFilesForDirectories(store: Store, only?: readonly string[]): Promise<string[]> {
  const isFile = async (path: string): Promise<boolean> => (await stat(path).catch(() => null))?.isDirectory() === false;
  const check = async (paths: string[]): Promise<void> => {
    for (const path of paths) if (await isFile(path)) throw fileForDirectoryError(path);
  };
  await check(['runs', 'metadata', 'domains'].map((name) => join(store.root, name)));
  const all = await store.listDomains();
  const domains = all.filter((d) => !only || only.includes(d));
  await check(domains.flatMap((d) => [store.episodesDir(d), join(store.domainDir(d), 'metadata')]));
  // A write renames a new playbook into place, which would replace a link with a file, and the file it named would stop
  // receiving merges. (A link to nothing is refused where the playbook is read.)
  for (const d of domains) {
    const file = store.playbookPath(d);
    if ((await lstat(file).catch(() => null))?.isSymbolicLink() && (await stat(file).catch(() => null))) {
      throw new BadInputError(`${file} is a symbolic link to ${await readlink(file)}; a write renames a new file into its place, which would replace the link; replace the link with the file, or run on the store the file belongs to; nothing was written`, file);
    }
  }
  return all;
}

/**
 * The cap a writing command uses; throws BadInputError (exit 2) before anything is written. `only`: the domains the
 * command writes (`repair --domains`); the others are left as they are, and refuse nothing.
 */
export async function settleWriteCap(store: Store, requested: number | undefined, only?: readonly string[]): Promise<CapDecision> {
  let recorded: RecordedCap | null;
  let sizes: PlaybookSize[];
  try {
    await refuseDomainsDirectory(store);
    const domains = await refuseFilesForDirectories(store, only);
    recorded = await readRecordedCap(store);
    sizes = await playbookSizes(store, domains);
  } catch (err) {
    if (err instanceof BadInputError) throw err;
    // A store path that names a file (or runs through one): said as the audit says it.
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new BadInputError(`store ${store.root} is not a directory`, store.root);
    throw new BadInputError(`store ${store.root} cannot be read: ${(err as Error).message}`, store.root);
  }
  return decideWriteCap(recorded, requested, sizes, only);
}

/** Writes `metadata/store.json` with this cap, keeping the earlier ones. */
export async function recordCap(store: Store, cap: number): Promise<void> {
  const meta = nextCapRecord(await readStoreMeta(store), cap, new Date().toISOString());
  await mkdir(dirname(storeMetaPath(store)), { recursive: true });
  await writeFileAtomic(storeMetaPath(store), `${JSON.stringify(meta, null, 2)}\n`);
}
