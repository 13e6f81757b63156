/**
 * The SQL side of one playbook merge, shared by single merges and group
 * commits: lock the domain's row, apply the SAME pure merge rules as the file
 * store (src/core/merge.ts), write it back. Always inside the caller's transaction.
 */
import type { PoolClient } from 'pg';
import { assertWithinCap } from '../../core/cap.js';
import { assertMergeable } from '../../core/mergeable.js';
import { applyDeltas, emptyPlaybook, sameContent } from '../../core/merge.js';
import type { Deltas, Playbook } from '../../core/types.js';
import { checkPlaybook } from '../../core/validate.js';

export interface LockedPlaybook {
  playbook: Playbook;
  generation: number;
  exists: boolean;
}

/** The playbook as readers see it: `generation` first, as the file store writes it. */
function withGeneration(body: Playbook, generation: number): Playbook {
  const { generation: _old, ...rest } = body;
  return { generation, ...rest } as Playbook;
}

export function rowPlaybook(row: { body: unknown; generation: string | number } | undefined, where: string): LockedPlaybook {
  if (!row) return { playbook: emptyPlaybook(), generation: 0, exists: false };
  const generation = Number(row.generation);
  return { playbook: withGeneration(checkPlaybook(row.body, where), generation), generation, exists: true };
}

/** Locks the domain's row (creating it if absent) for the rest of the transaction. */
export async function lockPlaybook(client: PoolClient, table: string, domain: string, where: string): Promise<LockedPlaybook> {
  const r = await client.query(`SELECT body, generation FROM ${table} WHERE domain = $1 FOR UPDATE`, [domain]);
  if (r.rows[0]) return rowPlaybook(r.rows[0], where);
  // First writer of this domain: insert an empty row, then lock whichever row won the race.
  await client.query(`INSERT INTO ${table} (domain, generation, body) VALUES ($1, 0, $2) ON CONFLICT (domain) DO NOTHING`, [domain, JSON.stringify(emptyPlaybook())]);
  const again = await client.query(`SELECT body, generation FROM ${table} WHERE domain = $1 FOR UPDATE`, [domain]);
  const locked = rowPlaybook(again.rows[0], where);
  return { ...locked, exists: locked.generation > 0 };
}

/** Applies deltas to the locked row; returns the new generation, or null when nothing changed. */
export async function mergeLocked(client: PoolClient, table: string, domain: string, locked: LockedPlaybook, deltas: Deltas, cap: number, where: string): Promise<{ generation: number; bytes: number } | null> {
  // Like the file store: never drop what a playbook holds to a smaller cap.
  assertWithinCap(locked.playbook.observations, cap, where);
  assertMergeable(locked.playbook, where);
  const merged = applyDeltas(locked.playbook, deltas, cap);
  if (locked.exists && sameContent(locked.playbook, merged)) return null;
  const { generation: _g, ...body } = merged;
  const text = JSON.stringify(body);
  const generation = locked.generation + 1;
  await client.query(`UPDATE ${table} SET body = $2, generation = $3, updated_at = now() WHERE domain = $1`, [domain, text, generation]);
  return { generation, bytes: Buffer.byteLength(text) };
}
