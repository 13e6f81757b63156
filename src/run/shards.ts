/**
 * The coordinator's side of a multi-process run: forks one shard process per
 * share of the episodes, relays their starts and outcomes, forwards stops,
 * and reports episodes whose process died before reporting as unknown.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Assignment, EpisodeOutcome, FromShard, ShardJob, ToShard } from './messages.js';
import { siblingModule } from './module-file.js';

export interface ShardRunOptions {
  job: Omit<ShardJob, 'assignments'>;
  assignments: readonly Assignment[];
  processes: number;
  signal?: AbortSignal;
  /** Also fire the in-flight episodes' ctx.signal (an interruption, not just a stop). */
  cancel?: AbortSignal;
  onOutcome: (outcome: EpisodeOutcome) => void;
  /** A shard started an episode (its first attempt). */
  onStart?: (assignment: Assignment) => void;
  /** A shard's episode finished playing (its slot is free; its commit may be pending). */
  onPlayed?: (assignment: Assignment) => void;
  onRetry?: (assignment: Assignment, error: string) => void;
  /** The run's rate limit, shared by every shard. */
  gate?: () => Promise<number>;
  /** A shard process died or failed; its started-but-unreported episodes come back as `unknown`. */
  onShardError: (message: string, unknown: Assignment[]) => void;
}

function shardFile(): string {
  return fileURLToPath(siblingModule(import.meta.url, './shard-process'));
}

/** Deals items out like cards: hand i gets items i, i + hands, ... */
export function deal<T>(items: readonly T[], hands: number): T[][] {
  const out = Array.from({ length: hands }, () => [] as T[]);
  items.forEach((item, i) => out[i % hands]!.push(item));
  return out;
}

/**
 * Deals each domain's episodes out like cards, each domain starting one hand further on, so that every
 * shard gets every domain (with as many episodes as processes) and every playbook has writers in several
 * processes: dealing the round-robin list itself gave each domain to one shard whenever the number of
 * domains was a multiple of the number of processes. A shard keeps the order it was given.
 */
export function dealByDomain(assignments: readonly Assignment[], hands: number): Assignment[][] {
  const out = Array.from({ length: hands }, () => [] as Assignment[]);
  const domainAt = new Map<string, number>();
  const dealt = new Map<string, number>();
  for (const a of assignments) {
    if (!domainAt.has(a.domain)) domainAt.set(a.domain, domainAt.size);
    const n = dealt.get(a.domain) ?? 0;
    dealt.set(a.domain, n + 1);
    out[(n + domainAt.get(a.domain)!) % hands]!.push(a);
  }
  return out;
}

export async function runShards(options: ShardRunOptions): Promise<void> {
  const shares = dealByDomain(options.assignments, options.processes).filter((s) => s.length > 0);
  await Promise.all(
    shares.map(
      (assignments, shard) =>
        new Promise<void>((resolve) => {
          // The shard inherits our execArgv, so it runs TypeScript under tsx exactly when we do.
          const child = fork(shardFile(), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          const inFlight = new Map<string, Assignment>();
          const key = (a: Assignment): string => `${a.domain}\0${a.index}`;
          let failure: string | undefined;
          const stop = (): void => {
            if (child.connected) child.send({ type: 'stop', reason: String(options.signal?.reason ?? 'stopped'), cancel: options.cancel?.aborted ?? false } satisfies ToShard);
          };
          const cancel = (): void => {
            if (child.connected) child.send({ type: 'stop', reason: String(options.cancel?.reason ?? 'interrupted'), cancel: true } satisfies ToShard);
          };
          options.signal?.addEventListener('abort', stop);
          options.cancel?.addEventListener('abort', cancel);
          child.on('message', (msg: FromShard) => {
            if (msg.type === 'started') {
              inFlight.set(key(msg.assignment), msg.assignment);
              options.onStart?.(msg.assignment);
            }
            else if (msg.type === 'played') options.onPlayed?.(msg.assignment);
            else if (msg.type === 'retry') options.onRetry?.(msg.assignment, msg.error);
            else if (msg.type === 'gate') {
              void options.gate?.().then((at) => {
                if (child.connected) child.send({ type: 'go', id: msg.id, at } satisfies ToShard);
              });
            }
            else if (msg.type === 'outcome') {
              inFlight.delete(key(msg.outcome));
              options.onOutcome(msg.outcome);
            } else if (msg.type === 'error') {
              failure = `shard ${shard} failed: ${msg.message}`;
              if (child.connected) child.disconnect();
            } else if (msg.type === 'done') child.disconnect();
          });
          child.on('exit', (code, signal) => {
            options.signal?.removeEventListener('abort', stop);
            options.cancel?.removeEventListener('abort', cancel);
            if (code !== 0 && !failure) failure = `shard process ${shard} (pid ${child.pid}) exited with ${signal ?? `code ${code}`}`;
            if (failure) options.onShardError(failure, [...inFlight.values()]);
            resolve();
          });
          child.send({ type: 'start', job: { ...options.job, assignments } } satisfies ToShard);
          if (options.signal?.aborted) stop();
        }),
    ),
  );
}
