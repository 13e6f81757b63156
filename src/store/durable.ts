/**
 * Durable file writes: a uniquely named temp file in the target's directory,
 * fsync, rename (or link, to refuse overwriting), fsync of the directory.
 * A reader sees the old file or the new one, never a torn one; after the
 * function returns the new content survives a power cut.
 *
 * The system calls are synchronous on purpose: these run inside the lock's
 * critical section, on worker threads or the group committer, where a trip
 * through libuv's thread pool per call would double the time the lock is held.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { threadId } from 'node:worker_threads';

/** Temp files end in `.tmp`; readers only read `*.json`, so a crash's leftovers are never read. */
const TEMP_SUFFIX = '.tmp';

// A random nonce per thread and a counter: names unique to this writer without a random draw per file
// (hundreds a second in a batch); a later process that reuses this pid draws another nonce.
const nonce = randomBytes(4).toString('hex');
let tempCount = 0;

export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${threadId}.${nonce}${(tempCount++).toString(36)}${TEMP_SUFFIX}`);
}

function writeTemp(file: string, data: string, fsync = true): void {
  const fd = fs.openSync(file, 'wx');
  try {
    fs.writeFileSync(fd, data);
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// The asynchronous forms use fs's callback API, not FileHandle: a batch makes hundreds of files durable
// at once, and a FileHandle's promise machinery cost about a third more CPU per file on the thread that
// drives the batch (the group committer's), measured with 300 files.
const openAsync = promisify(fs.open);
const writeAsync = promisify(fs.write);
const fsyncAsync = promisify(fs.fsync);
const closeAsync = promisify(fs.close);

export async function writeTempAsync(file: string, data: string, sync: boolean): Promise<void> {
  const fd = await openAsync(file, 'wx');
  try {
    const bytes = Buffer.from(data);
    // write(2) may write less than asked; a regular file's short write is retried for the rest.
    for (let at = 0; at < bytes.length; ) {
      const { bytesWritten } = await writeAsync(fd, bytes, at, bytes.length - at);
      if (bytesWritten === 0) throw Object.assign(new Error(`write of ${file} made no progress`), { code: 'EIO' });
      at += bytesWritten;
    }
    if (sync) await fsyncAsync(fd);
  } finally {
    await closeAsync(fd);
  }
}

/** fsync of a directory without blocking the thread (see AtomicWriteOptions.async). */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const fd = await openAsync(dir, 'r');
  try {
    await fsyncAsync(fd);
  } finally {
    await closeAsync(fd);
  }
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export interface AtomicWriteOptions {
  /**
   * Write and fsync the temp file through libuv's thread pool instead of blocking the thread: for a
   * caller on the main thread, whose event loop keeps feeding worker threads meanwhile. @default false
   */
  async?: boolean;
  /** fsync the temp file and the directory. Off only for the unlocked reproduction path. @default true */
  fsync?: boolean;
  /**
   * Leave the directory fsync to the caller (who must do it before reporting the write durable),
   * so it can happen after the lock is released. @default false
   */
  deferDirSync?: boolean;
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
    if (options.async) await writeTempAsync(temp, data, fsync);
    else writeTemp(temp, data, fsync);
    // Awaited only when a hook is asynchronous: a needless await would hold the lock across an event-loop turn.
    const before = options.beforeCommit?.();
    if (before) await before;
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
  const after = options.afterRename?.();
  if (after) await after;
  if (fsync && !options.deferDirSync) fsyncDir(dirname(file));
  return Buffer.byteLength(data);
}

/**
 * Creates `file` atomically and durably, never replacing an existing one
 * (link fails with EEXIST where rename would overwrite). Returns false when
 * the file already exists with exactly this content (a retried write), and
 * throws `onConflict()` when it exists with other content.
 */
export function createFileDurable(file: string, data: string, onConflict: () => Error): boolean {
  const temp = tempPathFor(file);
  try {
    writeTemp(temp, data);
    fs.linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (fs.readFileSync(file, 'utf8') !== data) throw onConflict();
    return false;
  } finally {
    fs.rmSync(temp, { force: true });
  }
  fsyncDir(dirname(file));
  return true;
}

/**
 * Removes temp files in `dir` older than `olderThanMs`: leftovers of writers
 * that crashed mid-write. A live writer's temp file lives for milliseconds.
 */
export function removeStaleTemps(dir: string, olderThanMs: number): number {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.startsWith('.') && n.endsWith(TEMP_SUFFIX));
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const file = join(dir, name);
    const mtime = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs;
    if (mtime !== undefined && Date.now() - mtime >= olderThanMs) {
      fs.rmSync(file, { force: true });
      removed++;
    }
  }
  return removed;
}

/**
 * Which version of a file is on disk: device, inode, size, modification and change times. A rename
 * over it (any tool's atomic write) changes the inode, a write in place changes the times; null when
 * there is no file.
 */
export function fileIdentity(file: string): string | null {
  const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  return st ? identityOf(st) : null;
}

function identityOf(st: fs.BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/**
 * Reads a file together with its identity (see fileIdentity), both from one open descriptor so that
 * they describe the same version; null when there is no file.
 */
export function readWithIdentity(file: string): { text: string; identity: string } | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const identity = identityOf(fs.fstatSync(fd, { bigint: true }));
    return { text: fs.readFileSync(fd, 'utf8'), identity };
  } finally {
    fs.closeSync(fd);
  }
}
