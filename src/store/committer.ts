/**
 * Group commit: the writers of one process hand their deltas to one committer
 * per domain, which takes everything pending, merges it under one lock
 * acquisition with one durable write, and only then resolves each writer's
 * promise. Cross-process safety is the store's: the committer still takes the
 * domain's lock, reads under it and passes the fence.
 */
import { combineDeltas } from '../merge.js';
import type { Deltas } from '../types.js';
import type { StoreBackend } from './backend.js';
import type { MergeResult } from './store.js';

interface Pending {
  deltas: Deltas;
  resolve: (result: MergeResult & { batch: number }) => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter {
  private readonly pending = new Map<string, Pending[]>();
  private readonly flushing = new Set<string>();

  /** Any backend: the committer needs only its merge. */
  constructor(private readonly store: Pick<StoreBackend, 'merge'>) {}

  /** Resolves once these deltas are durable in the playbook, with the merge that carried them. */
  submit(domain: string, deltas: Deltas): Promise<MergeResult & { batch: number }> {
    return new Promise((resolve, reject) => {
      const queue = this.pending.get(domain) ?? [];
      queue.push({ deltas, resolve, reject });
      this.pending.set(domain, queue);
      if (!this.flushing.has(domain)) {
        // Start on the next turn of the event loop, so everything submitted in this one (say, several
        // workers' results delivered together) goes into the first batch.
        this.flushing.add(domain);
        setImmediate(() => void this.flush(domain));
      }
    });
  }

  /** Commits batches until nothing is pending: whatever arrives during a commit goes in the next one. */
  private async flush(domain: string): Promise<void> {
    try {
      for (let batch = this.take(domain); batch.length > 0; batch = this.take(domain)) {
        try {
          const result = await this.store.merge(domain, combineDeltas(batch.map((p) => p.deltas)));
          for (const p of batch) p.resolve({ ...result, batch: batch.length });
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing.delete(domain);
    }
  }

  private take(domain: string): Pending[] {
    const batch = this.pending.get(domain) ?? [];
    this.pending.delete(domain);
    return batch;
  }
}
