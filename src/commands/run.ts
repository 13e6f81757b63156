/** `ace-orch run`: run an experiment on a store, then audit the run. */
import type { Argv } from 'yargs';
import { runExperiment } from '../coordinator.js';
import type { RunEvent } from '../coordinator.js';
import { BadInputError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { readExperimentFile, resolveExperiment } from '../experiment.js';
import type { ExperimentInput } from '../experiment.js';
import { auditJson, formatAudit, formatContention } from '../format.js';
import { Store } from '../store/store.js';
import type { Io } from './io.js';
import { splitList } from './io.js';

export interface RunArgs {
  experiment?: string;
  domains?: string;
  episodes?: number;
  threads?: number;
  store: string;
  cap?: number;
  seed?: number;
  episodeMs: number;
  json: boolean;
}

export function runBuilder<T>(y: Argv<T>) {
  return y
    .positional('experiment', { type: 'string', describe: 'Experiment JSON file (see experiments/); flags override its fields' })
    .option('domains', { type: 'string', describe: 'Comma-separated domains to run (built in: hot_pot, chem_tile, switch_light)' })
    .option('episodes', { type: 'number', describe: 'Episodes per domain' })
    .option('threads', { type: 'number', describe: 'Worker threads in the pool (and episodes in flight)' })
    .option('store', { type: 'string', default: './memory', describe: 'Store directory; created if missing, never wiped' })
    .option('cap', { type: 'number', describe: 'Observations kept per playbook' })
    .option('seed', { type: 'number', describe: 'Seed: the same seed, domain and index always give the same trajectory' })
    .option('episode-ms', { type: 'number', default: 0, describe: 'Think time per episode in ms, standing in for model calls' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as one JSON object on stdout' });
}

function progressLine(e: Extract<RunEvent, { type: 'episode' }>, failed: number): string {
  const width = 24;
  const filled = Math.round((e.done / e.total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.done}/${e.total} episodes${failed ? `, ${failed} failed` : ''}`;
}

export async function executeRun(args: RunArgs, io: Io, signal?: AbortSignal): Promise<number> {
  const layers: { input: ExperimentInput; source: string }[] = [];
  if (args.experiment) layers.push({ input: await readExperimentFile(args.experiment), source: args.experiment });
  layers.push({
    input: { domains: splitList(args.domains), episodes: args.episodes, threads: args.threads, cap: args.cap, seed: args.seed },
    source: '--flags',
  });
  const experiment = resolveExperiment(layers);
  if (!Number.isInteger(args.episodeMs) || args.episodeMs < 0) {
    throw new BadInputError(`--episode-ms: Expected a non-negative integer, got \`${args.episodeMs}\``);
  }
  const store = new Store(args.store, { cap: experiment.cap });
  let failed = 0;
  const result = await runExperiment({
    experiment,
    store,
    episodeMs: args.episodeMs,
    signal,
    onEvent: (e) => {
      if (e.type === 'started') io.progress(`run ${e.runId}: ${e.total} episodes on ${experiment.threads} threads`);
      if (e.type === 'episode') {
        if (!e.outcome.ok) {
          failed++;
          io.err(`episode ${e.outcome.domain} #${e.outcome.index} failed: ${e.outcome.error.message}`);
        }
        io.progress(progressLine(e, failed));
      }
      if (e.type === 'stopping') io.err(`stopping (${e.reason}): letting ${e.inFlight} in-flight episodes finish their writes`);
    },
  });
  io.progress('');
  const { manifest, report } = result;
  if (args.json) {
    io.out(JSON.stringify({ ...auditJson(report), status: manifest.status, timings: manifest.timings, contention: manifest.contention }));
  } else {
    io.out(`Run ${manifest.run_id} (${experiment.name}): ${manifest.status}, ${manifest.episodes?.length ?? 0} episodes in ${manifest.timings?.seconds} s on ${experiment.threads} threads; store ${store.root}`);
    io.out('');
    io.out(formatAudit(report));
    io.out(formatContention(manifest.contention ?? {}));
  }
  if (result.fatal) {
    io.err(`ace-orch: ${result.fatal.message}`);
    return EXIT.usage;
  }
  if (!report.zeroLoss) return EXIT.loss;
  return manifest.status === 'interrupted' ? EXIT.interrupted : EXIT.ok;
}
