/**
 * The episode queue on pg-boss: its name, the job shape, and opening it.
 * Jobs carry the store's schema, not its URL: every worker reaches the
 * database through its own `--queue` URL (hosts may see the server under
 * different addresses), and the store lives in that same database so that a
 * job's completion and its episode's merge commit in one transaction.
 */
import PgBoss from 'pg-boss';
import { createPool, openError } from '../store/pg/connect.js';
import { parsePgUrl } from '../store/pg/url.js';
import type { PgTarget } from '../store/pg/url.js';

/** The one queue every worker claims episodes from. */
export const EPISODE_QUEUE = 'ace-episodes';
/** pg-boss's tables live here unless the `--queue` URL's `?schema=` says otherwise. */
const DEFAULT_QUEUE_SCHEMA = 'pgboss';

/** One episode to play, as enqueued by `run --queue`. */
export interface EpisodeJob {
  storeSchema: string;
  runId: string;
  domain: string;
  index: number;
  seed: number;
  cap: number;
  episodeMs: number;
  modules: string[];
  /** The run's --episode-timeout, --retries and --retry-delay: a worker plays the episode's attempts as a local run does. */
  timeoutMs?: number;
  retries?: number;
  retryDelayMs?: number;
}

export interface QueueOptions {
  /** How often this instance looks for expired claims. @default 2 */
  maintenanceSeconds?: number;
  /** Connections pg-boss may hold. @default 4 */
  connections?: number;
}

export function parseQueueUrl(value: string): PgTarget {
  return parsePgUrl(value, '--queue', DEFAULT_QUEUE_SCHEMA);
}

/** Starts pg-boss on the queue's database (creating its schema on first use); one line naming the URL and exit 2 if it cannot. */
export async function openQueue(value: string, options: QueueOptions = {}, onError: (err: Error) => void = () => {}): Promise<{ boss: PgBoss; target: PgTarget; created: boolean }> {
  const target = parseQueueUrl(value);
  const boss = new PgBoss({
    connectionString: target.connectionString,
    schema: target.schema,
    max: options.connections ?? 4,
    schedule: false,
    supervise: true,
    maintenanceIntervalSeconds: options.maintenanceSeconds ?? 2,
  });
  boss.on('error', onError);
  // pg-boss creates its schema on first start; a run and its workers starting together would create it
  // concurrently and deadlock in PostgreSQL. One session-level advisory lock per queue schema makes
  // the starts take turns (it is released when its connection closes, whatever happens).
  const gate = createPool(target.connectionString, 1);
  let created = false;
  try {
    const client = await gate.connect();
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`ace-orch:pg-boss-start:${target.schema}`]);
      // Under the lock: whether this start is the one that creates the queue (a worker's ?schema= no run used yet).
      created = (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [target.schema])).rowCount === 0;
      await boss.start();
      await boss.createQueue(EPISODE_QUEUE);
    } finally {
      client.release(true);
    }
  } catch (err) {
    await boss.stop({ graceful: false, wait: true }).catch(() => {});
    throw openError(target.masked, err, 'queue');
  } finally {
    await gate.end().catch(() => {});
  }
  return { boss, target, created };
}
