/**
 * `export`: writes a PostgreSQL store in the reference file layout (playbooks,
 * episode files, run manifests, stats) through the file store's own write
 * paths, so file-based tools and audits read it. Refuses a non-empty target
 * rather than mix stores or overwrite anything.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BadInputError } from '../../core/errors.js';
import { writeFileAtomic } from '../durable.js';
import { Store } from '../store.js';
import type { PgStore } from './pg-store.js';
import { pgRecordedCap } from './meta.js';

export interface ExportReport {
  from: string;
  to: string;
  domains: { domain: string; episodes: number; playbook: boolean }[];
  manifests: number;
}

async function emptyTarget(dir: string): Promise<void> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(new BadInputError(`--to: ${dir} cannot be read: ${err.message}`, dir))));
  if (names.length) throw new BadInputError(`--to: ${dir} is not empty; export writes only into a new or empty directory and never overwrites`, dir);
  await mkdir(dir, { recursive: true }).catch((err: Error) => {
    throw new BadInputError(`--to: ${dir} cannot be created: ${err.message}`, dir);
  });
}

export async function exportStore(source: PgStore, to: string): Promise<ExportReport> {
  const dir = resolve(to);
  // Read first: a store that cannot be opened leaves no directory behind.
  const domains = await source.listDomains();
  const manifests = await source.readManifests();
  await emptyTarget(dir);
  const target = new Store(dir);
  await target.init(domains);
  const report: ExportReport = { from: source.location, to: dir, domains: [], manifests: manifests.length };
  for (const domain of domains) {
    const episodes = await source.listEpisodes(domain);
    for (const { record } of episodes) await target.writeEpisode(domain, record);
    const row = await source.readPlaybookRow(domain);
    if (row.exists) await writeFileAtomic(target.playbookPath(domain), `${JSON.stringify(row.playbook, null, 2)}\n`);
    const stats = await source.readStats(domain);
    if (stats) await writeFileAtomic(target.statsPath(domain), `${JSON.stringify(stats, null, 2)}\n`);
    report.domains.push({ domain, episodes: episodes.length, playbook: row.exists });
  }
  for (const m of manifests) await target.writeManifest(m);
  // The store's cap travels with it (metadata/store.json), as a file store records it.
  const recorded = await pgRecordedCap(source);
  if (recorded) await target.recordCap(recorded.cap);
  return report;
}
