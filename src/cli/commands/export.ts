/** `ace-orch export`: a PostgreSQL store written out in the reference file layout. */
import type { Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { count, markdownTable } from '../format.js';
import { isPostgresUrl } from '../../store/backend.js';
import type { Io } from './io.js';

export interface ExportArgs {
  store: string;
  to: string;
  json: boolean;
}

export function exportBuilder<T>(y: Argv<T>) {
  return y
    .usage(
      '$0 export --store postgres://... --to DIR\n\nWrites a PostgreSQL store in the file layout the reference tool and ace-orch read (playbooks, episode files, run manifests) into a new or empty directory; never overwrites. `ace-orch audit --store DIR` of the export equals the audit of the source.',
    )
    .option('store', { type: 'string', demandOption: true, describe: 'PostgreSQL store to export: postgres://user@host:5432/db[?schema=NAME]' })
    .option('to', { type: 'string', demandOption: true, describe: 'New or empty directory to write the file layout into (never overwritten)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as one JSON object on stdout' });
}

export async function executeExport(args: ExportArgs, io: Io): Promise<number> {
  if (!isPostgresUrl(args.store)) throw new UsageError(`--store ${args.store}: export reads a PostgreSQL store (postgres://…); a directory already is the file layout`);
  // The PostgreSQL client is loaded by the commands that use it, not by every command of the CLI.
  const [{ exportStore }, { PgStore }] = await Promise.all([import('../../store/pg/export.js'), import('../../store/pg/pg-store.js')]);
  const store = new PgStore(args.store);
  try {
    const report = await exportStore(store, args.to);
    if (args.json) io.out(JSON.stringify(report));
    else {
      io.out(`Exported ${report.from} to ${report.to}: ${count(report.manifests, 'run manifest')}.\n`);
      io.out(markdownTable(['Domain', 'Episode Files', 'Playbook'], report.domains.map((d) => [d.domain, d.episodes, d.playbook ? 'yes' : 'none'])));
    }
  } finally {
    await store.close();
  }
  return EXIT.ok;
}
