/**
 * ace-orch writer processes and writers that save the way the reference tool does (fcntl.flock on
 * playbook.lock, re-read, merge, temp file, rename; no `generation` key) on one store at once,
 * started from one barrier, with a cap no lost write can hide under: the audit finds zero loss.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { audit } from '../src/core/audit.js';
import { loadAuditInput } from '../src/store/snapshot.js';
import { Store } from '../src/store/store.js';
import { fixtureFile, forkFixture, tempDir } from './helpers.js';

const ACE_WRITERS = 2;
const REFERENCE_WRITERS = 3;
const MERGES = 40;
const DOMAIN = 'hot_pot';

/** Resolves when a reference writer prints "ready"; it then waits for "go" on stdin. */
function referenceReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => (line === 'ready' ? resolve() : reject(new Error(`reference writer said ${line}`))));
  });
}

test('ace-orch writers and reference-tool writers on one store lose nothing', async (t) => {
  const dir = await tempDir();
  const cap = (ACE_WRITERS + REFERENCE_WRITERS) * MERGES;
  const referenceScript = fixtureFile('reference_writer.py');
  const ace = Array.from({ length: ACE_WRITERS }, (_, writer) =>
    forkFixture('fixtures/process-writer.ts', [JSON.stringify({ store: dir, domain: DOMAIN, writer, merges: MERGES, cap })]),
  );
  const reference = Array.from({ length: REFERENCE_WRITERS }, (_, writer) => spawn('python3', [referenceScript, dir, DOMAIN, String(writer), String(MERGES)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const exited = [...ace, ...reference].map(async (c) => (await once(c, 'exit'))[0] as number | null);

  await Promise.all([...ace.map((c) => once(c, 'message')), ...reference.map(referenceReady)]);
  for (const c of ace) c.send('go');
  for (const c of reference) c.stdin!.end('go\n');
  t.deepEqual(await Promise.all(exited), new Array(ACE_WRITERS + REFERENCE_WRITERS).fill(0));

  const store = new Store(dir);
  const ids = (await store.readPlaybook(DOMAIN)).observations.map((o) => o.episode_id);
  t.is(new Set(ids).size, cap, `${cap - new Set(ids).size} observations lost`);
  const report = audit(await loadAuditInput(store, { cap }));
  t.like(report.domains[0], { domain: DOMAIN, episodeFiles: cap, playbookObservations: cap, lost: 0, unexpected: 0 });
  t.true(report.zeroLoss);
});
