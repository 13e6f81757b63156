/** Reads what the audit needs from a store: the thin I/O side of src/core/audit.ts. */
import { lstat, readFile, readlink, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { episodeFact } from '../core/audit.js';
import type { AuditInput, DomainState, EpisodeFact } from '../core/audit.js';
import { readEpisodeText } from '../core/episode-read.js';
import { builtInReflection, type ReflectionRules } from '../core/reference.js';
import type { FileFinding } from '../core/episode-read.js';
import { readRecordedCap } from './store-meta.js';
import { BadInputError, SettingError, TornFileError, UnreadableFileError } from '../core/errors.js';
import type { Store } from './store.js';

/** Files read at once: enough to hide latency, few enough to stay under open-file limits. */
const READ_CONCURRENCY = 64;

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return out;
}

/**
 * One domain as the audit sees it. Never throws on a file's content: a torn
 * playbook becomes `playbookError`, an unusable episode file a finding.
 */
export async function readDomainState(store: Store, domain: string, rules: ReflectionRules = builtInReflection): Promise<DomainState> {
  let playbook: DomainState['playbook'] = null;
  let playbookError: string | undefined;
  let playbookIo = false;
  let playbookTorn = false;
  try {
    const read = store.readPlaybookFile(domain);
    playbook = read.exists ? read.playbook : null;
  } catch (err) {
    // Torn or foreign content, or a file the system will not read (permissions, a directory in its place, a link to nothing).
    if (!(err instanceof BadInputError)) throw err;
    playbookError = err.message;
    playbookIo = err instanceof UnreadableFileError;
    playbookTorn = err instanceof TornFileError;
  }
  let files: string[] = [];
  let episodesError: string | undefined;
  try {
    files = await store.listEpisodeFiles(domain);
  } catch (err) {
    if (!systemError(err)) throw err;
    episodesError = (err as Error).message;
  }
  // An episodes directory that is a link to nothing holds files somewhere the audit cannot see: not "no files".
  const episodesDir = store.episodesDir(domain);
  if (files.length === 0 && !episodesError && (await lstat(episodesDir).then((s) => s.isSymbolicLink(), () => false)) && !(await stat(episodesDir).then(() => true, () => false))) {
    episodesError = `${episodesDir} is a symbolic link to ${await readlink(episodesDir)}, which does not exist`;
  }
  // An entry that cannot be read as a file (a dangling link, a directory, a pipe, no permission) is an unreadable file, never
  // a stop (a pipe would block the read forever). Its name still says which episode it is: that observation is not "unexpected".
  const unreadable = (file: string, problem: string) => ({ ok: false as const, finding: { file, episode_id: basename(file, '.json'), used: false, problem } });
  const reads = await mapLimited(files, READ_CONCURRENCY, async (file) => ({
    file,
    read: await stat(file)
      .then((st) => (st.isFile() ? readFile(file, 'utf8').then((text) => readEpisodeText(text, file)) : unreadable(file, 'not a regular file')))
      .catch((err: unknown) => {
        if (!systemError(err)) throw err;
        return unreadable(file, `cannot be read: ${(err as Error).message}`);
      }),
  }));
  const episodes: EpisodeFact[] = [];
  const findings: FileFinding[] = [];
  for (const { file, read } of reads) {
    if (!read.ok) {
      findings.push(read.finding);
      continue;
    }
    try {
      episodes.push({ ...episodeFact(read.record, domain, rules), file });
    } catch (err) {
      // A user domain's reflection rules may not expect what another tool wrote: a finding, never exit 3.
      findings.push({ file, episode_id: read.record.episode_id, used: false, problem: `the domain's reflection rules failed on it: ${(err as Error).message}` });
      continue;
    }
    for (const problem of read.notes) findings.push({ file, episode_id: read.record.episode_id, used: true, problem });
  }
  return { domain, playbook, ...(playbookError ? { playbookError } : {}), ...(playbookIo ? { playbookIo } : {}), ...(playbookTorn ? { playbookTorn } : {}), ...(episodesError ? { episodesError } : {}), episodes, findings };
}

/** An error the system gave for a path (EACCES, EISDIR, ELOOP, ENOENT of a dangling link...), not a bug here. */
export function systemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

export interface SnapshotOptions {
  runId?: string | null;
  cap?: number;
  /** The domains' reflection rules for episode files the reference tool wrote (the registry's, where user domains may be registered). @default the built-in domains' */
  rules?: ReflectionRules;
}

export async function assertStoreExists(store: Store): Promise<void> {
  const isDir = await stat(store.root).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new BadInputError(`store ${store.root} does not exist or is not a directory`, store.root);
}

export async function loadAuditInput(store: Store, options: SnapshotOptions = {}): Promise<AuditInput> {
  await assertStoreExists(store);
  const manifests = await store.readManifests();
  const runId = options.runId ?? null;
  let domains: string[];
  if (runId !== null) {
    const run = manifests.find((m) => m.run_id === runId);
    if (!run) throw new SettingError((n) => `${n.name('run')}: no run \`${runId}\` in ${store.runsDir()}`, store.runsDir());
    domains = run.config.domains;
  } else {
    domains = [...new Set([...(await store.listDomains()), ...manifests.flatMap((m) => m.config.domains ?? [])])].sort();
    // Most likely the wrong directory: say so rather than report zero loss over nothing.
    if (domains.length === 0) throw new SettingError((n) => `store ${store.root} has no domains (expected ${store.root}/domains/<domain>/playbook.json); is ${n.name('store')} pointing at an ACE store?`, store.root);
  }
  const states = await Promise.all(domains.map((d) => readDomainState(store, d, options.rules)));
  return { store: store.root, cap: options.cap, recordedCap: await readRecordedCap(store, manifests), domains: states, manifests, runId };
}
