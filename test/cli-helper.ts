/** Runs the CLI as a user would, in its own process; or, for refused input and audits, its same entry point in this one. */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { cliExitCode } from '../src/cli/cli.js';
import type { Io } from '../src/cli/commands/io.js';
import type { RunManifest } from '../src/core/types.js';
import { CLI, ROOT, writeJson } from './helpers.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How `cli` starts the executable, beyond the defaults (the project root as the working directory, this environment). */
export interface CliSpawn {
  cwd?: string;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** A command the executable runs under, such as `setpriv --reuid=...` to run it as another user. */
  under?: string[];
}

export function cli(args: string[], onSpawn?: (child: ReturnType<typeof spawn>) => void, how: CliSpawn = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const command = [...(how.under ?? []), process.execPath, ...CLI, ...args];
    const child = spawn(command[0]!, command.slice(1), { cwd: how.cwd ?? ROOT, env: { ...process.env, ...how.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    onSpawn?.(child);
  });
}

/** The stderr text of each cliHere call now running; process.stderr is diverted to them while there is one. */
const stderrSinks = new Set<{ text: string }>();
let stderrWrite: typeof process.stderr.write | undefined;

/**
 * What reaches process.stderr during a call, beyond the Io (a PostgreSQL store's retry notes, a Node
 * warning), is part of what a spawned `ace-orch` would have printed there: it goes into `sink`, not to
 * the terminal, until the returned function runs. Concurrent calls each see it.
 */
function divertStderr(sink: { text: string }): () => void {
  if (stderrSinks.size === 0) {
    stderrWrite = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      for (const s of stderrSinks) s.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof process.stderr.write;
  }
  stderrSinks.add(sink);
  return () => {
    stderrSinks.delete(sink);
    if (stderrSinks.size === 0 && stderrWrite) {
      process.stderr.write = stderrWrite;
      stderrWrite = undefined;
    }
  };
}

/**
 * The CLI's entry point called in this process: the same parsing, checks, messages and exit code as
 * `ace-orch` (whose process only adds setting its exit code), without starting a process; its stderr
 * is what the Io got plus whatever reached process.stderr meanwhile. For calls that start no thread or
 * process and write nothing: input the CLI refuses, and audits. `cli` runs everything else, as a user does.
 */
export async function cliHere(args: string[]): Promise<CliResult> {
  let stdout = '';
  const stderr = { text: '' };
  const io: Io = { out: (text) => void (stdout += `${text}\n`), err: (text) => void (stderr.text += `${text}\n`), progress: () => {} };
  const restore = divertStderr(stderr);
  try {
    const code = await cliExitCode(args, io);
    return { code, stdout, stderr: stderr.text };
  } finally {
    restore();
  }
}

export function assertOneLineError(t: ExecutionContext, r: CliResult, ...needles: string[]): void {
  t.is(r.code, 2, r.stderr);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  for (const n of needles) t.true(r.stderr.includes(n), `stderr names ${n}: ${r.stderr}`);
}

/** Starts a multi-process run in its own process group and SIGKILLs the whole group once `acknowledged` episodes are done. */
export function runAndKill(store: string, domains: readonly string[], acknowledged: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // Episodes long enough that the run cannot end between the progress line that triggers the kill and the kill,
    // even when this process reads that line late on a loaded machine (30 episodes on 2 lanes: 6 s).
    const args = ['run', '--domains', domains.join(','), '--episodes', '10', '--processes', '2', '--threads', '1', '--episode-ms', '400', '--progress', 'lines', '--store', store];
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      const done = Math.max(0, ...[...stderr.matchAll(new RegExp(`\\] (\\d+)/${domains.length * 10} done`, 'g'))].map((m) => Number(m[1])));
      if (!killed && done >= acknowledged) {
        killed = true;
        process.kill(-child.pid!, 'SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => (killed ? resolve() : reject(new Error(`run ended (${code ?? signal}) before ${acknowledged} episodes: ${stderr}`))));
  });
}

/**
 * `run` of `experiment` into a fresh store in `dir`, through the CLI as a user starts it: exit code, --json
 * output, and the run's manifest.
 */
export async function cliRun(dir: string, experiment: object, ...flags: string[]) {
  const file = join(dir, 'experiment.json');
  await writeJson(file, experiment);
  const store = join(dir, 'store');
  const r = await cli(['run', file, '--store', store, '--json', ...flags]);
  const report = JSON.parse(r.stdout || '{}') as { zeroLoss: boolean; domains: Record<string, unknown>[] };
  const [manifestFile] = await readdir(join(store, 'runs'));
  const manifest = JSON.parse(await readFile(join(store, 'runs', manifestFile!), 'utf8')) as RunManifest;
  return { code: r.code, stderr: r.stderr, report, manifest };
}
