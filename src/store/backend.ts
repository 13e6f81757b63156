/**
 * The store interface: the operations every backend offers (write an episode
 * record once, merge deltas under mutual exclusion, read a playbook, list
 * domains and manifests, audit input). Coordinator, workers, committer and
 * commands take a `StoreBackend`; lock files, temp files and fsync stay in
 * the file backend, transactions and row locks in the PostgreSQL one.
 * `openStore` picks the backend from the `--store` value's scheme.
 */
import type { AuditInput } from '../core/audit.js';
import type { CapDecision } from '../core/cap.js';
import type { Deltas, EpisodeRecord, Playbook, RunManifest } from '../core/types.js';
import type { SnapshotOptions } from './snapshot.js';
import type { MergeResult, StoreOptions } from './store.js';

/** Which backend a store value names. */
export type BackendKind = 'file' | 'postgres';

export interface StoreBackend {
  readonly kind: BackendKind;
  /** What workers are given to open the same store: a directory, or the full URL. */
  readonly root: string;
  /** How messages name the store: the directory, or the URL with its password masked. */
  readonly location: string;
  readonly options: StoreOptions;
  /** Creates what the store needs (directories, or the schema); names the store and exits 2 when it cannot. */
  init(domains?: readonly string[]): Promise<void>;
  readPlaybook(domain: string): Promise<Playbook>;
  /** The durable episode record, written once: an identical retry is a no-op, a different record under the same id an error. */
  writeEpisode(domain: string, record: EpisodeRecord): Promise<void>;
  /** Applies deltas with the pure merge rules under mutual exclusion; resolves only once the result is durable. */
  merge(domain: string, deltas: Deltas): Promise<MergeResult>;
  writeManifest(manifest: RunManifest): Promise<void>;
  readManifests(): Promise<RunManifest[]>;
  listDomains(): Promise<string[]>;
  updateStats(domain: string, update: (previous: Record<string, unknown>) => Record<string, unknown>): Promise<void>;
  /** The cap a writing command uses (src/core/cap.ts); exit 2 before anything is written when `requested` would drop observations. */
  settleCap(requested: number | undefined): Promise<CapDecision>;
  /** Records the store's cap, keeping earlier ones. */
  recordCap(cap: number): Promise<void>;
  /** What the pure audit needs: playbooks, episode facts and manifests. */
  auditInput(options?: SnapshotOptions): Promise<AuditInput>;
  /** Releases connections; the file backend holds none. */
  close(): Promise<void>;
}

/** `postgres://` or `postgresql://`: the PostgreSQL backend; anything else is a directory. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}
