/**
 * What a PostgreSQL store records about itself (its cap), in its `meta`
 * table: the same rules as the file store's `metadata/store.json`, decided by
 * the pure src/core/cap.ts.
 */
import { capFromManifests, decideWriteCap, nextCapRecord } from '../../core/cap.js';
import type { CapDecision, CapRecord, PlaybookSize, RecordedCap } from '../../core/cap.js';
import type { RunManifest } from '../../core/types.js';
import type { PgStore } from './pg-store.js';

async function readCapRecord(store: PgStore): Promise<CapRecord | null> {
  const r = await store.query<{ value: CapRecord }>(`SELECT value FROM ${store.t.meta} WHERE key = 'cap'`);
  return r.rows[0]?.value ?? null;
}

/** The recorded cap, else (runs from before it was recorded) the largest cap a run manifest names, else null. */
export async function pgRecordedCap(store: PgStore, manifests?: readonly RunManifest[]): Promise<RecordedCap | null> {
  const meta = await readCapRecord(store);
  if (meta) return { cap: meta.cap, source: `${store.location} (table meta)` };
  return capFromManifests(manifests ?? (await store.readManifests()), (m) => `${store.location} run ${m.run_id}`);
}

export async function pgSettleCap(store: PgStore, requested: number | undefined): Promise<CapDecision> {
  const r = await store.query<{ domain: string; n: number }>(`SELECT domain, json_array_length(body->'observations') AS n FROM ${store.t.playbooks}`);
  const sizes: PlaybookSize[] = r.rows.map((row) => ({ domain: row.domain, file: `${store.location} playbook ${row.domain}`, observations: row.n }));
  return decideWriteCap(await pgRecordedCap(store), requested, sizes);
}

export async function pgRecordCap(store: PgStore, cap: number): Promise<void> {
  await store.transaction(async (c) => {
    const r = await c.query<{ value: CapRecord }>(`SELECT value FROM ${store.t.meta} WHERE key = 'cap' FOR UPDATE`);
    const value = nextCapRecord(r.rows[0]?.value ?? null, cap, new Date().toISOString());
    await c.query(`INSERT INTO ${store.t.meta} (key, value) VALUES ('cap', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [JSON.stringify(value)]);
  });
}
