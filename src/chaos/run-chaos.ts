/**
 * `chaos`: writer processes against one store while this orchestrator kills
 * them with SIGKILL (some aimed inside the critical section through fault
 * points, some at random moments), pauses others with SIGSTOP for longer than
 * the stale time, restarts the killed ones, then checks every playbook,
 * repairs, and audits. The Jepsen discipline: count what was acknowledged,
 * what survived, what was lost, what appeared unexpectedly. The store is a
 * directory or a PostgreSQL schema; the fault points are the same three
 * moments of each backend's merge (row locked, row updated, committed).
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { audit } from '../core/audit.js';
import { siblingModule } from '../run/module-file.js';
import { BUILTIN_DOMAINS } from '../domains/index.js';
import { BadInputError } from '../core/errors.js';
import { repairStore } from '../store/repair.js';
import type { RepairReport } from '../store/repair.js';
import { createRng } from '../core/rng.js';
import type { Rng } from '../core/rng.js';
import { DEFAULT_LOCK_OPTIONS } from '../store/lock-options.js';
import type { LockOptions } from '../store/lock.js';
import type { StoreBackend } from '../store/backend.js';
import { openStore } from '../store/open.js';
import type { PgStore } from '../store/pg/pg-store.js';
import type { FaultPoint } from '../store/store.js';
import { CRITICAL_SECTION_POINTS, Store } from '../store/store.js';
import { emptyPlaybook } from '../core/merge.js';
import type { CommitMode, Playbook } from '../core/types.js';
import { parsePlaybook } from '../core/validate.js';
import { CHAOS_JOB_ENV } from './messages.js';
import type { Ack, FromWriter, ToWriter, WriterJob } from './messages.js';
import { chaosOk, judge } from './verdict.js';
import type { ChaosReport, DomainEvidence } from './verdict.js';

export interface ChaosOptions {
  /** A fresh store directory, or a `postgres://` URL naming a fresh schema. */
  store: string;
  /** Writer processes alive at any time. @default 3 */
  processes: number;
  /** Writer threads per process. @default 2 */
  threads: number;
  /** Stop after this many kills... @default 20 */
  kills?: number;
  /** ...or after this many seconds. */
  durationS?: number;
  seed: number;
  /** @default 'each' */
  commit?: CommitMode;
  /** proper-lockfile's minimum; pauses last longer than this. @default 2000 */
  staleMs?: number;
  onProgress?: (line: string) => void;
}

