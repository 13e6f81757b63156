/**
 * Three hosts on one machine (network namespaces, see fixtures/netns.ts), each
 * running `ace-orch worker` against PostgreSQL through a forwarder. During a
 * run of 300 episodes one worker is SIGKILLed and another host's link is cut
 * for longer than the claim expiry, then restored. Afterwards every episode is
 * committed exactly once, by the claim that completed its job, with zero loss.
 * Needs root; skipped with a loud message otherwise.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cli } from './cli-helper.js';
import { freshPgSchema, PG_URL, pgUnavailable, sql } from './conformance/backends.js';
import { createHosts, netnsUnavailable } from './fixtures/netns.js';
import type { NsHost } from './fixtures/netns.js';
import { CLI, ROOT, watchLines } from './helpers.js';
import type { LineLog } from './helpers.js';

const CLAIM_SECONDS = 3;

/** Episode ids a worker's --verbose log says it did `verb` (claimed or committed). */
const said = (lines: readonly string[], verb: 'claimed' | 'committed'): string[] => lines.filter((l) => l.startsWith(`${verb} `)).map((l) => l.slice(verb.length + 1));
/** Claims a worker holds according to its log: claimed and not (yet) committed. */
const held = (lines: readonly string[]): Set<string> => {
  const committed = new Set(said(lines, 'committed'));
  return new Set(said(lines, 'claimed').filter((id) => !committed.has(id)));
};

test('three hosts: a worker SIGKILLed and a link cut past the claim expiry; every episode exactly once, zero loss', async (t) => {
  const why = (await pgUnavailable()) ?? netnsUnavailable();
  if (why) {
    process.stderr.write(`\n*** SKIPPING the multi-host test: ${why} ***\n\n`);
    t.log(`SKIPPED: ${why}`);
    t.pass();
    return;
  }
  const store = await freshPgSchema();
  const storeSchema = new URL(store.store).searchParams.get('schema')!;
  const queueSchema = `ace_q_${randomBytes(5).toString('hex')}`;
  const net = await createHosts(3, { host: '127.0.0.1', port: 5432 });
  const workers: { host: NsHost; child: ReturnType<typeof spawn>; exited: Promise<number | null>; log: LineLog }[] = [];
  t.teardown(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await net.teardown();
    await store.cleanup();
    await sql(`DROP SCHEMA IF EXISTS "${queueSchema}" CASCADE`);
  });

  const queueOnHost = `${PG_URL}?schema=${queueSchema}`;
  const run = cli(['run', '--store', store.store, '--queue', queueOnHost, '--episodes', '100', '--threads', '2', '--episode-ms', '50', '--claim-seconds', String(CLAIM_SECONDS), '--json']);
  for (const host of net.hosts) {
    const queue = `postgres://root@${host.pgHost}:${host.pgPort}/test?schema=${queueSchema}`;
    // --verbose: each worker reports its claims and commits on stderr, and the test waits on those reports.
    const child = spawn('ip', ['netns', 'exec', host.name, process.execPath, ...CLI, 'worker', '--queue', queue, '--threads', '2', '--concurrency', '4', '--name', host.name, '--host', host.name, '--verbose'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    workers.push({ host, child, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))), log: watchLines(child.stderr!) });
  }
  const [killed, cutOff, survivor] = workers;
  // Each is stopped once it has committed 10 episodes and holds claims it has not committed yet.
  const busy = (lines: readonly string[]): boolean => said(lines, 'committed').length >= 10 && held(lines).size > 0;
  await killed!.log.until(busy);
  killed!.child.kill('SIGKILL');
  await killed!.exited;

  // Cut the link while the host holds an episode that is not in the store: one it is still playing, or whose
  // commit has not reached the server. Only another host can commit such an episode, after its claim expired
  // (pg-boss's expiry, then its maintenance pass): the link stays down until then. An episode whose COMMIT reached
  // the server just before the cut is in the store though the host never heard back (its log does not say so);
  // it strands nothing, so when every held episode was such a one the link comes back and is cut again at the
  // host's next claim. Each wait is on an event: a worker's line (a claim, a commit), or the run's end.
  const inStore = async (ids: readonly string[], by?: string): Promise<number> =>
    (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${storeSchema}".episodes WHERE episode_id = ANY($1) AND ($2::text IS NULL OR worker = $2)`, [ids, by ?? null]))[0]!.n;
  const runEnd = run.then(() => 'ended' as const);
  let survivorTook = 0;
  let cuts = 0;
  while (survivorTook === 0) {
    if (cuts > 0) {
      const seen = cutOff!.log.lines.length;
      const claimed = cutOff!.log.until((lines) => lines.slice(seen).some((l) => l.startsWith('claimed ')));
      claimed.catch(() => {}); // Left waiting when the run ends first; it rejects once the host's stream closes.
      if ((await Promise.race([claimed.then(() => 'claimed' as const), runEnd])) === 'ended') break;
    } else await cutOff!.log.until(busy);
    net.cut(cutOff!.host);
    cuts++;
    const heldNow = [...held(cutOff!.log.lines)];
    const stranded: string[] = [];
    for (const id of heldNow) if ((await inStore([id])) === 0) stranded.push(id);
    if (stranded.length) {
      const retaken = (async () => {
        for (;;) {
          const seen = survivor!.log.lines.length;
          if ((await inStore(stranded)) === stranded.length) return;
          await survivor!.log.until((lines) => lines.length > seen);
        }
      })();
      retaken.catch(() => {});
      await Promise.race([retaken, runEnd]);
      survivorTook = await inStore(stranded, survivor!.host.name);
    }
    net.restore(cutOff!.host);
  }
  t.true(survivorTook > 0, `the link was down past the claim expiry: another host committed episodes the cut-off one had claimed (${cuts} cuts)`);
  t.log(`${cuts} cut(s); ${survivorTook} episodes the cut-off host held were committed by the survivor after their claims expired`);

  const result = await run;
  t.is(result.code, 0, result.stderr);
  t.like(JSON.parse(result.stdout), { zeroLoss: true, status: 'complete' });
  for (const w of workers.slice(1)) w.child.kill('SIGTERM');
  t.deepEqual(await Promise.all(workers.slice(1).map((w) => w.exited)), [0, 0], 'SIGTERM: the live workers finish and exit 0');

  const episodes = await sql<{ episode_id: string; worker: string }>(`SELECT episode_id, worker FROM "${storeSchema}".episodes`);
  t.is(episodes.length, 300);
  t.is(new Set(episodes.map((e) => e.episode_id)).size, 300, 'every episode exactly once');
  const jobs = await sql<{ state: string; retry_count: number; episode: string; output: { worker?: string } }>(
    `SELECT state, retry_count, output, (data->>'runId') || '-' || (data->>'domain') || '-' || lpad(data->>'index', 4, '0') AS episode FROM "${queueSchema}".job WHERE name = 'ace-episodes'`,
  );
  t.is(jobs.length, 300);
  t.true(jobs.every((j) => j.state === 'completed'));
  t.true(jobs.some((j) => j.retry_count > 0), 'claims expired and were taken again');
  const by = new Map(episodes.map((e) => [e.episode_id, e.worker]));
  t.true(jobs.every((j) => j.output.worker === by.get(j.episode)), 'only the live claim committed each episode');
  t.true(new Set(episodes.map((e) => e.worker)).size === 3, 'all three hosts committed episodes');
});
