/**
 * Piscina task for `ace-orch worker`: plays one claimed episode against the
 * current playbook and hands back its record and deltas. It writes nothing:
 * the worker's main thread commits record, merge and job completion in one
 * transaction, and only while its claim on the job is still live.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { findDomain } from '../src/domains/index.js';
import { loadDomainModules } from '../src/domains/load.js';
import { BadInputError } from '../src/errors.js';
import { playEpisode } from '../src/episode.js';
import type { PlayedEpisode, QueueEpisodeTask } from '../src/queue/messages.js';
import { PgStore } from '../src/store/pg/pg-store.js';

const stores = new Map<string, PgStore>();

export default async function playQueued(task: QueueEpisodeTask): Promise<PlayedEpisode> {
  const started = performance.now();
  await loadDomainModules(task.job.modules);
  const domain = findDomain(task.job.domain);
  if (!domain) throw new BadInputError(`unknown domain \`${task.job.domain}\``);
  let store = stores.get(task.storeUrl);
  if (!store) {
    // Read-only here (the claim committer writes): no cap to give it.
    store = new PgStore(task.storeUrl, {}, 1);
    stores.set(task.storeUrl, store);
  }
  const prior = await store.readPlaybook(task.job.domain);
  const { record, deltas } = playEpisode({ runId: task.job.runId, domain, index: task.job.index, seed: task.job.seed, prior, now: new Date().toISOString() });
  if (task.job.episodeMs > 0) await sleep(task.job.episodeMs);
  return { record, deltas, ms: performance.now() - started };
}
