/** How a command hears SIGINT and SIGTERM: the first stops it gently, a second (a person insisting) at once. */
import { EXIT } from '../core/exit-codes.js';
import type { Io } from './commands/io.js';

/**
 * A second signal this soon after the first is the same interruption delivered twice: GNU `timeout -s INT`
 * signals the process and then its whole process group, and a terminal's Ctrl-C reaches every process of
 * the foreground group. A person pressing Ctrl-C again, having read "stopping", comes later.
 */
export const SAME_INTERRUPT_MS = 250;

export interface InterruptClock {
  now: () => number;
  exit: (code: number) => never;
}

/**
 * First SIGINT/SIGTERM stops scheduling and lets in-flight writes finish; a second exits at once.
 * The handlers stay until `release` runs, when the command is over.
 */
export function interruptSignal(io: Io, clock: InterruptClock = { now: () => performance.now(), exit: (code) => process.exit(code) }): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  let first = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted && clock.now() - first < SAME_INTERRUPT_MS) return;
    if (controller.signal.aborted) {
      io.err(`ace-orch: second ${sig}, exiting now; run \`ace-orch audit\` to check the store`);
      clock.exit(EXIT.interrupted);
    }
    first = clock.now();
    controller.abort(`${sig} received`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
