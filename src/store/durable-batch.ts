/**
 * Many new files made durable together: each is written to its own temp file
 * and fsynced, all at once (the fsyncs run in parallel on libuv's thread
 * pool, where the device can merge them), linked into place, and then one
 * fsync per directory makes every link durable. One fsync of the directory
 * instead of one per file is what makes a batch of episode files cheap.
 *
 * Same contract per file as createFileDurable: never overwrites; an existing
 * file with identical content is a retried write (false); other content is a
 * conflict (the error from `onConflict`).
 */
import fs from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDirAsync, tempPathFor, writeTempAsync } from './durable.js';

export interface NewFile {
  file: string;
  data: string;
  onConflict: () => Error;
}

/** Per file: true when created, false when it already held this content, or the error that refused it. */
export type NewFileResult = boolean | Error;


/**
 * One new file written, fsynced and linked into place, all but the directory fsync (which makes the
 * link durable): createFilesDurable does that once for many, and a group committer once per batch
 * for files it started as their episodes arrived.
 */
export async function createLinked({ file, data, onConflict }: NewFile): Promise<NewFileResult> {
  const temp = tempPathFor(file);
  try {
    await writeTempAsync(temp, data, true);
    await fs.link(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return err as Error;
    try {
      return (await fs.readFile(file, 'utf8')) === data ? false : onConflict();
    } catch (readErr) {
      return readErr as Error;
    }
  } finally {
    // unlink, not rm: rm's recursive machinery (an lstat first, in JavaScript) cost as much as the write.
    // A temp file that stays (or was never made) is harmless: readers read only `*.json`.
    await fs.unlink(temp).catch(() => {});
  }
}

/**
 * Creates every file durably; resolves once each created file and its directory entry survive a
 * power cut. A file's failure is its own result and does not fail the others.
 */
export async function createFilesDurable(files: readonly NewFile[]): Promise<NewFileResult[]> {
  const results = await Promise.all(files.map(createLinked));
  const dirs = new Set(files.filter((_, i) => !(results[i] instanceof Error)).map((f) => dirname(f.file)));
  return afterDirSync(results, () => Promise.all([...dirs].map(fsyncDirAsync)));
}

/**
 * createLinked's results once `syncDirs` has fsynced their directories, which makes the links durable.
 * Also for a file that was already there: a crashed writer may have linked it without the directory fsync.
 * If the fsync fails, no link is known durable: every file not already refused fails with its error.
 */
async function afterDirSync(results: NewFileResult[], syncDirs: () => Promise<unknown>): Promise<NewFileResult[]> {
  if (results.every((r) => r instanceof Error)) return results;
  try {
    await syncDirs();
    return results;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    return results.map((r) => (r instanceof Error ? r : error));
  }
}
