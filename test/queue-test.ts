/** Shared by the queue tests: fresh store and queue schemas, and `ace-orch worker` processes whose --verbose lines the tests wait on. */
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freshPgSchema, PG_URL, sql } from './conformance/backends.js';
import { CLI, ROOT, watchLines } from './helpers.js';

/** Fresh store and queue schemas, dropped when the test ends. */
export async function freshRun(t: ExecutionContext): Promise<{ store: string; queue: string; storeSchema: string; queueSchema: string }> {
  const f = await freshPgSchema();
  const queueSchema = `ace_q_${randomBytes(5).toString('hex')}`;
  t.teardown(async () => {
    await f.cleanup();
    await sql(`DROP SCHEMA IF EXISTS "${queueSchema}" CASCADE`);
  });
  return { store: f.store, queue: `${PG_URL}?schema=${queueSchema}`, storeSchema: new URL(f.store).searchParams.get('schema')!, queueSchema };
}

/** A worker process; with --verbose it reports every claim and commit on stderr, which the test waits on. */
export function startWorker(queue: string, name: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [...CLI, 'worker', '--queue', queue, '--name', name, '--threads', '2', '--verbose', ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const log = watchLines(child.stderr);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { child, exited, log, stderr: () => log.lines.join('\n') };
}

export type Verb = 'claimed' | 'committed' | 'claim lost';
/** Episode ids a worker's log says it did `verb` to. */
export const said = (lines: readonly string[], verb: Verb): string[] => lines.filter((l) => l.startsWith(`${verb} `)).map((l) => l.slice(verb.length + 1).split(':')[0]!);
export const count = (lines: readonly string[], verb: Verb): number => said(lines, verb).length;
