/**
 * Durable file writes: a uniquely named temp file in the target's directory,
 * fsync, rename (or link, to refuse overwriting), fsync of the directory.
 * A reader sees the old file or the new one, never a torn one; after the
 * function returns the new content survives a power cut.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, link, unlink, readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** Temp files end in `.tmp`; readers only read `*.json`, so a crash's leftovers are never read. */
export const TEMP_SUFFIX = '.tmp';

export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${threadId}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

async function writeTemp(file: string, data: string, fsync = true): Promise<void> {
  const fh = await open(file, 'wx');
  try {
    await fh.writeFile(data);
    if (fsync) await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface AtomicWriteOptions {
  /** fsync the temp file and the directory. Off only for the unlocked reproduction path. @default true */
  fsync?: boolean;
  /**
   * Called after the temp file is durable and just before it is renamed into
   * place; throwing aborts the write and leaves the target untouched.
   */
  beforeCommit?: () => void | Promise<void>;
  /** Called right after the rename, before the directory fsync (a fault point for crash tests). */
  afterRename?: () => void | Promise<void>;
}

/** Replaces `file` atomically (and durably unless `fsync: false`). Returns the bytes written. */
export async function writeFileAtomic(file: string, data: string, options: AtomicWriteOptions = {}): Promise<number> {
  const fsync = options.fsync ?? true;
  const temp = tempPathFor(file);
  try {
    await writeTemp(temp, data, fsync);
    await options.beforeCommit?.();
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  await options.afterRename?.();
  if (fsync) await fsyncDir(dirname(file));
  return Buffer.byteLength(data);
}

/**
 * Creates `file` atomically and durably, never replacing an existing one
 * (link fails with EEXIST where rename would overwrite). Returns false when
 * the file already exists with exactly this content (a retried write), and
 * throws `onConflict()` when it exists with other content.
 */
export async function createFileDurable(file: string, data: string, onConflict: () => Error): Promise<boolean> {
  const temp = tempPathFor(file);
  try {
    await writeTemp(temp, data);
    await link(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const existing = await readFile(file, 'utf8');
    if (existing !== data) throw onConflict();
    return false;
  } finally {
    await unlink(temp).catch(() => {});
  }
  await fsyncDir(dirname(file));
  return true;
}

/**
 * Removes temp files in `dir` older than `olderThanMs`: leftovers of writers
 * that crashed mid-write. A live writer's temp file lives for milliseconds.
 */
export async function removeStaleTemps(dir: string, olderThanMs: number): Promise<number> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('.') && n.endsWith(TEMP_SUFFIX));
  let removed = 0;
  for (const name of names) {
    const file = join(dir, name);
    const s = await stat(file).catch(() => null);
    if (s && Date.now() - s.mtimeMs > olderThanMs && (await unlink(file).then(() => true, () => false))) removed++;
  }
  return removed;
}

/**
 * The generation a playbook file was written at, read from its first bytes
 * (the store writes `generation` as the first key); 0 for a missing file or
 * one written by another tool.
 */
export async function readGeneration(file: string): Promise<number> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  try {
    const buf = Buffer.alloc(64);
    const { bytesRead } = await fh.read(buf, 0, 64, 0);
    const m = /^\{\s*"generation":\s*(\d+)/.exec(buf.subarray(0, bytesRead).toString('utf8'));
    return m ? Number(m[1]) : 0;
  } finally {
    await fh.close();
  }
}
