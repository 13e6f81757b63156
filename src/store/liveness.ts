/** Whether a run recorded as `running` still has a live process. */
import { hostname } from 'node:os';
import type { RunManifest } from '../core/types.js';

/** Whether a process with this pid exists on this host. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs that never wrote their final manifest and whose process is gone. Runs
 * started on another host cannot be checked from here and are not reported.
 */
export function abandonedRuns(manifests: readonly RunManifest[]): RunManifest[] {
  return manifests.filter((m) => m.status === 'running' && (m.host ?? hostname()) === hostname() && !processAlive(m.pid));
}
