/**
 * The PostgreSQL store. One row per playbook, one per episode, manifest and
 * stats. A merge is one transaction: lock the domain's playbook row, apply the
 * pure merge rules, update, COMMIT; it resolves only after the COMMIT, so what
 * it acknowledges survives the writer's death. Transient connection failures
 * retry the whole transaction (every write is idempotent) and are reported.
 */
import { hostname } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import type pg from 'pg';
import type { AuditInput } from '../../core/audit.js';
import { BadInputError } from '../../core/errors.js';
import { DEFAULT_STORE_OPTIONS } from '../store.js';
import type { MergeResult, StoreOptions } from '../store.js';
import type { StoreBackend } from '../backend.js';
import type { SnapshotOptions } from '../snapshot.js';
import type { AttemptFields, Deltas, EpisodeEntry, EpisodeRecord, Playbook, RunManifest } from '../../core/types.js';
import { createPool, openError, withRetry } from './connect.js';
import type { RetryReport } from './connect.js';
import { lockPlaybook, mergeLocked, rowPlaybook } from './playbook-rows.js';
import { ensureSchema, tables } from './schema.js';
import type { SchemaUse } from './schema.js';
import { pgAuditInput } from './snapshot.js';
import { pgRecordCap, pgSettleCap } from './meta.js';
import type { CapDecision } from '../../core/cap.js';
import { parsePgUrl } from './url.js';

/** Who wrote an episode: recorded with it, and in the run manifest. */
export interface WriterId {
  host: string;
  worker: string;
}

const LOCAL_WRITER: WriterId = { host: hostname(), worker: `pid${process.pid}.t${threadId}` };

const USE_RANK: Record<SchemaUse, number> = { read: 0, write: 1, create: 2 };

export class PgStore implements StoreBackend {
  readonly kind = 'postgres' as const;
  readonly root: string;
  readonly location: string;
  readonly schema: string;
  readonly options: StoreOptions;
  readonly t: ReturnType<typeof tables>;
  /** Transient failures retried so far, for the run's report. */
  retried = 0;
  /** Where retries are reported. @default one line on stderr */
  onRetry: (r: RetryReport) => void = (r) => process.stderr.write(`ace-orch: store ${this.location}: ${r.error}; retrying (attempt ${r.attempt + 1})\n`);
  private readonly pool: pg.Pool;
  /** The playbook read each domain's callers of this turn share (readPlaybook). */
  private readonly reads = new Map<string, Promise<ReturnType<typeof rowPlaybook>>>();
  private opened: Promise<void> | null = null;
  private openedFor: SchemaUse = 'read';

  constructor(url: string, options: Partial<StoreOptions> = {}, poolSize = 3) {
    const target = parsePgUrl(url);
    this.root = url;
    this.location = target.masked;
    this.schema = target.schema;
    this.t = tables(target.schema);
    this.options = { ...DEFAULT_STORE_OPTIONS, ...options };
    this.pool = createPool(target.connectionString, poolSize);
  }

