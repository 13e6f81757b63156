/**
 * Pending batches, the waiter's half of group commit across processes: before
 * queueing for a playbook's lock, a process writes its batch of deltas as a
 * file of its own in `playbook.json.pending/`; whichever process holds the
 * lock next folds every such file into its one durable write and removes the
 * files only once that write is durable. A waiter whose file is gone (or
 * whose batch id the playbook records) is done without taking the lock.
 *
 * The batch file is renamed into place whole but not fsynced: it outlives a
 * killed process either way (the page cache is the kernel's), and after a
 * power cut only unacknowledged batches can be missing, whose episode files
 * were made durable before their merge began and which `repair` re-merges.
 * Acknowledgement never rests on the batch file: only on a durable playbook
 * that holds the batch. Two fsyncs per waiting process per commit saved.
 *
 * A directory of its own, not the lock queue's `playbook.json.waiters/`: the
 * queue orders every name it finds there, and a batch file outlives its
 * waiter's place in the queue when the waiter dies.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { foldedBatches } from '../core/folded-batches.js';
import type { Deltas, Playbook } from '../core/types.js';
import { fileIdentity, fsyncDirAsync, fsyncDir, readWithIdentity, writeFileAtomic } from './durable.js';

export interface PendingBatch {
  id: string;
  file: string;
}

export interface FoldedBatch extends PendingBatch {
  deltas: Deltas;
}

export function pendingDirOf(playbookFile: string): string {
  return `${playbookFile}.pending`;
}

/** Unique across processes and hosts; sorts by creation time, so holders fold oldest first. */
function batchId(): string {
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
  return `${micros.toString().padStart(20, '0')}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Writes `deltas` as a new pending batch, whole (temp file and rename; no fsync, see above). */
export async function writePending(dir: string, deltas: Deltas): Promise<PendingBatch> {
  fs.mkdirSync(dir, { recursive: true });
  const id = batchId();
  const file = join(dir, `${id}.json`);
  await writeFileAtomic(file, JSON.stringify({ batch: id, deltas }), { fsync: false });
  return { id, file };
}

function isDeltas(x: unknown): x is Deltas {
  const d = x as Deltas | null;
  return d !== null && typeof d === 'object' && Array.isArray(d.observations) && Array.isArray(d.strategies_and_rules) && Array.isArray(d.troubleshooting) && Array.isArray(d.context_patterns);
}

/**
 * Every pending batch in `dir`, oldest first. Temp files (dot names) are writes in progress and
 * skipped; a file that vanishes meanwhile was folded by someone else; a file that is not a batch
 * (no writer here makes one: they appear whole by rename) is left where it is for a person to see.
 */
export function readPending(dir: string): FoldedBatch[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: FoldedBatch[] = [];
  for (const name of names) {
    const file = join(dir, name);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as { deltas?: unknown };
      if (isDeltas(parsed.deltas)) out.push({ id: name.slice(0, -'.json'.length), file, deltas: parsed.deltas });
    } catch {
      // Not a batch: see above.
    }
  }
  return out;
}

/** True while the batch file exists: it goes only after a durable write holds its deltas. */
export function stillPending(batch: PendingBatch): boolean {
  return fs.existsSync(batch.file);
}

/** Removes folded batch files. No fsync: a removal lost in a power cut only means a second fold, which changes nothing. */
export function removePending(batches: readonly PendingBatch[]): void {
  for (const b of batches) fs.rmSync(b.file, { force: true });
}

/**
 * A waiter's look at whether its batch is in: its file gone (removed by a holder once the fold was
 * durable), or its id recorded in the playbook. The playbook is parsed only when it changed since the
 * last look; the id is trusted only after a directory fsync, since the holder that recorded it may not
 * have made its rename durable yet.
 */
export class FoldWatch {
  constructor(
    private readonly batch: PendingBatch,
    private readonly playbookFile: string,
    private readonly asyncIo: boolean,
    /** The playbook's identity from before the batch file was written: that version cannot hold the batch. */
    private seen: string | null,
  ) {}

  async folded(): Promise<boolean> {
    if (!stillPending(this.batch)) return true;
    const identity = fileIdentity(this.playbookFile);
    if (identity === null || identity === this.seen) return false;
    this.seen = identity;
    const read = readWithIdentity(this.playbookFile);
    let recorded = false;
    try {
      recorded = read !== null && foldedBatches(JSON.parse(read.text) as Playbook).includes(this.batch.id);
    } catch {
      // Not ours to judge here: the holder reading it under the lock reports a torn or foreign file.
    }
    if (!recorded) return false;
    if (this.asyncIo) await fsyncDirAsync(dirname(this.playbookFile));
    else fsyncDir(dirname(this.playbookFile));
    removePending([this.batch]);
    return true;
  }
}
