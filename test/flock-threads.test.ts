/** The flock addon loads in the main thread and in worker threads that come and go, as the pools use it. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixtureFile, tempDir } from './helpers.js';

test('fs-ext survives being loaded by one thread after another has exited', async (t) => {
  const script = fixtureFile('flock-threads.mjs');
  // In a child process: the unpatched addon kills its process (SIGSEGV in its init).
  const { stdout } = await promisify(execFile)(process.execPath, [script, join(await tempDir(), 'playbook.lock')]);
  t.is(stdout.trim(), 'ok');
});