/** Every observation is kept, so an acknowledged one can never be legitimately ranked out. */
const KEEP_ALL = 1_000_000;
/** A file store's kills aim inside the critical section and right after it, between the lock's release and the rename's fsync (a PostgreSQL store has no such moment); shared commits add their own points. */
const POINTS: readonly FaultPoint[] = [...CRITICAL_SECTION_POINTS, 'released'];
const SHARED_POINTS: readonly FaultPoint[] = [...POINTS, 'batch-written', 'folded', 'before-check'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Writer {
  child: ChildProcess;
  /** Resolves when every thread of the writer has started an episode (or the writer exited). */
  ready: Promise<void>;
  exited: Promise<void>;
  alive: boolean;
  /** Resolves with the fault point when the armed thread reaches it. */
  atPoint: ((point: FaultPoint) => void) | null;
}

function writerFile(): string {
  return fileURLToPath(siblingModule(import.meta.url, './writer-process'));
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const rng: Rng = createRng(`chaos:${options.seed}`);
  const lock: LockOptions = { ...DEFAULT_LOCK_OPTIONS, staleMs: options.staleMs ?? 2_000 };
  const pauseMs = lock.staleMs + 1_500;
  const store = await openStore(options.store, { cap: KEEP_ALL, lock });
  try {
    return await chaosOn(store, options, rng, lock, pauseMs);
  } finally {
    await store.close();
  }
}

async function chaosOn(store: StoreBackend, options: ChaosOptions, rng: Rng, lock: LockOptions, pauseMs: number): Promise<ChaosReport> {
  const domains = [...BUILTIN_DOMAINS];
  await store.init(domains);
  const progress = options.onProgress ?? (() => {});

  const acks: Ack[] = [];
  let started = 0;
  let incarnation = 0;
  const errors: string[] = [];

  const spawn = (): Writer => {
    const tag = `s${options.seed}-w${++incarnation}`;
    const job: WriterJob = { store: store.root, domains, cap: KEEP_ALL, seed: options.seed, lock, tag, commit: options.commit ?? 'each' };
    // The job goes in the environment, which only this user can read: a store URL may hold a password, and arguments are public.
    const child = fork(writerFile(), [String(options.threads)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, [CHAOS_JOB_ENV]: JSON.stringify(job) } });
    let onReady!: () => void;
    const w: Writer = { child, ready: new Promise((r) => (onReady = r)), exited: new Promise((r) => child.once('exit', () => r())), alive: true, atPoint: null };
    child.once('exit', () => {
      w.alive = false;
      // A writer that dies before it is ready is replaced at its next event.
      onReady();
    });
    child.on('message', (msg: FromWriter) => {
      if (msg.type === 'ready') onReady();
      else if (msg.type === 'started') started++;
      else if (msg.type === 'ack') acks.push(msg.ack); else if (msg.type === 'at-point') w.atPoint?.(msg.point);
      else if (msg.type === 'error') errors.push(msg.message);
    });
    return w;
  };
  const send = (w: Writer, msg: ToWriter): void => {
    if (w.alive && w.child.connected) w.child.send(msg);
  };

  const writers: Writer[] = Array.from({ length: options.processes }, spawn);
  await Promise.all(writers.map((w) => w.ready));

  const counts = { kills: 0, inCs: 0, otherPoints: 0, random: 0, pauses: 0, aimsMissed: 0 };
  const deadline = options.durationS ? Date.now() + options.durationS * 1000 : Infinity;
  const killTarget = options.durationS ? Infinity : (options.kills ?? 20);
  /** A writer gets this long to reach an aimed point (it may be stuck behind a dead lock). */
  const aimMs = lock.staleMs * 3;
  /** Aims missed in a row before the run gives up: only a writer that can never reach a point gets here. */
  const maxMissesInARow = 10 * writers.length;

  /** Arms a writer and waits for one of its threads to reach the point. */
  const reachPoint = async (w: Writer, action: 'kill' | 'pause', point: FaultPoint): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const reached = new Promise<boolean>((r) => {
      w.atPoint = () => r(true);
      timer = setTimeout(() => r(false), aimMs);
    });
    send(w, { type: 'arm', action, point });
    const ok = await reached;
    clearTimeout(timer);
    w.atPoint = null;
    if (!ok) {
      // Never leave a thread armed or parked at a point: it would hold its lock forever.
      send(w, { type: 'disarm' });
      send(w, { type: 'continue' });
    }
    return ok;
  };

  // Pauses come due at every tenth event (from the third); an aim that misses is retried at the next
  // event on another writer, so a due pause and an aimed kill are delivered, never dropped.
  let pausesDue = 0;
  let missedSlot = -1;
  let missesInARow = 0;
  for (let event = 0; (counts.kills < killTarget || pausesDue > 0) && Date.now() < deadline; event++) {
    await sleep(rng.int(30, 200));
    if (event % 10 === 2) pausesDue++;
    const others = writers.length - 1;
    const slot = missedSlot >= 0 && others > 0 ? (missedSlot + 1 + rng.int(0, others - 1)) % writers.length : rng.int(0, others);
    missedSlot = -1;
    let w = writers[slot]!;
    if (!w.alive) w = writers[slot] = spawn();
    await w.ready;
    const aimed = pausesDue > 0 || counts.kills % 2 === 0;
    const action = pausesDue > 0 ? 'pause' : 'kill';
    // Pauses are aimed inside the critical section so the lock goes stale under a live holder.
    const point = action === 'pause' ? rng.pick(['locked', 'temp-written'] as const) : rng.pick(options.commit === 'shared' ? SHARED_POINTS : store instanceof Store ? POINTS : CRITICAL_SECTION_POINTS);
    if (aimed && !(await reachPoint(w, action, point))) {
      counts.aimsMissed++;
      progress(`chaos: a writer did not reach ${point} within ${aimMs} ms; aiming again at another (${counts.aimsMissed} missed)`);
      if (++missesInARow >= maxMissesInARow) {
        errors.push(`chaos: ${counts.aimsMissed} aims at fault points missed; no writer reaches the critical section`);
        break;
      }
      missedSlot = slot;
      continue;
    }
    missesInARow = 0;
    if (action === 'pause') {
      w.child.kill('SIGSTOP');
      counts.pauses++;
      pausesDue--;
      progress(`chaos: paused a writer at ${point} for ${pauseMs} ms`);
      await sleep(pauseMs);
      w.child.kill('SIGCONT');
      send(w, { type: 'continue' });
      continue;
    }
    // Kills alternate: aimed at a fault point (inside the critical section, or with shared commits also one
    // before or after it), then at a random moment.
    if (!aimed) counts.random++;
    else if (CRITICAL_SECTION_POINTS.includes(point)) counts.inCs++;
    else counts.otherPoints++;
    w.child.kill('SIGKILL');
    counts.kills++;
    await w.exited;
    writers[slot] = spawn();
    progress(`chaos: ${counts.kills} kills (${counts.inCs} inside the critical section, ${counts.otherPoints} at other fault points), ${counts.pauses} pauses, ${acks.length} acknowledged`);
  }

  // Let the writers finish their current episode, then stop.
  for (const w of writers) send(w, { type: 'stop' });
  // The deadline is cleared once they are gone: a pending timer would keep the process alive for its full length.
  let deadlineTimer: NodeJS.Timeout | undefined;
  const stopDeadline = new Promise<void>((r) => (deadlineTimer = setTimeout(r, lock.staleMs * 10)));
  await Promise.race([Promise.all(writers.map((w) => w.exited)), stopDeadline]);
  clearTimeout(deadlineTimer);
  for (const w of writers) if (w.alive) w.child.kill('SIGKILL');

  // Check every playbook as it was left, before repair touches anything.
  const evidence = store instanceof Store ? await fileEvidence(store, domains) : await pgEvidence(store as PgStore, domains);
  const verdict = judge(acks, evidence);
  const repair = verdict.tornFiles.length ? null : await repairChaosStore(store);
  const after = verdict.tornFiles.length ? null : audit(await store.auditInput({ cap: KEEP_ALL }));
  const reclaims = acks.filter((a) => a.reclaimed > 0);
  const report: ChaosReport = {
    episodesStarted: started,
    acknowledged: acks.length,
    kills: counts.kills,
    killsInCriticalSection: counts.inCs,
    killsAtOtherPoints: counts.otherPoints,
    killsAtRandomMoments: counts.random,
    pauses: counts.pauses,
    aimsMissed: counts.aimsMissed,
    pauseMs,
    // A group commit reports its refusals and reclaims spread over the episodes it carried.
    fenceRefusals: Math.round(acks.reduce((n, a) => n + a.refused, 0)),
    staleLocksReclaimed: Math.round(acks.reduce((n, a) => n + a.reclaimed, 0)),
    commit: options.commit ?? 'each',
    longestReclaimWaitMs: Math.round(Math.max(0, ...reclaims.map((a) => a.waitMs))),
    tornPlaybooks: verdict.tornFiles.length,
    acknowledgedLost: verdict.acknowledgedLostIds.length,
    unexpected: verdict.unexpectedIds.length,
    recoveredByRepair: repair ? repair.domains.reduce((n, d) => n + d.recovered.length, 0) : 0,
    lostAfterRepair: after ? after.domains.reduce((n, d) => n + d.lost, 0) : 0,
    ok: false,
    writerErrors: [],
    ...verdict,
  };
  report.writerErrors = errors;
  report.ok = chaosOk(report) && errors.length === 0;
  return report;
}

