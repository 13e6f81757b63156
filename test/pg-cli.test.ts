/** The CLI on a PostgreSQL store: run, audit, repair and export, and bad input naming the URL. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { freshUrl, pgTest } from './pg-test.js';
import { sql } from './conformance/backends.js';
import { tempDir } from './helpers.js';

pgTest('run, audit and repair on postgres://; export writes the file layout whose audit equals the source', async (t) => {
  const url = await freshUrl(t);
  const run = await cli(['run', '--store', url, '--domains', 'hot_pot,chem_tile', '--episodes', '12', '--threads', '2', '--json']);
  t.is(run.code, 0, run.stderr);
  t.like(JSON.parse(run.stdout), { zeroLoss: true, status: 'complete' });
  const source = await cliHere(['audit', '--store', url, '--json']);
  t.is(source.code, 0, source.stderr);
  const repair = await cli(['repair', '--store', url, '--json']);
  t.is(repair.code, 0, repair.stderr);
  t.deepEqual(JSON.parse(repair.stdout).domains.flatMap((d: { recovered: string[] }) => d.recovered), [], 'nothing to recover after a clean run');

  const dir = join(await tempDir(), 'export');
  const exported = await cli(['export', '--store', url, '--to', dir]);
  t.is(exported.code, 0, exported.stderr);
  t.deepEqual((await readdir(join(dir, 'domains', 'hot_pot', 'episodes'))).length, 12);
  const copy = await cliHere(['audit', '--store', dir, '--json']);
  t.is(copy.code, 0, copy.stderr);
  const strip = (text: string) => {
    // Where the store and its cap are recorded differ by backend; everything else must be equal.
    const { store: _s, capReason: _c, ...rest } = JSON.parse(text) as Record<string, unknown>;
    return rest;
  };
  t.deepEqual(strip(copy.stdout), strip(source.stdout), 'audit of the export equals audit of the source');

  const again = await cliHere(['export', '--store', url, '--to', dir]);
  assertOneLineError(t, again, dir, 'not empty');
});

pgTest('repair on postgres:// names the observations its re-merge ranks out of the playbook, as on a file store', async (t) => {
  const url = await freshUrl(t);
  t.is((await cli(['run', '--store', url, '--domains', 'hot_pot', '--episodes', '6', '--cap', '3'])).code, 0);
  const schema = `"${new URL(url).searchParams.get('schema')}"`;
  const [row] = await sql<{ body: { observations: { episode_id: string }[] } }>(`SELECT body FROM ${schema}.playbooks WHERE domain = 'hot_pot'`);
  const playbook = row!.body;
  const held = new Set(playbook.observations.map((o) => o.episode_id));
  const records = await sql<{ record: { episode_id: string; outcome: { observation: { episode_id: string } } } }>(`SELECT record FROM ${schema}.episodes WHERE domain = 'hot_pot'`);
  const outside = records.map((r) => r.record).find((r) => !held.has(r.episode_id))!.outcome.observation;
  // The top observation lost (a crash before its merge, say), and one the cap had ranked out in its place.
  const lost = playbook.observations[0]!.episode_id;
  playbook.observations = [...playbook.observations.slice(1), outside];
  const edit = () => sql(`UPDATE ${schema}.playbooks SET body = $1 WHERE domain = 'hot_pot'`, [JSON.stringify(playbook)]);
  await edit();

  const said = await cli(['repair', '--store', url]);
  t.is(said.code, 0, said.stderr);
  t.regex(said.stdout, new RegExp(`hot_pot: the recovered entries ranked 1 observation \\(${outside.episode_id}\\) out of the playbook \\(its cap is 3, sections keep 10\\); \`--json\` lists them whole \\(\`rankedOut\`\\)`));
  await edit();
  const r = await cli(['repair', '--store', url, '--json']);
  t.is(r.code, 0, r.stderr);
  const [d] = JSON.parse(r.stdout).domains;
  t.deepEqual(d.recovered, [lost]);
  t.deepEqual(d.rankedOut, { observations: [outside.episode_id], sectionEntries: 0, entries: [], removed: [outside] });
  t.is(d.keptBefore, undefined, 'no file copy of a PostgreSQL playbook: the report holds what was taken out');
  const text = await cli(['repair', '--store', url]);
  t.is(text.code, 0, text.stderr);
  t.notRegex(text.stdout, /ranked/, 'a second repair has nothing to do');
});

pgTest('bad postgres:// input is one line naming the URL with the password masked, exit 2, nothing created', async (t) => {
  const dir = await tempDir();
  for (const args of [
    ['run', '--store', 'postgres://root:hunter2@127.0.0.1:1/test', '--episodes', '1'],
    ['audit', '--store', 'postgres://nobody:hunter2@127.0.0.1:5432/test'],
    ['repair', '--store', 'postgres://root:hunter2@127.0.0.1:5432/no_such_db_ace'],
    ['export', '--store', 'postgres://root:hunter2@127.0.0.1:1/test', '--to', join(dir, 'out')],
    ['chaos', '--store', 'postgres://root:hunter2@127.0.0.1:1/test'],
    // Refused before anything is opened, even on a reachable server.
    ['chaos', '--store', 'postgres://root:hunter2@127.0.0.1:5432/test?schema=ace_never_created', '--commit', 'shared'],
    ['run', '--store', 'postgres://root:hunter2@127.0.0.1:5432/test?schema=ace_never_created', '--commit', 'shared', '--processes', '3'],
    ['compare', '--store', 'postgres://root:hunter2@127.0.0.1:5432/test?schema=ace_never_created', '--commit', 'shared'],
    ['compare', '--store', 'postgres://root:hunter2@127.0.0.1:1/test', '--modes', 'locked'],
    ['bench', '--pg', 'postgres://root:hunter2@127.0.0.1:5432/no_such_db_ace'],
    ['bench', '--pg', 'postgres://root:hunter2@127.0.0.1:1/test'],
  ]) {
    const r = await cliHere(args);
    assertOneLineError(t, r, 'postgres://', ':***@');
    t.false(r.stderr.includes('hunter2'));
  }
  // node-postgres also takes the password from the query string.
  for (const args of [
    ['audit', '--store', 'postgres://root@127.0.0.1:5432/no_such_db_ace?password=hunter2'],
    ['bench', '--pg', 'postgres://root@127.0.0.1:5432/no_such_db_ace?sslpassword=hunter2&password=hunter2'],
  ]) {
    const r = await cliHere(args);
    assertOneLineError(t, r, 'postgres://', 'password=***');
    t.false(r.stderr.includes('hunter2'), r.stderr);
  }
  t.deepEqual(await readdir(dir), [], 'export created nothing');
});
