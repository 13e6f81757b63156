/**
 * Group commit: the writers of one process hand their deltas (and, from
 * worker threads, their episode records) to one committer per domain, which
 * takes everything pending, makes the batch's episode files durable together
 * (parallel fsyncs, one directory fsync), then merges the deltas under one
 * lock acquisition with one durable write, and only then resolves each
 * writer's promise. With the file store, an episode's file is written, fsynced
 * and linked as soon as the episode arrives, while earlier batches commit: a
 * batch then waits only for its last files and one directory fsync, so the
 * episodes that finish last are not left writing every file of their batch
 * after the others are done. Files before the merge, as in the one-by-one path: a
 * crash in between leaves files `repair` merges, never a merge without its file.
 * Cross-process safety is the store's: the committer still takes the
 * domain's lock, reads under it and passes the fence.
 */
import { episodeRecordOf } from '../core/episode.js';
import { combineDeltas } from '../core/merge.js';
import type { Deltas, EpisodeFile, EpisodeRecord } from '../core/types.js';
import type { StoreBackend } from './backend.js';
import type { NewFileResult } from './durable-batch.js';
import type { MergeResult, Store } from './store.js';

interface Pending {
  deltas: Deltas;
  /** The episode file to make durable before the merge; absent when the caller wrote it already. */
  record?: EpisodeRecord | EpisodeFile;
  /** That file, started on arrival (file store): written, fsynced and linked; the directory fsync is the batch's. */
  linked?: Promise<NewFileResult>;
  resolve: (result: MergeResult & { batch: number }) => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter {
  private readonly pending = new Map<string, Pending[]>();
  private readonly flushing = new Set<string>();

  /**
   * Any backend: the committer needs its merge and its episode write. A backend that can start an
   * episode file on its own and make many links durable at once (the file store) offers
   * `linkEpisode` and `syncEpisodes`, and `mergeBatch` to merge while they become durable.
   */
  constructor(private readonly store: Pick<StoreBackend, 'merge' | 'writeEpisode'> & Partial<Pick<Store, 'linkEpisode' | 'syncEpisodes' | 'mergeBatch'>>) {}

  /**
   * Resolves once these deltas are durable in the playbook (and `record`, if given, in its episode
   * file), with the merge that carried them.
   */
  submit(domain: string, deltas: Deltas, record?: EpisodeRecord | EpisodeFile): Promise<MergeResult & { batch: number }> {
    return new Promise((resolve, reject) => {
      const queue = this.pending.get(domain) ?? [];
      const linked = record && this.store.linkEpisode ? this.store.linkEpisode(domain, record).catch(asError) : undefined;
      queue.push({ deltas, resolve, reject, ...(record ? { record } : {}), ...(linked ? { linked } : {}) });
      this.pending.set(domain, queue);
      if (!this.flushing.has(domain)) {
        // Start on the next turn of the event loop, so everything submitted in this one (say, several
        // workers' results delivered together) goes into the first batch.
        this.flushing.add(domain);
        setImmediate(() => void this.flush(domain));
      }
    });
  }

  /**
   * Commits batches until nothing is pending: whatever arrives during a commit goes in the next one.
   * A batch's merge starts while its episode files' directory fsync runs (the rename waits for it,
   * Store.mergeBatch), and the next batch starts once the lock is released, while the last one's
   * rename is still being made durable: each batch is acknowledged only after its own fsyncs.
   */
  private async flush(domain: string): Promise<void> {
    try {
      for (let taken = this.take(domain); taken.length > 0; taken = this.take(domain)) {
        const { batch, durable } = await this.linkFiles(domain, taken);
        if (batch.length === 0) continue;
        let released!: () => void;
        const lockReleased = new Promise<void>((resolve) => (released = resolve));
        const committed = this.commit(domain, batch, durable, released);
        await Promise.race([lockReleased, committed]);
      }
    } finally {
      this.flushing.delete(domain);
    }
  }

  /** Merges the batch once its files are durable (or while they become so) and settles every writer's promise; never rejects. */
  private async commit(domain: string, batch: Pending[], durable: Promise<void> | undefined, onReleased: () => void): Promise<void> {
    try {
      const deltas = combineDeltas(batch.map((p) => p.deltas));
      const merging = this.store.mergeBatch
        ? this.store.mergeBatch(domain, deltas, { ...(durable ? { filesDurable: durable } : {}), onReleased })
        : (durable ?? Promise.resolve()).then(() => this.store.merge(domain, deltas));
      // Both settled before anyone hears: a merge aborted by its files' failed fsync still holds the lock until it gives up.
      const [merged, files] = await Promise.allSettled([merging, durable]);
      if (files.status === 'rejected') throw files.reason;
      if (merged.status === 'rejected') throw merged.reason;
      for (const p of batch) p.resolve({ ...merged.value, batch: batch.length });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  /**
   * Waits for the batch's episode files to be written and linked and rejects those refused. Returns the
   * rest, with the episodes directory's fsync that makes their links durable, started and not awaited
   * (undefined when the batch has no file, or its files were written whole by writeEpisode).
   */
  private async linkFiles(domain: string, batch: Pending[]): Promise<{ batch: Pending[]; durable?: Promise<void> }> {
    const withFile = batch.filter((p) => p.record);
    if (withFile.length === 0) return { batch };
    let results: NewFileResult[];
    let durable: Promise<void> | undefined;
    if (this.store.syncEpisodes && withFile.every((p) => p.linked)) {
      results = await Promise.all(withFile.map((p) => p.linked!));
      // Also when every file was already there: a crashed writer may have linked it without the directory fsync.
      if (results.some((r) => !(r instanceof Error))) durable = this.store.syncEpisodes(domain);
    } else {
      results = await Promise.all(
        withFile.map(async (p) => {
          try {
            await this.store.writeEpisode(domain, episodeRecordOf(p.record!));
            return true;
          } catch (err) {
            return asError(err);
          }
        }),
      );
    }
    const refused = new Set<Pending>();
    withFile.forEach((p, i) => {
      const r = results[i];
      if (r instanceof Error) {
        refused.add(p);
        p.reject(r);
      }
    });
    return { batch: batch.filter((p) => !refused.has(p)), ...(durable ? { durable } : {}) };
  }

  private take(domain: string): Pending[] {
    const batch = this.pending.get(domain) ?? [];
    this.pending.delete(domain);
    return batch;
  }
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
