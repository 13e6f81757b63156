/** Runs the CLI as a user would, in its own process. */
import { spawn } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { CLI, ROOT } from './helpers.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], onSpawn?: (child: ReturnType<typeof spawn>) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    onSpawn?.(child);
  });
}

export function assertOneLineError(t: ExecutionContext, r: CliResult, ...needles: string[]): void {
  t.is(r.code, 2, r.stderr);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  for (const n of needles) t.true(r.stderr.includes(n), `stderr names ${n}: ${r.stderr}`);
}

