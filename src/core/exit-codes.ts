/** The CLI's exit codes, in one place. */
import type { RunManifest } from './types.js';

export const EXIT = {
  /** Everything ran and the audit found nothing lost or missing. */
  ok: 0,
  /** The audit found lost observations, missing episode files, an unreadable or missing playbook, or lost section entries ace-orch recorded. */
  loss: 1,
  /** Usage error or bad input (a flag, an experiment, a corrupt store file). */
  usage: 2,
  /** A bug in ace-orch itself: the message says what failed. */
  internal: 3,
  /** Nothing was lost, but episodes failed (raised, timed out, or were refused after their retries), or the run stopped (`--max-failures`, a `--processes` shard that died, or all of `run --workers`' local workers exited). */
  failed: 4,
  /** Stopped by SIGINT/SIGTERM after in-flight episodes finished their writes (128 + SIGINT). */
  interrupted: 130,
} as const;

/**
 * The exit code of a finished run: loss first (the store's fault), then an
 * interruption, then failed episodes (the agent's fault).
 */
export function runExitCode(zeroLoss: boolean, manifest: RunManifest): number {
  if (!zeroLoss) return EXIT.loss;
  if (manifest.status === 'interrupted') return EXIT.interrupted;
  return manifest.episodes?.some((e) => e.status === 'failed') || manifest.status === 'stopped' ? EXIT.failed : EXIT.ok;
}
