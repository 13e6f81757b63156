/** `ace-orch chaos`: kill and pause writers at the worst moments, then count what survived. */
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { isPostgresUrl } from '../../store/backend.js';
import { assertNotMistypedUrl } from '../../store/open.js';
import { maskUrl } from '../../store/pg/url.js';
import { runChaos } from '../../chaos/run-chaos.js';
import type { ChaosReport } from '../../chaos/verdict.js';
import { newRunId } from '../../run/coordinator.js';
import { BadInputError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { markdownTable } from '../format.js';
import type { CommitMode } from '../../core/types.js';
import { intFlag } from './flags.js';
import type { Io } from './io.js';

export interface ChaosArgs {
  store?: string;
  processes: number;
  threads: number;
  duration?: number;
  kills?: number;
  seed: number;
  commit: CommitMode;
  json: boolean;
}

export function chaosBuilder<T>(y: Argv<T>) {
  return y
    .usage(
      '$0 chaos [options]\n\nKills (SIGKILL) and pauses (SIGSTOP) writer processes at the worst moments of their merges, then checks every playbook, that every acknowledged observation survived and that none appeared without an episode file; then repairs and audits. Exit 0 only when nothing acknowledged was lost, nothing was torn and nothing unexpected appeared; 1 otherwise. --commit defaults to each here (run\'s default is batched). Each kill inside the critical section costs the other writers the lock\'s stale time (2 s in chaos).',
    )
    .option('store', {
      type: 'string',
      describe: 'Fresh store directory to torture (default ./stores/chaos-<time>); must be empty. Or postgres://user@host:5432/db[?schema=NAME]: a schema holding no store yet',
    })
    .option('processes', { type: 'number', default: 3, coerce: intFlag('processes'), describe: 'Writer processes alive at any time' })
    .option('threads', { type: 'number', default: 2, coerce: intFlag('threads'), describe: 'Writer threads per process' })
    .option('kills', { type: 'number', coerce: intFlag('kills'), describe: 'Stop after this many SIGKILLs (default 20)' })
    .option('duration', { type: 'number', coerce: intFlag('duration'), describe: 'Stop after this many seconds instead of a number of kills' })
    .option('seed', { type: 'number', default: 1, coerce: intFlag('seed', { min: 0 }), describe: 'Seed for the choice of victims, moments and fault points' })
    .option('commit', { choices: ['each', 'batched', 'shared'] as const, default: 'each' as const, describe: 'each: writer threads merge; batched: each process\'s group committer merges (faults are aimed there); shared: batched, and each lock holder folds the other processes\' pending batches' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the report as one JSON object on stdout' })
    .conflicts('kills', 'duration');
}

const ROWS: [keyof ChaosReport, string][] = [
  ['episodesStarted', 'episodes started'],
  ['acknowledged', 'acknowledged (merge returned)'],
  ['kills', 'kills (SIGKILL)'],
  ['killsInCriticalSection', '  inside the critical section'],
  ['killsAtOtherPoints', '  at fault points outside the lock'],
  ['killsAtRandomMoments', '  at random moments'],
  ['pauses', 'pauses (SIGSTOP past the stale time)'],
  ['aimsMissed', 'aims missed (retried on another writer)'],
  ['fenceRefusals', 'writes refused by the fence'],
  ['staleLocksReclaimed', 'stale locks reclaimed'],
  ['longestReclaimWaitMs', 'longest wait for a reclaimed lock (ms)'],
  ['tornPlaybooks', 'torn or invalid playbooks (must be 0)'],
  ['acknowledgedLost', 'acknowledged observations lost (must be 0)'],
  ['unexpected', 'unexpected observations (must be 0)'],
  ['recoveredByRepair', 'recovered by repair'],
  ['lostAfterRepair', 'lost after repair (must be 0)'],
];

/** A new or empty directory, created: chaos never reuses a store. */
async function freshDir(value: string | undefined): Promise<string> {
  const store = resolve(value ?? join('stores', `chaos-${newRunId()}`));
  if ((await readdir(store).catch(() => [])).length) throw new BadInputError(`--store: ${store} is not empty; chaos needs a fresh store and never reuses one`, store);
  await mkdir(store, { recursive: true }).catch((err: Error) => {
    throw new BadInputError(`--store: ${store} cannot be created: ${err.message}`, store);
  });
  return store;
}

/** A schema that holds no store yet; chaos creates its tables. */
async function freshPgSchema(url: string): Promise<string> {
  const { assertFreshPgStore } = await import('../../store/pg/schemas.js');
  await assertFreshPgStore(url, 'chaos');
  return url;
}

export async function executeChaos(args: ChaosArgs, io: Io): Promise<number> {
  const pg = args.store !== undefined && isPostgresUrl(args.store);
  if (args.store !== undefined && !pg) assertNotMistypedUrl(args.store);
  // Before anything is created: a PostgreSQL store commits each batch in one transaction and has no pending batch files to fold.
  if (pg && args.commit === 'shared') throw new BadInputError(`--commit shared folds the file store's pending batch files; ${maskUrl(args.store!)} is a PostgreSQL store (use --commit each or batched)`);
  const store = pg ? await freshPgSchema(args.store!) : await freshDir(args.store);
  const shown = pg ? maskUrl(store) : store;
  const report = await runChaos({
    store,
    processes: args.processes,
    threads: args.threads,
    kills: args.kills,
    durationS: args.duration,
    seed: args.seed,
    commit: args.commit,
    onProgress: (line) => io.progress(line),
  });
  io.progress('');
  if (args.json) io.out(JSON.stringify({ store: shown, ...report }));
  else {
    io.out(`Chaos on ${shown}: ${args.processes} writer processes × ${args.threads} threads, commit ${args.commit}, pauses of ${report.pauseMs} ms\n`);
    io.out(markdownTable(['What', 'Count'], ROWS.map(([k, label]) => [label, String(report[k])])));
    io.out('');
    if (report.ok) io.out('OK: nothing acknowledged was lost, nothing was torn, nothing appeared from nowhere.');
    else {
      io.out('FAILED:');
      if (report.tornFiles.length) io.out(`  torn playbooks: ${report.tornFiles.join(', ')}`);
      if (report.acknowledgedLostIds.length) io.out(`  acknowledged but lost: ${report.acknowledgedLostIds.slice(0, 10).join(', ')}`);
      if (report.unexpectedIds.length) io.out(`  unexpected: ${report.unexpectedIds.slice(0, 10).join(', ')}`);
      for (const e of report.writerErrors.slice(0, 10)) io.out(`  writer error: ${e}`);
    }
  }
  return report.ok ? EXIT.ok : EXIT.loss;
}
