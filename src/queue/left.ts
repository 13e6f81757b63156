/** How much of a queued run its queue still holds: what `run --resume` and `repair` ask before treating it as over. */
import type { PgStore } from '../store/pg/pg-store.js';
import { EPISODE_QUEUE, parseQueueUrl } from './jobs.js';

/** Jobs of a queued run still waiting in its queue or claimed by a worker; 0 when the queue's tables are gone. */
export async function queuedEpisodesLeft(store: PgStore, runId: string, queue: string): Promise<number> {
  const schema = parseQueueUrl(queue).schema;
  try {
    const r = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".job WHERE name = $1 AND data->>'runId' = $2 AND state IN ('created', 'retry', 'active')`, [EPISODE_QUEUE, runId]);
    return r.rows[0]!.n;
  } catch (err) {
    if ((err as { code?: string }).code === '42P01' || (err as { code?: string }).code === '3F000') return 0;
    throw err;
  }
}
