/** Typed messages between `ace-orch worker`'s main thread and its episode threads (workers/queue-episode.ts). */
import type { Deltas, EpisodeRecord } from '../types.js';
import type { EpisodeJob } from './jobs.js';

export interface QueueEpisodeTask {
  /** The store as this worker reaches it: its `--queue` server and database, the job's schema. */
  storeUrl: string;
  job: EpisodeJob;
}

export interface PlayedEpisode {
  record: EpisodeRecord;
  deltas: Deltas;
  ms: number;
}
