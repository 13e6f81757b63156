/**
 * The store: the one write path for playbooks, and the only module that
 * knows the on-disk layout. Coordinator, workers, audit and CLI call it and
 * never touch playbook files themselves.
 *
 *   <store>/domains/<domain>/playbook.json
 *   <store>/domains/<domain>/playbook.lock      (flocked by every write, as the reference tool does)
 *   <store>/domains/<domain>/episodes/<episode_id>.json
 *   <store>/domains/<domain>/metadata/stats.json
 *   <store>/runs/<run_id>.json
 */
import { constants, existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { access, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { assertWithinCap } from '../core/cap.js';
import { assertMergeable } from '../core/mergeable.js';
import { BadInputError, FencedWriteError, ForeignWriteError, LeaseLostError, LockCompromisedError, UnreadableFileError, UnsupportedPlatformError } from '../core/errors.js';
import { applyDeltas, combineDeltas, DEFAULT_CAP, emptyPlaybook, sameContent } from '../core/merge.js';
import { withFolded } from '../core/folded-batches.js';
import { episodeFileText, episodeTextOf } from '../core/episode.js';
import type { Deltas, EpisodeFile, EpisodeRecord, Playbook, RunManifest } from '../core/types.js';
import { parseManifest, parsePlaybook } from '../core/validate.js';
import { parsePythonJson, pythonConstantsIn, roundedIntegersIn } from '../core/python-json.js';
import { createFileDurable, fileIdentity, fsyncDir, fsyncDirAsync, readWithIdentity, removeStaleTemps, writeFileAtomic } from './durable.js';
import { createFilesDurable, createLinked } from './durable-batch.js';
import type { NewFileResult } from './durable-batch.js';
import { DEFAULT_LOCK_OPTIONS } from './lock-options.js';
import type { PendingBatch } from './pending.js';
import type { AuditInput } from '../core/audit.js';
import type { StoreBackend } from './backend.js';
import type { CapDecision } from '../core/cap.js';
import { fileForDirectoryError, recordCap, settleWriteCap } from './store-meta.js';
import type { SnapshotOptions } from './snapshot.js';
import type { Lease, LockOptions, LockTiming } from './lock.js';
import type { CommitFlock } from './flock.js';
import { platformGuarantee } from './platform.js';

/**
 * Points of a merge where crash tests and `chaos` aim kills and pauses: inside the critical section, and
 * after the holder released the lock but before its rename is durable (`released`), and with shared
 * commits (StoreOptions.shareCommits) also after the waiter's batch file is written (`batch-written`),
 * after the holder's fold is durable but before it removes the folded batch files (`folded`), and
 * before each look of a waiter at whether its batch is in (`before-check`).
 */
export type FaultPoint = 'locked' | 'temp-written' | 'renamed' | 'batch-written' | 'released' | 'folded' | 'before-check';

/** The fault points inside the lock's critical section; the others are before or after it. */
export const CRITICAL_SECTION_POINTS: readonly FaultPoint[] = ['locked', 'temp-written', 'renamed'];

export interface StoreOptions {
  /** Observations kept per playbook. @default 10 */
  cap: number;
  lock: LockOptions;
  /** A merge whose lease was lost is retried from a fresh read this many times. @default 5 */
  maxAttempts: number;
  /** Called at each fault point of a merge; tests and `chaos` use it to crash or pause a writer there. @default undefined */
  faults?: (point: FaultPoint) => void | Promise<void>;
  /**
   * fsync without blocking the thread (see AtomicWriteOptions.async): for the group committer on a
   * process's main thread, whose event loop must keep feeding the worker threads. @default false
   */
  asyncIo?: boolean;
  /**
   * Group commit across processes: a merge first writes its deltas as a pending batch file, then
   * queues; whoever holds the lock folds every pending batch into its one durable write, and a
   * waiter whose batch was folded meanwhile is done without taking the lock (src/store/pending.ts).
   * @default false
   */
  shareCommits?: boolean;
}

/**
 * The write path's modules (the lock, the reference tool's flock, shared batches), loaded on a
 * store's first write: a thread that only reads playbooks, as a batched run's episode threads do,
 * starts without them (proper-lockfile, the flock addon and their dependencies).
 */
type WriteModules = typeof import('./lock.js') & typeof import('./flock.js') & typeof import('./pending.js');
let writeModules: Promise<WriteModules> | undefined;
/** Set once loaded: the critical section (commit) uses it without an await. */
let loadedWriteModules: WriteModules | undefined;
const writePath = (): Promise<WriteModules> =>
  (writeModules ??= Promise.all([import('./lock.js'), import('./flock.js'), import('./pending.js')]).then(([lock, flock, pending]) => (loadedWriteModules = { ...lock, ...flock, ...pending })));

export const DEFAULT_STORE_OPTIONS: StoreOptions = { cap: DEFAULT_CAP, lock: DEFAULT_LOCK_OPTIONS, maxAttempts: 5 };

/** What a group committer's batch adds to a merge (Store.mergeBatch). */
export interface BatchHooks {
  /** Resolves once the batch's episode files are durable; the playbook is not renamed before. */
  filesDurable?: Promise<unknown>;
  /** Called once the lock is released, with only the rename's directory fsync left. */
  onReleased?: () => void;
}

export interface MergeResult {
  waitMs: number;
  holdMs: number;
  retries: number;
  /** False when the deltas were already in the playbook (a retried or duplicate merge). */
  changed: boolean;
  bytes: number;
  attempts: number;
  /** Writes the fence refused (or whose lease was lost) before this one landed. */
  refused: number;
  /** Writes refused because another tool rewrote the playbook without this project's lock (then retried). */
  foreignWrites: number;
  /** Stale locks this merge reclaimed, and how long it waited for them. */
  reclaimed: number;
  /** The playbook's generation after this merge. */
  generation: number;
  /** Shared commits: another process's write carried these deltas; this merge wrote nothing. */
  foldedByOther?: boolean;
}

/** A playbook's `generation`, wherever the key stands; 0 when it has none (another tool wrote it). */
function generationOf(playbook: Playbook): number {
  const g = playbook['generation'];
  return typeof g === 'number' && Number.isSafeInteger(g) && g >= 0 ? g : 0;
}

/** The generation of the file on disk now, by parsing it; 0 when missing, torn or without the key. */
function readGenerationOnDisk(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed !== null && typeof parsed === 'object' ? generationOf(parsed as Playbook) : 0;
  } catch {
    return 0;
  }
}

/** Writing a store where its guarantees cannot hold is refused with one line, never attempted. */
function assertPlatform(): void {
  const guarantee = platformGuarantee(process.platform);
  if (!guarantee.supported) throw new UnsupportedPlatformError(`ace-orch: ${guarantee.note}`);
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

function newResult(): MergeResult {
  return { waitMs: 0, holdMs: 0, retries: 0, changed: false, bytes: 0, attempts: 0, refused: 0, foreignWrites: 0, reclaimed: 0, generation: 0 };
}

function addTiming(result: MergeResult, timing: LockTiming): void {
  result.waitMs += timing.waitMs;
  result.holdMs += timing.holdMs;
  result.retries += timing.retries;
  if (timing.reclaimed) result.reclaimed++;
}

const conflictError = (file: string): BadInputError => new BadInputError(`${file} already exists with different content; refusing to overwrite it`, file);

/** The file backend of the store interface (src/store/backend.ts). */
export class Store implements StoreBackend {
  readonly kind = 'file' as const;
  readonly root: string;
  readonly options: StoreOptions;
  private readonly ready = new Set<string>();
  // Paths asked for once per episode and merge; path.join is not free at hundreds of episodes a second.
  private readonly dirs = new Map<string, string>();
  private readonly playbooks = new Map<string, string>();
  private readonly episodeDirs = new Map<string, string>();

  constructor(root: string, options: Partial<StoreOptions> = {}) {
    this.root = resolve(root);
    this.options = { ...DEFAULT_STORE_OPTIONS, ...options, lock: { ...DEFAULT_LOCK_OPTIONS, ...options.lock } };
  }

  get location(): string {
    return this.root;
  }

  async auditInput(options: SnapshotOptions = {}): Promise<AuditInput> {
    const { loadAuditInput } = await import('./snapshot.js');
    return loadAuditInput(this, options);
  }

  settleCap(requested: number | undefined): Promise<CapDecision> {
    return settleWriteCap(this, requested);
  }

  recordCap(cap: number): Promise<void> {
    return recordCap(this, cap);
  }

  /** Nothing is held between calls: every lock is released when its merge ends. */
  async close(): Promise<void> {}

  domainDir(domain: string): string {
    let dir = this.dirs.get(domain);
    if (dir === undefined) this.dirs.set(domain, (dir = join(this.root, 'domains', domain)));
    return dir;
  }
  playbookPath(domain: string): string {
    let file = this.playbooks.get(domain);
    if (file === undefined) this.playbooks.set(domain, (file = join(this.domainDir(domain), 'playbook.json')));
    return file;
  }
  episodesDir(domain: string): string {
    let dir = this.episodeDirs.get(domain);
    if (dir === undefined) this.episodeDirs.set(domain, (dir = join(this.domainDir(domain), 'episodes')));
    return dir;
  }
  episodePath(domain: string, episodeId: string): string {
    return join(this.episodesDir(domain), `${episodeId}.json`);
  }
  statsPath(domain: string): string {
    return join(this.domainDir(domain), 'metadata', 'stats.json');
  }
  /** The reference tool's lock file, which every write of the domain also flocks. */
  referenceLockPath(domain: string): string {
    return join(this.domainDir(domain), 'playbook.lock');
  }
  runsDir(): string {
    return join(this.root, 'runs');
  }
  manifestPath(runId: string): string {
    return join(this.runsDir(), `${runId}.json`);
  }

  /** Creates the store's directories and checks it can be written, naming the directory if not. */
  async init(domains: readonly string[] = []): Promise<void> {
    assertPlatform();
    // A writer loads its write path now, so that a broken install (the flock addon) stops a run before
    // it plays anything, not at its first merge.
    await writePath();
    try {
      await mkdir(this.runsDir(), { recursive: true });
      await access(this.root, constants.W_OK);
      for (const d of domains) await this.ensureDomain(d);
    } catch (err) {
      if (err instanceof BadInputError || err instanceof UnsupportedPlatformError) throw err;
      throw new BadInputError(`store ${this.root} cannot be written: ${(err as Error).message}`, this.root);
    }
  }

  private async ensureDomain(domain: string): Promise<void> {
    if (this.ready.has(domain)) return;
    assertPlatform();
    await mkdir(this.episodesDir(domain), { recursive: true });
    await mkdir(join(this.domainDir(domain), 'metadata'), { recursive: true });
    this.ready.add(domain);
  }

  /** Lock-free read: the rename in every write means readers see whole files. */
  async readPlaybook(domain: string): Promise<Playbook> {
    return this.readPlaybookFile(domain).playbook;
  }

  /**
   * The playbook and whether the file exists at all (an empty playbook and none differ for the
   * audit and for skipping a no-op write), with the identity of the version read (see
   * fileIdentity; null when there is none). Synchronous: the lock holder calls it in its critical section.
   */
  readPlaybookFile(domain: string): { playbook: Playbook; exists: boolean; identity: string | null } {
    const file = this.playbookPath(domain);
    let read: ReturnType<typeof readWithIdentity>;
    try {
      read = readWithIdentity(file);
    } catch (err) {
      throw new UnreadableFileError(`${file} cannot be read (${(err as Error).message})`, file);
    }
    if (!read) {
      // A link to nothing is no missing playbook: a write would replace the link the user made.
      const link = lstatSync(file, { throwIfNoEntry: false });
      if (link?.isSymbolicLink()) throw new UnreadableFileError(`${file} is a symbolic link to ${readlinkSync(file)}, which does not exist`, file);
      return { playbook: emptyPlaybook(), exists: false, identity: null };
    }
    return { playbook: parsePlaybook(read.text, file), exists: true, identity: read.identity };
  }

  /**
   * Writes the episode's durable record. Never overwrites: an identical retry
   * is a no-op, a different file under the same id is an error.
   */
  async writeEpisode(domain: string, record: EpisodeRecord): Promise<void> {
    await this.ensureDomain(domain);
    const file = this.episodePath(domain, record.episode_id);
    createFileDurable(file, episodeFileText(record), () => conflictError(file));
  }

  /**
   * Writes many episodes' durable records together (parallel fsyncs, one directory fsync), each
   * with writeEpisode's contract; resolves, per record, with true, false (identical retry) or the
   * error that refused it, once every created file is durable.
   */
  async writeEpisodes(domain: string, records: readonly EpisodeRecord[]): Promise<NewFileResult[]> {
    await this.ensureDomain(domain);
    return createFilesDurable(
      records.map((record) => {
        const file = this.episodePath(domain, record.episode_id);
        return { file, data: episodeFileText(record), onConflict: () => conflictError(file) };
      }),
    );
  }

  /**
   * One episode's record written, fsynced and linked, all but the directory fsync, with
   * writeEpisodes' contract for that file: a group committer starts each file as its episode
   * arrives, then makes the batch's links durable with one syncEpisodes before it merges.
   */
  async linkEpisode(domain: string, record: EpisodeRecord | EpisodeFile): Promise<NewFileResult> {
    await this.ensureDomain(domain);
    const file = this.episodePath(domain, record.episode_id);
    return createLinked({ file, data: episodeTextOf(record), onConflict: () => conflictError(file) });
  }

  /** Makes durable every link linkEpisode made in the domain's episodes directory so far. */
  syncEpisodes(domain: string): Promise<void> {
    return fsyncDirAsync(this.episodesDir(domain));
  }

  /**
   * The one write path to a playbook: lock, read the current state, apply only
   * these deltas, write a temp file, check the fence, rename, release.
   *
   * The fence: right before the rename the writer checks that the file on disk
   * is still the version it read under the lock (same inode, size and times).
   * If not, and its `generation` (which every write here bumps) moved on,
   * another writer took over a lock this one lost (it was paused past the
   * stale time); otherwise a tool that does not take this lock wrote it (a
   * foreign write, which may also have dropped the `generation` key). Either
   * way the write is refused and retried from a fresh read, so nothing either
   * wrote is lost. A lease proper-lockfile reports compromised is refused the same way.
   *
   * The fence check and the rename happen under an exclusive flock on
   * `playbook.lock`, the reference tool's lock, which it holds from its read to
   * its rename: so it never reads between them, and whatever it wrote before is
   * seen by the check. The flock is not held across the whole section, so a
   * writer paused before committing blocks no one past the stale time.
   */
  async merge(domain: string, deltas: Deltas): Promise<MergeResult> {
    return this.mergeBatch(domain, deltas);
  }

  /**
   * merge() for a group committer's batch, whose episode files may still be on their way to disk:
   * the merge takes the lock, reads, applies and makes its temp file durable meanwhile, and renames
   * only once `filesDurable` resolves (a rejection aborts it and leaves the playbook as it was), so
   * the episodes directory's fsync and the playbook's temp-file fsync overlap and the files are still
   * durable before any merge that counts on them. `onReleased` is called once the lock is released and
   * only the directory fsync that makes the rename durable is left: the committer starts its next
   * batch then.
   */
  async mergeBatch(domain: string, deltas: Deltas, batch: BatchHooks = {}): Promise<MergeResult> {
    await this.ensureDomain(domain);
    if (this.options.shareCommits) {
      // Another process's holder may fold a pending batch file as soon as it exists: files first.
      await batch.filesDurable;
      return this.mergeShared(domain, deltas, batch.onReleased);
    }
    const { CommitFlock, withLock } = await writePath();
    const file = this.playbookPath(domain);
    const faults = this.options.faults;
    const result = newResult();
    for (;;) {
      result.attempts++;
      try {
        const flock = new CommitFlock(this.referenceLockPath(domain), this.options.lock);
        const { value, timing } = await withLock(file, this.options.lock, async (lease) => {
          try {
            if (faults) await faults('locked');
            // After a foreign write, hold the reference tool's flock from the read on, so that it cannot slip in again.
            if (result.foreignWrites > 0) await flock.take();
            return await this.commit(domain, deltas, lease, flock, undefined, batch.filesDurable);
          } finally {
            flock.drop();
          }
        });
        batch.onReleased?.();
        if (faults) await faults('released');
        // The rename becomes durable here, outside the lock: the next writer may already build on the
        // renamed file, but its content includes ours, and nothing is acknowledged before this fsync.
        // Also when this merge changed nothing: the version it read, which already held these deltas, may be
        // another writer's rename (or this committer's previous batch's) whose fsync has not finished yet.
        if (this.options.asyncIo) await fsyncDirAsync(this.domainDir(domain));
        else fsyncDir(this.domainDir(domain));
        addTiming(result, timing);
        return { ...result, ...value };
      } catch (err) {
        this.countRefusal(result, err);
      }
    }
  }

  /** A lost lease or foreign write is counted and retried from a fresh read, up to maxAttempts; anything else is thrown. */
  private countRefusal(result: MergeResult, err: unknown): void {
    if (!(err instanceof LeaseLostError) || result.attempts >= this.options.maxAttempts) throw err;
    if (err instanceof ForeignWriteError) result.foreignWrites++;
    else result.refused++;
  }

  /**
   * merge() with shared commits: the deltas become a pending batch file before the lock is asked for
   * (src/store/pending.ts); then either another holder folds the batch (this merge sees it and is
   * done) or this one gets the lock and folds every pending batch, its own among them, in one durable
   * write. As merge() does, the holder makes its rename durable after releasing the lock (one fsync
   * fewer in every hand-off), and only then removes the folded batch files and is acknowledged. Meanwhile
   * the next holder may fold those batches again, which changes nothing (see src/core/merge.ts), and a
   * waiter woken by the release that still finds its file sees its id in the playbook and makes the rename
   * durable itself (FoldWatch). A crash anywhere leaves the batch file (which the next holder or `repair`
   * folds) or a playbook that holds it. The fence is the one of commit().
   */
  private async mergeShared(domain: string, deltas: Deltas, onReleased?: () => void): Promise<MergeResult> {
    const file = this.playbookPath(domain);
    const faults = this.options.faults;
    const asyncIo = this.options.asyncIo ?? false;
    const { CommitFlock, FoldWatch, pendingDirOf, withLockUnless, writePending } = await writePath();
    const before = fileIdentity(file);
    const own = await writePending(pendingDirOf(file), deltas);
    if (faults) await faults('batch-written');
    const watch = new FoldWatch(own, file, asyncIo, before);
    const folded = async (): Promise<boolean> => {
      if (faults) await faults('before-check');
      return watch.folded();
    };
    const result = newResult();
    for (;;) {
      result.attempts++;
      try {
        const flock = new CommitFlock(this.referenceLockPath(domain), this.options.lock);
        const { value, settled, timing } = await withLockUnless(file, this.options.lock, { settled: folded, watch: own.file }, async (lease) => {
          try {
            if (faults) await faults('locked');
            if (result.foreignWrites > 0) await flock.take();
            // Folded by the holder before us, after our last look: its file went after its durable write, or
            // (a holder that failed before removing the files) the playbook records the batch.
            if (await watch.folded()) return null;
            return await this.commit(domain, deltas, lease, flock, own);
          } finally {
            flock.drop();
          }
        });
        onReleased?.();
        addTiming(result, timing);
        if (settled || !value) return { ...result, foldedByOther: true };
        const { settle, ...written } = value;
        await settle?.();
        return { ...result, ...written };
      } catch (err) {
        this.countRefusal(result, err);
      }
    }
  }

  /**
   * The critical section of a merge: read, apply, write the temp file, fence, rename. With `own` (a
   * shared commit), also fold every pending batch and record their ids; the caller then calls `settle`,
   * outside the lock, to make the write durable and remove the folded batch files. With
   * `filesDurable`, the rename waits for it (see mergeBatch).
   */
  private async commit(
    domain: string,
    deltas: Deltas,
    lease: Lease,
    flock: CommitFlock,
    own?: PendingBatch,
    filesDurable?: Promise<unknown>,
  ): Promise<{ changed: boolean; bytes: number; generation: number; settle?: () => Promise<void> }> {
    const file = this.playbookPath(domain);
    const faults = this.options.faults;
    // merge() and mergeShared() loaded the write path before taking the lock.
    const { pendingDirOf, readPending, removePending } = loadedWriteModules!;
    // Holding the lock, every playbook temp file here is a dead or deposed writer's: remove it.
    removeStaleTemps(this.domainDir(domain), 0);
    const { playbook: current, exists, identity } = this.readPlaybookFile(domain);
    assertWithinCap(current.observations, this.options.cap, file);
    assertMergeable(current, file);
    const generation = generationOf(current);
    const batches = own ? readPending(pendingDirOf(file)) : [];
    const others = batches.filter((b) => b.id !== own?.id);
    const merged = withFolded(
      applyDeltas(current, others.length ? combineDeltas([deltas, ...others.map((b) => b.deltas)]) : deltas, this.options.cap),
      batches.map((b) => b.id),
    );
    const settle = async (): Promise<void> => {
      if (faults) await faults('released');
      // The folded batch files go only once the playbook holding them is durable.
      if (this.options.asyncIo) await fsyncDirAsync(this.domainDir(domain));
      else fsyncDir(this.domainDir(domain));
      if (faults) await faults('folded');
      removePending(batches);
    };
    const settling = own ? { settle } : {};
    if (exists && sameContent(current, merged)) return { changed: false, bytes: 0, generation, ...settling };
    // `generation` first, so a person reading the file sees it at once.
    const { generation: _old, ...rest } = merged;
    const next = { generation: generation + 1, ...rest };
    const check = (): void => {
      lease.assertHeld();
      if (fileIdentity(file) === identity) return;
      const onDisk = readGenerationOnDisk(file);
      if (onDisk > generation) throw new FencedWriteError(file, generation, onDisk);
      throw new ForeignWriteError(file);
    };
    // Under the reference tool's flock, which it holds from its read to its rename: it cannot read between this check and the rename.
    const fence = (): void | Promise<void> => {
      const taking = flock.take();
      return taking ? taking.then(check) : check();
    };
    const bytes = await writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`, {
      deferDirSync: true,
      async: this.options.asyncIo ?? false,
      beforeCommit:
        faults || filesDurable
          ? async () => {
              await filesDurable;
              if (faults) await faults('temp-written');
              await fence();
            }
          : fence,
      afterRename: () => {
        flock.drop();
        return faults?.('renamed');
      },
    }).catch((err: NodeJS.ErrnoException) => {
      // Our temp file was removed as stale while we were paused: the same lost lease.
      if (err.code === 'ENOENT' && err.syscall === 'rename') throw new LockCompromisedError(file, 'temp file removed while paused');
      throw err;
    });
    return { changed: true, bytes, generation: generation + 1, ...settling };
  }

  async writeManifest(manifest: RunManifest): Promise<void> {
    await mkdir(this.runsDir(), { recursive: true });
    await writeFileAtomic(this.manifestPath(manifest.run_id), `${JSON.stringify(manifest, null, 2)}\n`);
  }

  async readManifests(): Promise<RunManifest[]> {
    const names = await readdir(this.runsDir()).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOTDIR' && existsSync(this.runsDir())) throw fileForDirectoryError(this.runsDir());
      if (isMissing(err)) return [];
      throw new UnreadableFileError(`store ${this.root}: ${this.runsDir()} cannot be listed (${err.message})`, this.runsDir());
    });
    const manifests: RunManifest[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const file = join(this.runsDir(), name);
      // A manifest that cannot be read (a directory of that name, no permission, a dangling link) is named, as a torn one is.
      const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new UnreadableFileError(`${file}: run manifest cannot be read (${err.code ?? err.message})`, file);
      });
      manifests.push(parseManifest(text, file));
    }
    return manifests;
  }

  /** Domains with a directory in the store: a symbolic link to a directory counts, as every write through it lands there. */
  async listDomains(): Promise<string[]> {
    const entries = await readdir(join(this.root, 'domains'), { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (isMissing(err)) return [];
      throw new UnreadableFileError(`store ${this.root}: ${join(this.root, 'domains')} cannot be listed (${err.message})`, this.root);
    });
    const linkedDir = (name: string): Promise<boolean> => stat(join(this.root, 'domains', name)).then((s) => s.isDirectory(), () => false);
    const dirs = await Promise.all(entries.map(async (e) => e.isDirectory() || (e.isSymbolicLink() && (await linkedDir(e.name)))));
    return entries
      .filter((_, i) => dirs[i])
      .map((e) => e.name)
      .sort();
  }

  /** Episode files of a domain (temp files and other leftovers are not `*.json` and are skipped). */
  async listEpisodeFiles(domain: string): Promise<string[]> {
    const names = await readdir(this.episodesDir(domain)).catch((err) => (isMissing(err) ? [] : Promise.reject(err)));
    return names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => join(this.episodesDir(domain), n));
  }

  /**
   * Replaces a domain's stats.json under the domain's lock, so concurrent runs don't clobber each other.
   * A stats.json that is not a JSON object (another tool's, in its own format) is left as it was: a BadInputError.
   */
  async updateStats(domain: string, update: (previous: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
    await this.ensureDomain(domain);
    const file = this.statsPath(domain);
    const { withLock } = await writePath();
    await withLock(this.playbookPath(domain), this.options.lock, async () => {
      const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw new BadInputError(`${file} cannot be read (${err.message}); left as it was`, file);
      });
      let previous: unknown = {};
      try {
        if (text !== null) previous = parsePythonJson(text);
      } catch {
        previous = null;
      }
      if (typeof previous !== 'object' || previous === null || Array.isArray(previous)) throw new BadInputError(`${file} is not a JSON object ace-orch can add its stats to; left as it was`, file);
      // Another tool's keys are written back as read: not when that would turn NaN into null or round an integer.
      if (pythonConstantsIn(previous) || roundedIntegersIn(previous)) throw new BadInputError(`${file} holds NaN, Infinity or an integer beyond 2^53, which a write would change; left as it was`, file);
      await writeFileAtomic(file, `${JSON.stringify(update(previous as Record<string, unknown>), null, 2)}\n`);
    });
  }
}
