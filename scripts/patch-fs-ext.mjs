#!/usr/bin/env node
/**
 * postinstall: makes fs-ext loadable in several threads of one process, then rebuilds it.
 *
 * fs-ext 2.1.1 keeps its statvfs key strings in process-wide `Nan::Persistent` handles
 * created by the first isolate that loads it; a second worker thread then uses handles of
 * another isolate and crashes. The fix (patches/fs-ext+2.1.1.patch, the same change) creates
 * the strings where they are used. This script applies it to whichever fs-ext this package
 * resolves (nested or hoisted into a consumer's node_modules), so it works in this repository
 * and in any project that installs the package; patch-package would run in the consumer's root.
 * Idempotent: a patched source with an up-to-date build is left alone.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const dir = dirname(createRequire(import.meta.url).resolve('fs-ext/package.json'));
const source = join(dir, 'fs-ext.cc');
const addon = join(dir, 'build', 'Release', 'fs_ext.node');

/** The patch as a text transform: drop the persistent handles, build each key where it is set. */
export function patchSource(text) {
  return text
    .replace(/^static Nan::Persistent<String> f_\w+_symbol;\n/gm, '')
    .replace(/^\s*f_\w+_symbol\.Reset\(.*\);\n/gm, '')
    .replace(/Nan::New<String>\(f_(\w+)_symbol\)/g, 'Nan::New<String>("f_$1").ToLocalChecked()');
}

const before = readFileSync(source, 'utf8');
const after = patchSource(before);
if (/f_\w+_symbol/.test(after)) {
  console.error(`ace-orchestrator: cannot patch ${source}: unexpected fs-ext source (a version other than 2.1.1?)`);
  process.exit(1);
}
const mtime = (f) => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (after !== before) writeFileSync(source, after);
if (after === before && mtime(addon) >= mtime(source)) process.exit(0);

// npm hands its bundled node-gyp to lifecycle scripts; outside npm, fall back to `npm rebuild`.
const gyp = process.env['npm_config_node_gyp'];
const build = gyp
  ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: dir, stdio: 'inherit' })
  : spawnSync('npm', ['rebuild', 'fs-ext'], { cwd: dir, stdio: 'inherit', shell: process.platform === 'win32' });
if (build.status !== 0) {
  console.error(`ace-orchestrator: rebuilding the patched fs-ext in ${dir} failed (exit ${build.status})`);
  process.exit(build.status ?? 1);
}
console.error(`ace-orchestrator: fs-ext patched for worker threads and rebuilt in ${dir}`);
