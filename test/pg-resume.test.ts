/** `run --resume` on a PostgreSQL store: after a SIGKILL, re-merge what was recorded but not merged, play only what has no record. */
import { sql } from './conformance/backends.js';
import { assertOneLineError, cli, cliHere, runAndKill } from './cli-helper.js';
import { freshUrl, pgTest } from './pg-test.js';
import type { Playbook, RunManifest } from '../src/core/types.js';

const DOMAINS = ['hot_pot', 'chem_tile', 'switch_light'];

pgTest('resume after SIGKILL of a multi-process run on postgres://: records re-merged, only the unrecorded played, a complete run untouched', async (t) => {
  const url = await freshUrl(t);
  const schema = new URL(url).searchParams.get('schema')!;
  const records = async () => new Map((await sql<{ episode_id: string; record: string }>(`SELECT episode_id, record::text AS record FROM "${schema}".episodes`)).map((r) => [r.episode_id, r.record]));
  const playbooks = async () => sql<{ domain: string; generation: string; body: string }>(`SELECT domain, generation, body::text AS body FROM "${schema}".playbooks ORDER BY domain`);
  const manifests = async () => sql<{ body: RunManifest }>(`SELECT body FROM "${schema}".manifests`);

  await runAndKill(url, DOMAINS, 9);
  const [{ body: killed }] = (await manifests()) as [{ body: RunManifest }];
  const runId = killed.run_id;
  const before = await records();
  t.true(before.size >= 9 && before.size < 30, `${before.size} episode records after the kill`);

  // A writer that died between its record's transaction and its merge's: the record is there, the observation is not.
  const [row] = await sql<{ body: Playbook; generation: string }>(`SELECT body, generation FROM "${schema}".playbooks WHERE domain = 'hot_pot'`);
  const unmerged = row!.body.observations.find((o) => before.has(o.episode_id))!.episode_id;
  const body = { ...row!.body, observations: row!.body.observations.filter((o) => o.episode_id !== unmerged) };
  await sql(`UPDATE "${schema}".playbooks SET body = $1, generation = generation + 1 WHERE domain = 'hot_pot'`, [JSON.stringify(body)]);

  const r = await cli(['run', '--resume', runId, '--store', url]);
  t.is(r.code, 0, r.stderr + r.stdout);
  const said = new RegExp(`resuming run ${runId}: (\\d+) episodes done \\((\\d+) merged from their records now\\), (\\d+) to play`).exec(r.stderr);
  t.truthy(said, r.stderr);
  t.is(Number(said![1]), before.size, 'every recorded episode counts as done');
  t.true(Number(said![2]) >= 1, 'the recorded but unmerged episode was merged');
  t.is(Number(said![3]), 30 - before.size, 'only the episodes with no record are played');
  t.regex(r.stdout, /Zero loss/);

  const after = await records();
  t.is(after.size, 30, 'one record per episode');
  for (const [id, record] of before) t.is(after.get(id), record, `${id} was not played again`);
  const [{ body: manifest }] = (await manifests()) as [{ body: RunManifest }];
  t.is(manifest.status, 'complete');
  t.is(new Set(manifest.episodes!.map((e) => e.episode_id)).size, 30, 'every episode exactly once');
  t.true(manifest.episodes!.every((e) => e.status === 'ok'));
  t.is(manifest.resumed_at!.length, 1);
  const [hot] = await sql<{ body: Playbook }>(`SELECT body FROM "${schema}".playbooks WHERE domain = 'hot_pot'`);
  t.true(hot!.body.observations.some((o) => o.episode_id === unmerged), 'the unmerged observation is back');
  const audit = await cliHere(['audit', '--store', url, '--run', runId]);
  t.is(audit.code, 0, audit.stdout);

  // A complete run: resuming changes nothing and says so.
  const [rowsBefore, manifestBefore] = [await playbooks(), await manifests()];
  const again = await cli(['run', '--resume', runId, '--store', url]);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /is complete: .* nothing to do/);
  t.deepEqual(await manifests(), manifestBefore);
  t.deepEqual(await playbooks(), rowsBefore);
  t.deepEqual(await records(), after);
});

pgTest('resume on postgres:// refuses an unknown run in one line, password masked, nothing written', async (t) => {
  const url = await freshUrl(t);
  const run = await cli(['run', '--store', url, '--domains', 'hot_pot', '--episodes', '2', '--threads', '1']);
  t.is(run.code, 0, run.stderr);
  const withPassword = url.replace('://root@', '://root:hunter2@');
  const r = await cli(['run', '--resume', 'no-such-run', '--store', withPassword]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /^ace-orch: --resume: no run `no-such-run` in store postgres:\/\/root:\*\*\*@/);
  t.is(r.stderr.trim().split('\n').length, 1);
  t.false(r.stderr.includes('hunter2'));
  // A distributed run whose episodes are still queued: test/queue-claims.test.ts, with a real queue.
});

pgTest('resume on postgres:// refuses a run marked running on another host, in one line, nothing written', async (t) => {
  const url = await freshUrl(t);
  const run = await cli(['run', '--store', url, '--domains', 'hot_pot', '--episodes', '2', '--threads', '1']);
  t.is(run.code, 0, run.stderr);
  const schema = new URL(url).searchParams.get('schema')!;
  const [{ body }] = (await sql<{ body: RunManifest }>(`SELECT body FROM "${schema}".manifests`)) as [{ body: RunManifest }];
  // Its pid means nothing here: that process, if alive, runs on the other host.
  const elsewhere = { ...body, run_id: 'elsewhere-run', status: 'running', host: 'another-host.example', pid: 1, episodes: [] };
  await sql(`INSERT INTO "${schema}".manifests (run_id, body) VALUES ($1, $2)`, [elsewhere.run_id, JSON.stringify(elsewhere)]);
  const before = await sql(`SELECT run_id, body::text FROM "${schema}".manifests ORDER BY run_id`);
  const r = await cliHere(['run', '--resume', 'elsewhere-run', '--store', url]);
  assertOneLineError(t, r, 'run elsewhere-run is marked running on host another-host.example; resume it there', 'repair');
  t.deepEqual(await sql(`SELECT run_id, body::text FROM "${schema}".manifests ORDER BY run_id`), before, 'nothing written');
});