/** Each playbook file as the writers left it, and the episode files. */
async function fileEvidence(store: Store, domains: readonly string[]): Promise<DomainEvidence[]> {
  const evidence: DomainEvidence[] = [];
  for (const domain of domains) {
    const file = store.playbookPath(domain);
    let playbook: Playbook | null = null;
    try {
      playbook = parsePlaybook(await readFile(file, 'utf8'), file);
    } catch (err) {
      // A domain no writer reached has no playbook yet; anything unreadable is torn.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') playbook = emptyPlaybook();
    }
    const episodeIds = new Set((await store.listEpisodeFiles(domain)).map((f) => f.slice(f.lastIndexOf('/') + 1, -'.json'.length)));
    evidence.push({ domain, playbook, file, episodeIds });
  }
  return evidence;
}

/** Each playbook row as the writers left it (a body that does not validate counts as torn), and the episode records. */
async function pgEvidence(store: PgStore, domains: readonly string[]): Promise<DomainEvidence[]> {
  const evidence: DomainEvidence[] = [];
  for (const domain of domains) {
    const file = `${store.location} playbook ${domain}`;
    const playbook = await store.readPlaybookRow(domain).then(
      (row) => row.playbook,
      (err: unknown) => (err instanceof BadInputError ? null : Promise.reject(err)),
    );
    const episodeIds = new Set((await store.listEpisodes(domain)).map((e) => e.record.episode_id));
    evidence.push({ domain, playbook, file, episodeIds });
  }
  return evidence;
}

async function repairChaosStore(store: StoreBackend): Promise<RepairReport> {
  if (store instanceof Store) return repairStore(store, { cap: KEEP_ALL });
  const { repairPgStore } = await import('../store/pg/repair.js');
  return repairPgStore(store as PgStore, { cap: KEEP_ALL });
}
