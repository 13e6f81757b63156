/**
 * Reads the sources named to `ace-orch report`: a store directory, a run
 * manifest, or the `--json` output of run, audit or compare. The thin I/O
 * side of classify.ts and assemble.ts; a source that is none of these is bad
 * input naming it.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { audit } from '../audit.js';
import type { ModeComparison } from '../compare.js';
import { BadInputError } from '../errors.js';
import { loadAuditInput } from '../store/snapshot.js';
import { Store } from '../store/store.js';
import type { RunManifest } from '../types.js';
import { parseJson } from '../validate.js';
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

async function fromStore(dir: string, label: string): Promise<SourceView> {
  const input = await loadAuditInput(new Store(dir));
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
      const dir = c.report.store;
      if (!dir || !(await isStore(dir))) return [reportJsonSource(file, c, undefined, [])];
      const store = new Store(dir);
      const manifest = c.report.runId ? (await store.readManifests()).find((m) => m.run_id === c.report.runId) : undefined;
      return [reportJsonSource(file, c, manifest, playbooksOf(store, c.report.domains.map((d) => d.domain)))];
    }
    case 'compare-json':
      return [{ ...(c.stores ? await comparisonSource(c.comparison, c.stores) : compareSource(file, c, [])), label: file }];
    case 'diff-json':
      return [diffSource(file, c)];
  }
}

/** One source path: a file, a store, or a directory of stores (what `compare` leaves), each store side by side. */
async function loadSource(path: string): Promise<SourceView[]> {
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
export async function runSource(manifest: RunManifest, storeDir: string): Promise<SourceView> {
  return manifestSource(`run ${manifest.run_id}`, manifest, playbooksOf(new Store(storeDir), manifest.config.domains), storeDir);
}

/** The comparison that just finished (`compare --report`), with the runs of the stores it made. */
export async function comparisonSource(comparison: ModeComparison, storesDir: string): Promise<SourceView> {
  const manifests: RunManifest[] = [];
  for (const dir of await storesUnder(storesDir)) manifests.push(...(await new Store(dir).readManifests()));
  return compareSource(`compare ${storesDir}`, { kind: 'compare-json', comparison, stores: storesDir }, manifests);
}
