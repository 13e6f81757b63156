/** `ace-orch repair`: re-merge what crashed writers left unmerged; optionally rebuild a corrupt playbook. */
import type { Argv } from 'yargs';
import { EXIT } from '../../core/exit-codes.js';
import { audit } from '../../core/audit.js';
import { BadInputError } from '../../core/errors.js';
import { auditJson, count, formatAudit, listIds, markdownTable } from '../format.js';
import { repairStore } from '../../store/repair.js';
import { assertStoreExists } from '../../store/snapshot.js';
import { openStore } from '../../store/open.js';
import type { PgStore } from '../../store/pg/pg-store.js';
import type { Store } from '../../store/store.js';
import type { RepairReport } from '../../store/repair.js';
import type { RunManifest } from '../../core/types.js';
import { maskUrl } from '../../store/pg/url.js';
import { intFlag } from './flags.js';
import { storeArg } from '../../core/store-arg.js';
import type { Io } from './io.js';

export interface RepairArgs {
  store: string;
  rebuild: boolean;
  cap?: number;
  domains?: string[];
  json: boolean;
}

export function repairBuilder<T>(y: Argv<T>) {
  return y
    .usage(
      '$0 repair [options]\n\nRe-merges the episodes that crashed between their episode file (or record) and their merge, then audits the store; running it twice changes nothing the second time. It also closes runs whose process died (marked crashed: `ace-orch run --resume RUN_ID` plays what they never finished), folds pending batches of shared commits, and removes crashed writers\' temp files once older than the lock\'s stale time (10 s). --rebuild moves a corrupt playbook aside (never deletes it) and rebuilds it from the episode files.',
    )
    .option('store', { type: 'string', default: './memory', describe: 'Store to repair: a directory or postgres://user@host:5432/db[?schema=NAME]' })
    .option('rebuild', {
      type: 'boolean',
      default: false,
      describe: 'Move a corrupt playbook.json aside (renamed, never deleted) and rebuild it from the episode files',
    })
    .option('cap', { type: 'number', coerce: intFlag('cap'), describe: "Observations a playbook keeps: the store's recorded cap unless given (for a store with none, the cap its audit infers: 100, or its largest playbook); lower than the store's cap or than a playbook holds is refused (exit 2)" })
    .option('domains', {
      type: 'string',
      coerce: (v: string) => v.split(',').map((d) => d.trim()).filter(Boolean),
      describe: "Repair only these of the store's domains, comma-separated (one no write may touch left out); runs whose process died are closed only by a repair of every domain",
    })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as one JSON object on stdout' });
}

export async function executeRepair(args: RepairArgs, io: Io): Promise<number> {
  const store = await openStore(args.store);
  let repair: RepairReport;
  let report;
  try {
    if (store.kind === 'postgres') {
      if (args.rebuild) throw new BadInputError(`--rebuild moves a torn playbook file aside; a PostgreSQL playbook row (${store.location}) cannot be torn`);
      const { repairPgStore } = await import('../../store/pg/repair.js');
      const { queuedEpisodesLeft } = await import('../../queue/left.js');
      const queuedLeft = (m: RunManifest): Promise<number> => queuedEpisodesLeft(store as PgStore, m.run_id, m.queue!);
      repair = await repairPgStore(store as PgStore, { cap: args.cap, queuedLeft, ...(args.domains ? { domains: args.domains } : {}) });
    } else {
      await assertStoreExists(store as Store);
      repair = await repairStore(store as Store, { rebuild: args.rebuild, cap: args.cap, ...(args.domains ? { domains: args.domains } : {}) });
    }
    report = audit(await store.auditInput({ cap: args.cap }));
  } finally {
    await store.close();
  }
  if (args.json) {
    io.out(JSON.stringify({ ...repair, audit: auditJson(report) }));
  } else {
    io.out(
      markdownTable(
        ['Domain', 'Episode Files', 'Recovered', 'Section Entries Restored', 'Temp Files Removed', 'Corrupt Playbook Moved To'],
        repair.domains.map((d) => [d.domain, d.episodeFiles, d.recovered.length, d.sectionEntriesRestored, d.tempFilesRemoved, d.movedAside ?? '']),
      ),
    );
    const recovered = repair.domains.reduce((n, d) => n + d.recovered.length, 0);
    io.out('');
    io.out(recovered ? `Recovered ${count(recovered, 'observation')} into ${recovered === 1 ? 'its playbook' : 'their playbooks'}.` : 'Nothing to recover: every expected observation was already in its playbook.');
    for (const d of repair.domains) if (d.pendingBatchesFolded) io.out(`Folded ${count(d.pendingBatchesFolded, 'pending batch')} into ${d.domain}'s playbook.`);
    for (const d of repair.domains) {
      if (!d.notRecovered) continue;
      io.out(`${d.domain}: left lost ${count(d.notRecovered.length, 'episode')} (${listIds(d.notRecovered)}): ${d.notRecovered.length === 1 ? 'its file holds' : 'their files hold'} NaN, Infinity or integers beyond 2^53, which a merge would write into the playbook changed (null, other digits)`);
    }
    for (const d of repair.domains) {
      if (!d.rankedOut) continue;
      const { observations, entries } = d.rankedOut;
      const what = [
        observations.length && `${count(observations.length, 'observation')} (${listIds(observations)})`,
        entries.length && `${count(entries.length, 'section entry')} (${listIds(entries.map((e) => `${e.section}/${e.source_episode}`))})`,
      ]
        .filter(Boolean)
        .join(' and ');
      // A file store keeps a copy of the playbook as it was; on PostgreSQL the report holds what was taken out.
      const kept = d.keptBefore ? `the playbook as it was is kept at ${d.keptBefore}` : '`--json` lists them whole (`rankedOut`)';
      io.out(`${d.domain}: the recovered entries ranked ${what} out of the playbook (its cap is ${report.cap}, sections keep 10); ${kept}`);
    }
    for (const r of repair.runsStillQueued ?? []) {
      io.out(`Left run ${r.runId} running: its coordinator is gone, but ${count(r.episodes, 'episode')} of it ${r.episodes === 1 ? 'is' : 'are'} still in queue ${maskUrl(r.queue)}, its workers' to finish; then \`ace-orch run --resume ${r.runId} --store ${storeArg(store.location)}\` closes it.`);
    }
    for (const id of repair.runsClosed) io.out(`Closed run ${id}: its process died; marked crashed. \`ace-orch run --resume ${id} --store ${storeArg(store.location)}\` plays the episodes it never finished.`);
    io.out('');
    io.out(formatAudit(report));
  }
  return report.zeroLoss ? EXIT.ok : EXIT.loss;
}
