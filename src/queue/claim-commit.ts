/**
 * Commits played episodes from the queue: group commit across claims, one
 * transaction per batch. Inside it, each job's claim is checked (still
 * `active` in pg-boss with the retry count this worker fetched it at: a claim
 * that expired and went to another worker has a higher count), live episodes'
 * records are inserted, each domain's playbook is merged once, and the live
 * jobs are completed through pg-boss on the same connection. Nothing is
 * acknowledged before COMMIT; a lost claim commits nothing. A failed
 * episode's job is failed the same way: only under its live claim.
 */
import type pg from 'pg';
import type PgBoss from 'pg-boss';
import { combineDeltas } from '../core/merge.js';
import { insertEpisodes } from '../store/pg/pg-store.js';
import type { PgStore, WriterId } from '../store/pg/pg-store.js';
import { lockPlaybook, mergeLocked } from '../store/pg/playbook-rows.js';
import type { AttemptFields, Deltas, EpisodeRecord } from '../core/types.js';
import { EPISODE_QUEUE } from './jobs.js';

export interface Claimed {
  jobId: string;
  /** pg-boss's retry count when this worker fetched the job: the claim's token. */
  retryCount: number;
  domain: string;
  record: EpisodeRecord;
  deltas: Deltas;
  /** What the run's manifest records of the episode's attempts, kept with its record. */
  entry?: AttemptFields;
}

/** A batch's merge into one domain's playbook row, as the run's contention stats take it (src/queue/distributed-run.ts). */
export interface QueueMergeTiming {
  /** From asking for the playbook row's lock (SELECT ... FOR UPDATE) to holding it. */
  waitMs: number;
  /** From holding it to the transaction's last statement before COMMIT. */
  holdMs: number;
  /** Episodes of this domain in the batch. */
  batch: number;
  /** Of those, how many each run had: a worker's batch may carry several runs' episodes. */
  runs?: Record<string, number>;
  changed: boolean;
  bytes: number;
}

/** What a committed job's pg-boss output holds: who committed it, and the lock timings of its batch by domain. */
export interface CompletedOutput extends WriterId {
  merges?: Record<string, QueueMergeTiming>;
}

/** Per episode: committed under a live claim, or dropped because the claim was lost. */
export type ClaimOutcome = 'committed' | 'claim-lost';

interface Pending {
  item: Claimed;
  resolve: (o: ClaimOutcome) => void;
  reject: (err: unknown) => void;
}

export class ClaimCommitter {
  private pending: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly store: PgStore,
    private readonly boss: PgBoss,
    private readonly bossSchema: string,
    private readonly writer: WriterId,
  ) {}

  submit(item: Claimed): Promise<ClaimOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        try {
          const live = await this.commit(batch.map((p) => p.item));
          for (const p of batch) p.resolve(live.has(p.item.jobId) ? 'committed' : 'claim-lost');
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Fails the job under its live claim, with the episode's error as its output. `final`: the episode's
   * own attempts (--retries) are spent, so pg-boss must not queue it again (its retries are for lost
   * claims). A lost claim fails nothing: another worker holds the episode now.
   */
  fail(item: Pick<Claimed, 'jobId' | 'retryCount'>, error: { code: string; message: string }, final: boolean, entry?: AttemptFields): Promise<'failed' | 'claim-lost'> {
    return this.store.transaction((c) => failUnderClaim(c, this.boss, this.bossSchema, item, { ...error, ...this.writer, ...(entry ? { entry } : {}) }, final));
  }

  /** One transaction for the batch; returns the job ids committed. */
  private commit(items: Claimed[]): Promise<Set<string>> {
    const { t, location } = this.store;
    return this.store.transaction(async (c) => {
      const rows = await c.query<{ id: string; retry_count: number }>(
        `SELECT id, retry_count FROM "${this.bossSchema}".job WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'active' FOR UPDATE`,
        [EPISODE_QUEUE, items.map((i) => i.jobId)],
      );
      const tokens = new Map(rows.rows.map((r) => [r.id, r.retry_count]));
      const live = items.filter((i) => tokens.get(i.jobId) === i.retryCount);
      await insertEpisodes(c, t.episodes, live, this.writer, location);
      const merges: Record<string, QueueMergeTiming> = {};
      const locked = new Map<string, number>();
      // Domains in a fixed order, so two workers' batches never wait on each other's rows in a cycle.
      for (const domain of [...new Set(live.map((i) => i.domain))].sort()) {
        // What the merge needs is made before the row lock: the earlier domains' locks are held meanwhile.
        const mine = live.filter((i) => i.domain === domain);
        const deltas = combineDeltas(mine.map((i) => i.deltas));
        const runs: Record<string, number> = {};
        for (const i of mine) if (i.record.run_id) runs[i.record.run_id] = (runs[i.record.run_id] ?? 0) + 1;
        const asked = performance.now();
        const row = await lockPlaybook(c, t.playbooks, domain, `${location} playbook ${domain}`);
        locked.set(domain, performance.now());
        const written = await mergeLocked(c, t.playbooks, domain, row, deltas, this.store.options.cap, `${location} playbook ${domain}`);
        merges[domain] = { waitMs: locked.get(domain)! - asked, holdMs: 0, batch: mine.length, runs, changed: written !== null, bytes: written?.bytes ?? 0 };
      }
      if (live.length) {
        // Every row lock is held to COMMIT: the hold runs to the last statement before it (COMMIT's own time is not seen here).
        for (const [domain, at] of locked) merges[domain]!.holdMs = performance.now() - at;
        // pg-boss's own completion, on this transaction's connection (its `db` option); the output names who committed,
        // and carries the batch's lock timings per domain for the run's contention stats.
        const complete = this.boss.complete.bind(this.boss) as (name: string, ids: string[], output: object, options: PgBoss.ConnectionOptions) => Promise<unknown>;
        await complete(EPISODE_QUEUE, live.map((i) => i.jobId), { ...this.writer, merges } satisfies CompletedOutput, { db: { executeSql: (text, values) => c.query(text, values) } });
      }
      return new Set(live.map((i) => i.jobId));
    });
  }
}

/**
 * Fails a job on `c`, inside the caller's transaction, only if its claim is still live (`active` at the
 * retry count it was fetched with); `final` stops pg-boss from queueing it again.
 */
export async function failUnderClaim(
  c: Pick<pg.ClientBase, 'query'>,
  boss: PgBoss,
  bossSchema: string,
  item: Pick<Claimed, 'jobId' | 'retryCount'>,
  output: object,
  final: boolean,
): Promise<'failed' | 'claim-lost'> {
  const live = await c.query(
    `UPDATE "${bossSchema}".job SET retry_limit = CASE WHEN $4 THEN retry_count ELSE retry_limit END WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3`,
    [EPISODE_QUEUE, item.jobId, item.retryCount, final],
  );
  if (!live.rowCount) return 'claim-lost';
  const fail = boss.fail.bind(boss) as (name: string, id: string, output: object, options: PgBoss.ConnectionOptions) => Promise<unknown>;
  await fail(EPISODE_QUEUE, item.jobId, output, { db: { executeSql: (text, values) => c.query(text, values) } });
  return 'failed';
}
