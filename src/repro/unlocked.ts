/**
 * The pre-fix write path, kept only to reproduce the loss it caused: no
 * lock, no re-read, no merge — the caller's copy, loaded when its episode
 * started, replaces whatever is on disk. The rename keeps files whole, so
 * concurrent readers still parse; what is lost is every write since the
 * copy was read. No production write path calls it: `run --no-lock`,
 * `compare` and the bench use it to show that loss.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../store/durable.js';
import type { Store } from '../store/store.js';
import type { Playbook } from '../core/types.js';

/** Writes `playbook` over the domain's playbook.json, as the tool did before the fix. Returns the bytes written. */
export async function overwriteUnlocked(store: Store, domain: string, playbook: Playbook): Promise<number> {
  const file = store.playbookPath(domain);
  await mkdir(dirname(file), { recursive: true });
  return writeFileAtomic(file, `${JSON.stringify(playbook, null, 2)}\n`, { fsync: false });
}
