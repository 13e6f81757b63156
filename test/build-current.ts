/**
 * AVA runs the tests compiled into dist-test/ (`npm test` compiles src/, workers/ and test/ there first) and
 * loads this module before each test file (`require` in package.json's ava config). It fails the file when
 * a source is newer than its build, say after an edit followed by a plain `npx ava`, so a test never runs
 * stale code.
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILD = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = join(BUILD, '..');
/** Not compiled (test/tsconfig.json excludes it): package.test.ts type-checks it in its own project. */
const UNBUILT = join(ROOT, 'test', 'fixtures', 'consumer');

function stale(): string[] {
  return ['src', 'workers', 'test']
    .flatMap((dir) => readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && e.parentPath !== UNBUILT)
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .filter((source) => {
      try {
        return statSync(join(BUILD, source.replace(/\.ts$/, '.js'))).mtimeMs < statSync(join(ROOT, source)).mtimeMs;
      } catch {
        return true; // A source without its built file.
      }
    });
}

const outdated = stale();
if (outdated.length > 0) {
  throw new Error(`dist-test/ is older than ${outdated.slice(0, 3).join(', ')}${outdated.length > 3 ? ` and ${outdated.length - 3} more` : ''}: run npm run build:test (npm test does)`);
}
