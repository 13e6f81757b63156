/**
 * What a PostgreSQL store records about itself (its cap), in its `meta`
 * table: the same rules as the file store's `metadata/store.json`, decided by
 * the pure src/cap.ts.
 */
import { decideWriteCap } from '../../cap.js';
import type { CapDecision, PlaybookSize, RecordedCap } from '../../cap.js';
import type { PgStore } from './pg-store.js';

interface CapMeta {
  cap: number;
  recorded_by: 'ace-orch';
  recorded_at: string;
  previous_caps?: number[];
}

async function readCapMeta(store: PgStore): Promise<CapMeta | null> {
  const r = await store.transaction((c) => c.query<{ value: CapMeta }>(`SELECT value FROM ${store.t.meta} WHERE key = 'cap'`));
  return r.rows[0]?.value ?? null;
}

/** The recorded cap, else (runs from before it was recorded) the largest cap a run manifest names, else null. */
export async function pgRecordedCap(store: PgStore): Promise<RecordedCap | null> {
  const meta = await readCapMeta(store);
  if (meta) return { cap: meta.cap, source: `${store.location} (table meta)` };
  let best: RecordedCap | null = null;
  for (const m of await store.readManifests()) {
    const cap = m.config?.cap;
    if (typeof cap === 'number' && (!best || cap > best.cap)) best = { cap, source: `${store.location} run ${m.run_id}` };
  }
  return best;
}

export async function pgSettleCap(store: PgStore, requested: number | undefined): Promise<CapDecision> {
  const r = await store.transaction((c) => c.query<{ domain: string; n: number }>(`SELECT domain, json_array_length(body->'observations') AS n FROM ${store.t.playbooks}`));
  const sizes: PlaybookSize[] = r.rows.map((row) => ({ domain: row.domain, file: `${store.location} playbook ${row.domain}`, observations: row.n }));
  return decideWriteCap(await pgRecordedCap(store), requested, sizes);
}

export async function pgRecordCap(store: PgStore, cap: number): Promise<void> {
  await store.transaction(async (c) => {
    const r = await c.query<{ value: CapMeta }>(`SELECT value FROM ${store.t.meta} WHERE key = 'cap' FOR UPDATE`);
    const previous = r.rows[0]?.value;
    const earlier = previous && previous.cap !== cap ? [...(previous.previous_caps ?? []), previous.cap] : previous?.previous_caps;
    const value: CapMeta = { cap, recorded_by: 'ace-orch', recorded_at: new Date().toISOString(), ...(earlier ? { previous_caps: earlier } : {}) };
    await c.query(`INSERT INTO ${store.t.meta} (key, value) VALUES ('cap', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [JSON.stringify(value)]);
  });
}
