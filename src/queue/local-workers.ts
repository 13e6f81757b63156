/** `run --workers N`: N `ace-orch worker` processes on this host, stopped with SIGTERM when the run ends. */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { siblingModule } from '../module-file.js';

export interface LocalWorkers {
  /** Resolves once every worker claims (or has exited). */
  claiming: Promise<void>;
  stop(): Promise<void>;
}

export function startLocalWorkers(queue: string, count: number, threads: number, concurrency: number): LocalWorkers {
  const cli = fileURLToPath(siblingModule(import.meta.url, '../bin'));
  const children: ChildProcess[] = Array.from({ length: count }, (_, i) =>
    // The worker inherits our execArgv, so it runs TypeScript under tsx exactly when we do.
    fork(cli, ['worker', '--queue', queue, '--threads', String(threads), '--concurrency', String(concurrency), '--name', `local-${i + 1}:${process.pid}`], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
  );
  const exits = children.map((c) => new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : c.once('exit', () => resolve()))));
  const claiming = children.map((c, i) => Promise.race([exits[i], new Promise<void>((resolve) => c.on('message', (m: { type?: string }) => m?.type === 'claiming' && resolve()))]));
  return {
    claiming: Promise.all(claiming).then(() => {}),
    stop: async () => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
      await Promise.all(exits);
    },
  };
}
