/** `ace-orch audit`: the observation-loss table of any store in the ACE layout. */
import type { Argv } from 'yargs';
import { audit } from '../../core/audit.js';
import { EXIT } from '../../core/exit-codes.js';
import { auditJson, formatAudit } from '../format.js';
import { openStore } from '../../store/open.js';
import { intFlag } from './flags.js';
import type { Io } from './io.js';

export interface AuditArgs {
  store: string;
  run?: string;
  cap?: number;
  json: boolean;
}

export function auditBuilder<T>(y: Argv<T>) {
  return y
    .option('store', { type: 'string', default: './memory', describe: 'Store to audit: a directory or postgres://user@host:5432/db[?schema=NAME]' })
    .option('run', { type: 'string', describe: "Audit one run's episodes (expected is still computed over the whole domain)" })
    .option('cap', { type: 'number', coerce: intFlag('cap'), describe: "Observations a playbook keeps (default: the store's recorded cap; for a store that records none, the larger of the reference tool's 100 and the largest playbook)" })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as one JSON object on stdout' });
}

export async function executeAudit(args: AuditArgs, io: Io): Promise<number> {
  const store = await openStore(args.store);
  const input = await store.auditInput({ runId: args.run ?? null, cap: args.cap }).finally(() => store.close());
  const report = audit(input);
  const unfinished = input.manifests.filter((m) => m.status === 'running' && (!args.run || m.run_id === args.run));
  if (args.json) {
    io.out(JSON.stringify(auditJson(report)));
  } else {
    io.out(formatAudit(report, unfinished.length > 0));
    for (const m of unfinished) io.err(`note: run ${m.run_id} has no final manifest (still running, or its process died); its Episodes Run are the episodes it has written so far`);
  }
  return report.zeroLoss ? EXIT.ok : EXIT.loss;
}
