/** The experiment flags shared by `run` and `compare`, and how they layer over an experiment file. */
import type { Argv } from 'yargs';
import { readExperimentFile, resolveExperiment } from '../experiment.js';
import type { ExperimentInput } from '../experiment.js';
import { DEFAULT_COMMIT } from '../coordinator.js';
import type { ExperimentConfig } from '../types.js';
import { splitList } from './io.js';

/** `--commit`, shared by run and compare. */
export const commitOption = {
  choices: ['each', 'batched'] as const,
  default: DEFAULT_COMMIT,
  describe: 'each: one locked merge per episode; batched: one committer per domain and process merges all pending episodes under one lock and one durable write',
};

export interface ExperimentArgs {
  domains?: string;
  episodes?: number;
  threads?: number;
  processes?: number;
  episodeMs?: number;
  cap?: number;
  seed?: number;
}

export function experimentOptions<T>(y: Argv<T>) {
  return y
    .option('domains', { type: 'string', describe: 'Comma-separated domains to run (built in: hot_pot, chem_tile, switch_light)' })
    .option('episodes', { type: 'number', describe: 'Episodes per domain (default 10)' })
    .option('threads', { type: 'number', describe: 'Worker threads per process; also the episodes in flight per process' })
    .option('processes', { type: 'number', describe: 'OS processes sharing the episodes, each with its own pool of --threads (default 1)' })
    .option('episode-ms', { type: 'number', describe: 'Think time per episode in ms, standing in for model calls (default 0)' })
    .option('cap', { type: 'number', describe: "Observations kept per playbook: a store's own cap (metadata/store.json) unless given; 10 for a new store. Lower than the store's cap, or than a playbook holds, is refused (exit 2)" })
    .option('seed', { type: 'number', describe: 'Seed: the same seed, domain and index always give the same trajectory' });
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
    },
    source: '--flags',
  });
  return { experiment: resolveExperiment(layers), capRequested: layers.some((l) => l.input.cap !== undefined) };
}
