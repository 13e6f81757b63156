/** `run --workers N`: N `ace-orch worker` processes on this host, stopped with SIGTERM when the run ends. */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { siblingModule } from '../run/module-file.js';

/** Where `worker` reads its queue URL when --queue is absent: unlike a command line, the environment is not shown by `ps` to other users. */
export const QUEUE_ENV = 'ACE_ORCH_QUEUE';

export interface LocalWorkers {
  /** Resolves once every worker claims (or has exited). */
  claiming: Promise<void>;
  /** Resolves once every worker has exited, with the exit code of the last one (its signal's name if killed). */
  exited: Promise<string>;
  stop(): Promise<void>;
}

export function startLocalWorkers(queue: string, count: number, threads: number, concurrency: number): LocalWorkers {
  const cli = fileURLToPath(siblingModule(import.meta.url, '../bin'));
  // The queue URL may hold a password: in the environment, not on a command line every user's `ps` shows.
  const env = { ...process.env, [QUEUE_ENV]: queue };
  const children: ChildProcess[] = Array.from({ length: count }, (_, i) =>
    // The worker inherits our execArgv, so it runs TypeScript under tsx exactly when we do.
    fork(cli, ['worker', '--threads', String(threads), '--concurrency', String(concurrency), '--name', `local-${i + 1}:${process.pid}`], { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
  );
  const exits = children.map(
    (c) =>
      new Promise<string>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) resolve(String(c.exitCode ?? c.signalCode));
        // 'error': the process could not be started at all, and 'exit' may never come.
        else c.once('exit', (code, signal) => resolve(String(code ?? signal))).once('error', (err) => resolve(err.message));
      }),
  );
  const claiming = children.map((c, i) => Promise.race([exits[i], new Promise<void>((resolve) => c.on('message', (m: { type?: string }) => m?.type === 'claiming' && resolve()))]));
  return {
    claiming: Promise.all(claiming).then(() => {}),
    exited: Promise.all(exits).then((codes) => codes.at(-1)!),
    stop: async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await Promise.all(exits);
    },
  };
}
