/**
 * Where a report goes: checked before any work is done (so `run --report`
 * does not run for minutes and then fail), written atomically (a reader
 * never sees half a page), and never over a file that is not a report.
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { BadInputError } from '../core/errors.js';
import { writeFileAtomic } from '../store/durable.js';

/** The page's generator tag: how an earlier report is told from a file the user wants kept. */
export const GENERATOR = 'ace-orch report';

/** Resolves `--out` and throws a BadInputError naming it when a report cannot be written there. */
export async function checkOut(out: string, flag = '--out'): Promise<string> {
  const file = resolve(out);
  const bad = (why: string): BadInputError => new BadInputError(`${flag} ${out}: ${why}`, out);
  const s = await stat(file).catch(() => null);
  if (s?.isDirectory()) throw bad('is a directory');
  if (s) {
    const head = await readFile(file, 'utf8').then((t) => t.slice(0, 2000), () => '');
    if (!head.includes(`content="${GENERATOR}"`)) throw bad('exists and is not an ace-orch report; refusing to overwrite it');
  }
  const dir = dirname(file);
  const d = await stat(dir).catch(() => null);
  if (!d?.isDirectory()) throw bad(`directory ${dir} does not exist`);
  await access(dir, constants.W_OK).catch(() => {
    throw bad(`directory ${dir} is not writable`);
  });
  return file;
}

export async function writeReportFile(file: string, html: string, flag = '--out'): Promise<void> {
  try {
    await writeFileAtomic(file, html);
  } catch (err) {
    throw new BadInputError(`${flag} ${file}: cannot be written: ${(err as Error).message}`, file);
  }
}