  /**
   * Connects and checks the schema once per use: `create` (init: run, worker) creates it, `write` (every
   * transaction) migrates an older one, `read` (single statements: audit and export only read) takes it as it is.
   */
  private open(use: SchemaUse): Promise<void> {
    if (this.opened && USE_RANK[use] <= USE_RANK[this.openedFor]) return this.opened;
    this.openedFor = use;
    this.opened = (async () => {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw openError(this.location, err);
      }
      try {
        await ensureSchema(client, this.schema, this.location, use);
      } catch (err) {
        throw err instanceof BadInputError ? err : openError(this.location, err);
      } finally {
        client.release();
      }
    })();
    this.opened.catch(() => (this.opened = null));
    return this.opened;
  }

  async init(): Promise<void> {
    await this.open('create');
  }

  /** Runs `fn` in one transaction, retried whole on a transient failure; resolves after COMMIT. */
  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.open('write');
    return withRetry(
      async () => {
        const client = await this.pool.connect();
        let broken = false;
        // A connection the server drops mid-transaction errors here too; the failed query is what we retry.
        const onError = (): void => {
          broken = true;
        };
        client.on('error', onError);
        try {
          await client.query('BEGIN');
          const value = await fn(client);
          await client.query('COMMIT');
          return value;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => (broken = true));
          throw err;
        } finally {
          client.off('error', onError);
          client.release(broken);
        }
      },
      (r) => {
        this.retried++;
        this.onRetry(r);
      },
    );
  }

  /**
   * One statement, atomic on its own (autocommit: no BEGIN/COMMIT round trips), retried on a
   * transient failure. Reads on the hot path (a playbook per episode) go through here.
   */
  async query<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    await this.open('read');
    return withRetry(
      () => this.pool.query<R>(sql, values),
      (r) => {
        this.retried++;
        this.onRetry(r);
      },
    );
  }

  /**
   * Episodes that start together (a worker's claims arrive in batches) read together: one query per
   * domain and turn of the event loop, sent after every caller of that turn asked, so it still holds
   * everything acknowledged before each of them asked. Each caller gets its own copy to change.
   */
  async readPlaybook(domain: string): Promise<Playbook> {
    let read = this.reads.get(domain);
    if (!read) {
      read = nextTurn().then(() => {
        // Callers from now on join the next read: this one may already miss what they must see.
        this.reads.delete(domain);
        return this.readPlaybookRow(domain);
      });
      this.reads.set(domain, read);
    }
    return structuredClone((await read).playbook);
  }

  async readPlaybookRow(domain: string): Promise<ReturnType<typeof rowPlaybook>> {
    const r = await this.query<{ body: unknown; generation: string }>(`SELECT body, generation FROM ${this.t.playbooks} WHERE domain = $1`, [domain]);
    return rowPlaybook(r.rows[0], `${this.location} playbook ${domain}`);
  }

  async writeEpisode(domain: string, record: EpisodeRecord, writer: WriterId = LOCAL_WRITER): Promise<void> {
    await this.transaction((c) => insertEpisode(c, this.t.episodes, domain, record, writer, this.location));
  }

  async merge(domain: string, deltas: Deltas): Promise<MergeResult> {
    const faults = this.options.faults;
    const result: MergeResult = { waitMs: 0, holdMs: 0, retries: 0, changed: false, bytes: 0, attempts: 0, refused: 0, foreignWrites: 0, reclaimed: 0, generation: 0 };
    const before = this.retried;
    let locked = 0;
    await this.transaction(async (c) => {
      result.attempts++;
      const t0 = performance.now();
      const row = await lockPlaybook(c, this.t.playbooks, domain, `${this.location} playbook ${domain}`);
      locked = performance.now();
      result.waitMs = locked - t0;
      if (faults) await faults('locked');
      const written = await mergeLocked(c, this.t.playbooks, domain, row, deltas, this.options.cap, `${this.location} playbook ${domain}`);
      Object.assign(result, written ? { changed: true, ...written } : { changed: false, bytes: 0, generation: row.generation });
      if (faults) await faults('temp-written');
    });
    result.holdMs = performance.now() - locked;
    result.retries = this.retried - before;
    if (faults) await faults('renamed');
    return result;
  }

  async writeManifest(manifest: RunManifest): Promise<void> {
    await this.query(`INSERT INTO ${this.t.manifests} (run_id, body) VALUES ($1, $2) ON CONFLICT (run_id) DO UPDATE SET body = EXCLUDED.body`, [manifest.run_id, JSON.stringify(manifest)]);
  }

  async readManifests(): Promise<RunManifest[]> {
    return (await this.query<{ body: RunManifest }>(`SELECT body FROM ${this.t.manifests} ORDER BY run_id`)).rows.map((r) => r.body);
  }

  async listDomains(): Promise<string[]> {
    const r = await this.query<{ domain: string }>(`SELECT domain FROM ${this.t.playbooks} UNION SELECT DISTINCT domain FROM ${this.t.episodes} ORDER BY 1`);
    return r.rows.map((row) => row.domain);
  }

  /** Every episode record of a domain, with who wrote it. */
  async listEpisodes(domain: string): Promise<{ record: EpisodeRecord; host: string | null; worker: string | null }[]> {
    return (await this.query<{ record: EpisodeRecord; host: string | null; worker: string | null }>(`SELECT record, host, worker FROM ${this.t.episodes} WHERE domain = $1 ORDER BY episode_id`, [domain])).rows;
  }

  async updateStats(domain: string, update: (previous: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
    await this.transaction(async (c) => {
      await c.query(`INSERT INTO ${this.t.stats} (domain, body) VALUES ($1, '{}') ON CONFLICT (domain) DO NOTHING`, [domain]);
      const r = await c.query<{ body: Record<string, unknown> }>(`SELECT body FROM ${this.t.stats} WHERE domain = $1 FOR UPDATE`, [domain]);
      await c.query(`UPDATE ${this.t.stats} SET body = $2 WHERE domain = $1`, [domain, JSON.stringify(update(r.rows[0]?.body ?? {}))]);
    });
  }

  async readStats(domain: string): Promise<Record<string, unknown> | null> {
    return (await this.query<{ body: Record<string, unknown> }>(`SELECT body FROM ${this.t.stats} WHERE domain = $1`, [domain])).rows[0]?.body ?? null;
  }

  settleCap(requested: number | undefined): Promise<CapDecision> {
    return pgSettleCap(this, requested);
  }

  recordCap(cap: number): Promise<void> {
    return pgRecordCap(this, cap);
  }

  auditInput(options: SnapshotOptions = {}): Promise<AuditInput> {
    return pgAuditInput(this, options);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Inserts an episode record once: an identical retry is a no-op, a different record under the same id is refused. */
async function insertEpisode(c: pg.PoolClient, table: string, domain: string, record: EpisodeRecord, writer: WriterId, location: string): Promise<boolean> {
  const text = JSON.stringify(record);
  const r = await c.query(
    `INSERT INTO ${table} (episode_id, domain, run_id, record, host, worker) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (episode_id) DO NOTHING`,
    [record.episode_id, domain, record.run_id ?? null, text, writer.host, writer.worker],
  );
  if (r.rowCount === 1) return true;
  const same = await c.query(`SELECT record::jsonb = $2::jsonb AS same FROM ${table} WHERE episode_id = $1`, [record.episode_id, text]);
  if (!same.rows[0]?.same) throw new BadInputError(`store ${location}: episode ${record.episode_id} already exists with different content; refusing to overwrite it`);
  return false;
}

/**
 * Several records in one statement (one round trip, not one each); a conflicting id goes through insertEpisode's
 * check. `entry`: what the run's manifest records of the episode's attempts (src/queue/distributed-run.ts).
 */
export async function insertEpisodes(
  c: pg.PoolClient,
  table: string,
  items: readonly { domain: string; record: EpisodeRecord; entry?: AttemptFields }[],
  writer: WriterId,
  location: string,
): Promise<void> {
  if (!items.length) return;
  const r = await c.query<{ episode_id: string }>(
    `INSERT INTO ${table} (episode_id, domain, run_id, record, host, worker, run_entry)
     SELECT e.id, e.domain, e.run_id, e.record, $5, $6, e.entry FROM unnest($1::text[], $2::text[], $3::text[], $4::json[], $7::json[]) AS e(id, domain, run_id, record, entry)
     ON CONFLICT (episode_id) DO NOTHING RETURNING episode_id`,
    [
      items.map((i) => i.record.episode_id),
      items.map((i) => i.domain),
      items.map((i) => i.record.run_id ?? null),
      items.map((i) => JSON.stringify(i.record)),
      writer.host,
      writer.worker,
      items.map((i) => (i.entry ? JSON.stringify(i.entry) : null)),
    ],
  );
  const inserted = new Set(r.rows.map((row) => row.episode_id));
  for (const i of items) if (!inserted.has(i.record.episode_id)) await insertEpisode(c, table, i.domain, i.record, writer, location);
}

/** A run's committed episodes as manifest entries, with the host and worker that committed each. */
export async function runEpisodeEntries(store: PgStore, runId: string): Promise<EpisodeEntry[]> {
  const r = await store.query<{ episode_id: string; domain: string; record: EpisodeRecord; host: string | null; worker: string | null; run_entry: AttemptFields | null }>(
    `SELECT episode_id, domain, record, host, worker, run_entry FROM ${store.t.episodes} WHERE run_id = $1 ORDER BY episode_id`,
    [runId],
  );
  return r.rows.map(({ episode_id, domain, record, host, worker, run_entry }) => ({
    episode_id,
    domain,
    index: record.index ?? -1,
    status: 'ok' as const,
    ...(run_entry ?? {}),
    score: record.outcome.score,
    ...(record.outcome.observation ? { reliability: record.outcome.observation.reliability } : {}),
    ...(host ? { host } : {}),
    ...(worker ? { worker } : {}),
  }));
}
