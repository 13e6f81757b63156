/** The experiment flags shared by `run` and `compare`, and how they layer over an experiment file. */
import type { Argv } from 'yargs';
import { readExperimentFile, resolveExperiment } from '../../run/experiment.js';
import type { ExperimentInput } from '../../run/experiment.js';
import { DEFAULT_COMMIT } from '../../run/coordinator.js';
import type { ExperimentConfig } from '../../core/types.js';
import { splitList } from './io.js';

/** `--commit`, shared by run and compare. */
export const commitOption = {
  choices: ['each', 'batched', 'shared'] as const,
  default: DEFAULT_COMMIT,
  describe: 'each: one locked merge per episode; batched: one committer per domain and process merges all pending episodes under one lock and one durable write; shared: batched, and the lock holder also folds the other processes\' pending batches into its write (file store, locked runs only)',
};

export interface ExperimentArgs {
  domains?: string;
  episodes?: number;
  threads?: number;
  processes?: number;
  episodeMs?: number;
  cap?: number;
  seed?: number;
  concurrency?: number;
  episodeTimeout?: number;
  retries?: number;
  retryDelay?: number;
  rate?: number;
  maxFailures?: number;
}

export function experimentOptions<T>(y: Argv<T>) {
  return y
    .option('domains', { type: 'string', describe: 'Comma-separated domains to run (built in: hot_pot, chem_tile, switch_light)' })
    .option('episodes', { type: 'number', describe: 'Episodes per domain (default 10)' })
    .option('threads', { type: 'number', describe: 'Worker threads per process (CPU parallelism; default: the CPU count, at least 2; never more than the episodes to play)' })
    .option('concurrency', { type: 'number', describe: 'Episodes in flight per process, spread over its threads (default --threads); raise it for agents that wait on model calls' })
    .option('episode-timeout', { type: 'number', describe: 'Abandon an episode attempt after this many ms: it fails with E_TIMEOUT and nothing of it is written (default, or 0: none)' })
    .option('retries', { type: 'number', describe: 'Re-play a failed attempt up to this many times, exponential backoff with jitter; errors with `retryable: false` are not retried (default 0)' })
    .option('retry-delay', { type: 'number', describe: 'First retry backoff in ms, doubling after (default 1000)' })
    .option('rate', { type: 'number', describe: 'Episode attempts started per second (a whole number), across all processes of the run (default: unlimited)' })
    .option('max-failures', { type: 'number', describe: 'Stop scheduling once more than this many episodes have failed; exit 4 (default: unlimited)' })
    .option('processes', { type: 'number', describe: 'OS processes sharing the episodes, each with its own pool of --threads (default 1)' })
    .option('episode-ms', { type: 'number', describe: 'Think time per episode in ms, standing in for model calls (default 0)' })
    .option('cap', { type: 'number', describe: "Observations kept per playbook: a store's own cap (metadata/store.json) unless given; 10 for a new store. Lower than the store's cap, or than a playbook holds, is refused (exit 2)" })
    .option('seed', { type: 'number', describe: 'Seed: the same seed, domain and index always give the same trajectory; the playbook an episode starts from depends on which episodes were merged before it (default 1)' });
}

/** Defaults, then the experiment file, then the flags. */
export async function experimentFromArgs(file: string | undefined, args: ExperimentArgs): Promise<ExperimentConfig> {
  return (await experimentAndCapFromArgs(file, args)).experiment;
}

/**
 * The experiment, and whether its cap was asked for (by `--cap` or the file's
 * `cap`) rather than defaulted: a defaulted cap yields to the store's recorded cap.
 */
export async function experimentAndCapFromArgs(file: string | undefined, args: ExperimentArgs): Promise<{ experiment: ExperimentConfig; capRequested: boolean }> {
  const layers: { input: ExperimentInput; source: string }[] = [];
  if (file) layers.push({ input: await readExperimentFile(file), source: file });
  layers.push({
    input: {
      domains: splitList(args.domains),
      episodes: args.episodes,
      threads: args.threads,
      processes: args.processes,
      episodeMs: args.episodeMs,
      cap: args.cap,
      seed: args.seed,
      concurrency: args.concurrency,
      episodeTimeoutMs: args.episodeTimeout,
      retries: args.retries,
      retryDelayMs: args.retryDelay,
      rate: args.rate,
      maxFailures: args.maxFailures,
    },
    source: '--flags',
  });
  return { experiment: resolveExperiment(layers), capRequested: layers.some((l) => l.input.cap !== undefined) };
}
