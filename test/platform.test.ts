/** The platform guarantees the README states are the ones the code applies. */
import test from 'ava';
import { readdir } from 'node:fs/promises';
import { UnsupportedPlatformError } from '../src/core/errors.js';
import { platformGuarantee } from '../src/store/platform.js';
import { Store } from '../src/store/store.js';
import { deltasOf, obs, tempDir } from './helpers.js';

test('Linux keeps every guarantee; macOS runs with a stated weaker flush; Windows is refused', (t) => {
  t.deepEqual(platformGuarantee('linux'), { supported: true });
  t.true(platformGuarantee('darwin').supported);
  t.regex(platformGuarantee('darwin').note!, /power cut/);
  t.false(platformGuarantee('win32').supported);
  t.regex(platformGuarantee('win32').note!, /WSL/);
});

test('on Windows a write is refused with one line before anything is written', async (t) => {
  const dir = await tempDir();
  const real = process.platform;
  Object.defineProperty(process, 'platform', { value: 'win32' });
  try {
    const err = await t.throwsAsync(new Store(dir).merge('hot_pot', deltasOf(obs('a'))), { instanceOf: UnsupportedPlatformError });
    t.false(err!.message.includes('\n'));
    t.is(err!.exitCode, 2);
  } finally {
    Object.defineProperty(process, 'platform', { value: real });
  }
  t.deepEqual(await readdir(dir), [], 'nothing written');
});
