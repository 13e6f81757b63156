/** What users keep in and around a store that ace-orch did not write: never a stop, never overwritten, never taken for a store. */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readFile, readdir, rename, rm as rmPath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { tempDir } from './helpers.js';

async function storeWith(domains: string, episodes: number): Promise<string> {
  const store = join(await tempDir(), 'store');
  const r = await cli(['run', '--domains', domains, '--episodes', String(episodes), '--store', store]);
  if (r.code !== 0) throw new Error(r.stderr);
  return store;
}

const tree = (dir: string): string => execFileSync('find', [dir, '-exec', 'stat', '-c', '%n %s %Y', '{}', '+']).toString();

test('episode entries the system will not read as files are unreadable files, not a stop; a linked domain directory is audited', async (t) => {
  const store = await storeWith('hot_pot', 3);
  const episodes = join(store, 'domains', 'hot_pot', 'episodes');
  await symlink('/nonexistent/x.json', join(episodes, 'dangling.json'));
  await mkdir(join(episodes, 'a-directory.json'));
  // A named pipe: reading it would wait for a writer forever.
  execFileSync('mkfifo', [join(episodes, 'a-pipe.json')]);
  // A domain kept elsewhere and linked in.
  const elsewhere = await storeWith('switch_light', 2);
  await symlink(join(elsewhere, 'domains', 'switch_light'), join(store, 'domains', 'switch_light'));
  const r = await cliHere(['audit', '--store', store, '--json']);
  t.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const hot = report.domains.find((d: { domain: string }) => d.domain === 'hot_pot');
  t.like(hot, { episodeFiles: 3, unreadableFiles: 3, lost: 0 });
  const problems = Object.fromEntries(hot.findings.map((f: { file: string; problem: string }) => [f.file.split('/').at(-1), f.problem]));
  t.deepEqual(Object.keys(problems).sort(), ['a-directory.json', 'a-pipe.json', 'dangling.json']);
  t.is(problems['a-directory.json'], 'not a regular file');
  t.is(problems['a-pipe.json'], 'not a regular file');
  t.regex(problems['dangling.json'], /^cannot be read: ENOENT/);
  t.like(report.domains.find((d: { domain: string }) => d.domain === 'switch_light'), { episodeFiles: 2, playbookObservations: 2, lost: 0 });
});

test('an empty playbook.json is said in words of its own', async (t) => {
  const store = await storeWith('hot_pot', 1);
  await writeFile(join(store, 'domains', 'hot_pot', 'playbook.json'), '');
  const r = await cliHere(['audit', '--store', store]);
  t.is(r.code, 1);
  t.regex(r.stdout, /playbook cannot be read \(\S+playbook\.json: the file is empty \(playbook\)\); `ace-orch repair --rebuild`/);
});

test('a playbook or an episodes directory its user cannot read: the audit says so and claims no zero loss (exit 1); repair refuses (exit 2); nothing written', async (t) => {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv')) return void (t.log('SKIPPED: needs root and setpriv to run as another user'), t.pass());
  const asNobody = { cwd: '/', under: ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] };
  const store = await storeWith('hot_pot,chem_tile', 2);
  execFileSync('chmod', ['-R', 'a+rX', join(store, '..')]);
  await chmod(join(store, 'domains', 'hot_pot', 'episodes'), 0o700);
  await chmod(join(store, 'domains', 'chem_tile', 'playbook.json'), 0o600);
  await chmod(join(store, 'domains', 'chem_tile', 'metadata', 'stats.json'), 0o600);
  const before = tree(store);
  const audit = await cli(['audit', '--store', store], undefined, asNobody);
  t.is(audit.code, 1, audit.stderr);
  t.regex(audit.stdout, /^LOSS: hot_pot: its episode files cannot be listed \(EACCES: [^)]+\), so nothing of this domain was checked/m);
  t.regex(audit.stdout, /^LOSS: chem_tile: \S+playbook\.json cannot be read \(EACCES: [^)]+\); make it readable and audit again; nothing was changed$/m);
  t.notRegex(audit.stdout, /Zero loss|have no episode file/);
  const repair = await cli(['repair', '--store', store], undefined, asNobody);
  t.is(repair.code, 2, repair.stderr);
  t.regex(repair.stderr, /^ace-orch: \S+ cannot be (read|listed) \(EACCES: [^)]+\); make it readable and repair again\n$/);
  t.is(tree(store), before, 'nothing written');
  // A run into its readable domain: another tool's stats.json it cannot read is left as it was, with a warning, not an internal error.
  await chmod(join(store, 'domains', 'chem_tile', 'playbook.json'), 0o644);
  execFileSync('chmod', ['-R', 'a+w', store]);
  await chmod(join(store, 'domains', 'chem_tile', 'metadata', 'stats.json'), 0o600);
  const run = await cli(['run', '--domains', 'chem_tile', '--episodes', '1', '--store', store], undefined, asNobody);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /chem_tile: stats not updated \(\S+stats\.json cannot be read \(EACCES: [^)]+\); left as it was\)/);
});

test("run and repair refuse a store's domains/ directory (the reference tool's base path) in one line naming the store; nothing written", async (t) => {
  const store = await storeWith('hot_pot', 1);
  const domains = join(store, 'domains');
  const before = tree(store);
  for (const command of ['run', 'repair']) assertOneLineError(t, await cliHere([command, '--store', domains]), `store ${domains} looks like a store's domains/ directory`, `pass --store ${store}, the store itself`);
  t.is(tree(store), before);
  t.deepEqual(await readdir(domains), ['hot_pot']);
  // A project directory that happens to hold a playbook.json somewhere is no domains/ directory: a store is made in it.
  const project = await tempDir();
  await mkdir(join(project, 'notes'));
  await writeFile(join(project, 'notes', 'playbook.json'), '{}');
  t.is((await cli(['run', '--domains', 'hot_pot', '--episodes', '1', '--store', project])).code, 0);
  t.is(await readFile(join(project, 'notes', 'playbook.json'), 'utf8'), '{}');
});

test("a run adds its stats to another tool's stats.json and keeps its keys; one that is not a JSON object is left as it was, with a warning", async (t) => {
  const store = await storeWith('hot_pot', 1);
  const stats = join(store, 'domains', 'hot_pot', 'metadata', 'stats.json');
  await writeFile(stats, JSON.stringify({ total_episodes: 20, notes: 'kept by hand' }));
  t.is((await cli(['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store])).code, 0);
  t.like(JSON.parse(await readFile(stats, 'utf8')), { total_episodes: 20, notes: 'kept by hand', domain: 'hot_pot', runs: 1 });
  await rename(stats, `${stats}.bak`);
  await writeFile(stats, 'episodes: 20\n');
  const r = await cli(['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /hot_pot: stats not updated \(\S+stats\.json is not a JSON object ace-orch can add its stats to; left as it was\)/);
  t.is(await readFile(stats, 'utf8'), 'episodes: 20\n');
  // Its keys would be written back rounded (or NaN as null): left as it was too.
  const exact = '{"started_ns": 1732790000123456789}\n';
  await writeFile(stats, exact);
  const again = await cli(['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store]);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stderr, /hot_pot: stats not updated \(\S+stats\.json holds NaN, Infinity or an integer beyond 2\^53, which a write would change; left as it was\)/);
  t.is(await readFile(stats, 'utf8'), exact);
});

test('repair names the observations its re-merge ranks out of the playbook and keeps the playbook as it was; with nothing ranked out it keeps no copy', async (t) => {
  const store = join(await tempDir(), 'store');
  t.is((await cli(['run', '--domains', 'hot_pot', '--episodes', '6', '--cap', '3', '--store', store])).code, 0);
  const dir = join(store, 'domains', 'hot_pot');
  const playbookFile = join(dir, 'playbook.json');
  const playbook = JSON.parse(await readFile(playbookFile, 'utf8'));
  const held = new Set(playbook.observations.map((o: { episode_id: string }) => o.episode_id));
  const files = await readdir(join(dir, 'episodes'));
  const outside = JSON.parse(await readFile(join(dir, 'episodes', files.find((f) => !held.has(f.slice(0, -'.json'.length)))!), 'utf8')).outcome.observation;
  // The top observation lost (a crash before its merge, say), and one the cap had ranked out in its place.
  const lost = playbook.observations[0].episode_id as string;
  playbook.observations = [...playbook.observations.slice(1), outside];
  const edited = `${JSON.stringify(playbook, null, 2)}\n`;
  await writeFile(playbookFile, edited);

  const r = await cli(['repair', '--store', store, '--json']);
  t.is(r.code, 0, r.stderr);
  const [d] = JSON.parse(r.stdout).domains;
  t.deepEqual(d.recovered, [lost]);
  t.deepEqual(d.rankedOut, { observations: [outside.episode_id], sectionEntries: 0, entries: [] });
  t.is(await readFile(d.keptBefore, 'utf8'), edited, 'the playbook as it was, byte for byte');
  const text = await cli(['repair', '--store', store]);
  t.is(text.code, 0, text.stderr);
  t.notRegex(text.stdout, /ranked/, 'a second repair has nothing to do');
  t.is((await readdir(dir)).filter((n) => n.includes('before-repair')).length, 1, 'no copy when nothing was taken out');
});

test('observations without a score or a reliability, and a playbook without sections, are read as the reference tool reads them; a run keeps them as written', async (t) => {
  const store = await storeWith('hot_pot', 3);
  const file = join(store, 'domains', 'hot_pot', 'playbook.json');
  const playbook = JSON.parse(await readFile(file, 'utf8'));
  delete playbook.observations[0].score;
  delete playbook.observations[1].reliability;
  const [noScore, noReliability] = [playbook.observations[0].episode_id, playbook.observations[1].episode_id];
  delete playbook.context_patterns;
  await writeFile(file, JSON.stringify(playbook));
  const audit = await cliHere(['audit', '--store', store, '--json']);
  t.is(audit.code, 0, audit.stdout);
  t.like(JSON.parse(audit.stdout).domains[0], { playbookError: null, playbookObservations: 3, lost: 0 });

  t.is((await cli(['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store])).code, 0);
  const after = JSON.parse(await readFile(file, 'utf8'));
  const byId = new Map(after.observations.map((o: { episode_id: string }) => [o.episode_id, o]));
  t.false('score' in (byId.get(noScore) as object), 'written back as it was, without a score');
  t.false('reliability' in (byId.get(noReliability) as object));
  t.deepEqual(after.context_patterns, [], 'a section it lacked is written back empty');

  await writeFile(file, '{}');
  const empty = await cliHere(['audit', '--store', store, '--json']);
  t.like(JSON.parse(empty.stdout).domains[0], { playbookError: null, playbookObservations: 0, lost: 4 });
});

// Values Python's json.dump writes that a write from JavaScript would change: NaN (as null), integers beyond 2^53 (rounded).
for (const { what, literal, note, refusal } of [
  {
    what: "Python's NaN (a write would make it null)",
    literal: 'NaN',
    note: /"playbookNote":"holds 1 NaN or Infinity value \(Python's json\.dump writes them\), read here as null: run and repair refuse to write it/,
    refusal: /playbook\.json holds 1 NaN or Infinity value \(Python's json\.dump writes them; JSON cannot hold them\), which a write would turn into null; nothing was written/,
  },
  {
    what: 'an integer beyond 2^53 (a write would round it)',
    literal: '1732790000123456789',
    note: /"playbookNote":"holds 1 integer beyond 2\^53 or too large for a double \(Python writes integers of any size\), read here as the nearest double: run and repair refuse to write it/,
    refusal: /playbook\.json holds 1 integer beyond 2\^53 or too large for a double \(Python writes integers of any size\), which a write would store in other digits; nothing was written/,
  },
  {
    what: 'an integer too large for a double (a write would make it null)',
    literal: '1'.repeat(310),
    note: /"playbookNote":"holds 1 integer beyond 2\^53 or too large for a double/,
    refusal: /playbook\.json holds 1 integer beyond 2\^53 or too large for a double \(Python writes integers of any size\), which a write would store in other digits; nothing was written/,
  },
]) {
  test(`a playbook holding ${what} is audited as the reference reads it, with a note, and never written`, async (t) => {
    const store = await storeWith('hot_pot', 2);
    const file = join(store, 'domains', 'hot_pot', 'playbook.json');
    const playbook = JSON.parse(await readFile(file, 'utf8'));
    playbook.observations[0].beliefs = { value: '__PYTHON__' };
    const text = JSON.stringify(playbook, null, 2).replace('"__PYTHON__"', literal);
    await writeFile(file, text);
    const audit = await cliHere(['audit', '--store', store, '--json']);
    t.is(audit.code, 0, audit.stdout);
    t.like(JSON.parse(audit.stdout).domains[0], { playbookError: null, playbookObservations: 2, lost: 0 });
    t.regex(audit.stdout, note);
    for (const args of [['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store], ['repair', '--store', store]]) {
      const r = await cli(args);
      t.is(r.code, 2, `${args[0]}: ${r.stderr}`);
      t.regex(r.stderr, refusal);
      t.is(await readFile(file, 'utf8'), text, `${args[0]} left the file as it was`);
    }
  });
}

test("repair leaves lost an episode whose reference file holds a number a merge would change, says so, and recovers the rest", async (t) => {
  const store = join(await tempDir(), 'store');
  const episodes = join(store, 'domains', 'hot_pot', 'episodes');
  await mkdir(episodes, { recursive: true });
  const reference = (id: string, seedNs: string): string =>
    JSON.stringify({ episode_id: id, timestamp: '2026-11-28T10:00:00', trajectory: { actions: [], observations: [], final_beliefs: { seed_ns: '__NS__' } }, outcome: { score: 0.9 } }).replace('"__NS__"', seedNs);
  await writeFile(join(episodes, 'ref_ep_1.json'), reference('ref_ep_1', '1732790000123456789'));
  await writeFile(join(episodes, 'ref_ep_2.json'), reference('ref_ep_2', '17'));
  const said = await cli(['repair', '--store', store]);
  t.is(said.code, 1, said.stderr);
  t.regex(said.stdout, /^hot_pot: left lost 1 episode \(ref_ep_1\): its file holds NaN, Infinity or integers beyond 2\^53, which a merge would write into the playbook changed \(null, other digits\)$/m);
  const playbook = JSON.parse(await readFile(join(store, 'domains', 'hot_pot', 'playbook.json'), 'utf8'));
  t.deepEqual(playbook.observations.map((o: { episode_id: string }) => o.episode_id), ['ref_ep_2'], 'only the other episode was merged');
  const again = await cli(['repair', '--store', store, '--json']);
  t.is(again.code, 1, 'the audit still counts it lost');
  t.like(JSON.parse(again.stdout).domains[0], { recovered: [], notRecovered: ['ref_ep_1'] });
});

test('repair refuses a torn playbook before it writes anything, another domain included', async (t) => {
  const store = await storeWith('hot_pot,chem_tile', 2);
  const chem = join(store, 'domains', 'chem_tile', 'playbook.json');
  const playbook = JSON.parse(await readFile(chem, 'utf8'));
  playbook.observations = playbook.observations.slice(1);
  // chem_tile has an observation to recover; hot_pot is torn.
  await writeFile(chem, JSON.stringify(playbook));
  await writeFile(join(store, 'domains', 'hot_pot', 'playbook.json'), '{"observations": [');
  const before = tree(store);
  assertOneLineError(t, await cli(['repair', '--store', store]), 'hot_pot', '--rebuild', 'nothing was written');
  t.is(tree(store), before, 'chem_tile was not repaired first, nor anything recorded');
});

test('a playbook that is JSON with entries ace-orch cannot read is never rebuilt away: the audit and repair --rebuild leave it as it is', async (t) => {
  const store = await storeWith('hot_pot', 2);
  const file = join(store, 'domains', 'hot_pot', 'playbook.json');
  const playbook = JSON.parse(await readFile(file, 'utf8'));
  // The reference tool reads an integer id without complaint; ace-orch's merge keys observations by a string id.
  playbook.observations[0].episode_id = 1;
  await writeFile(file, JSON.stringify(playbook));
  const audit = await cliHere(['audit', '--store', store]);
  t.is(audit.code, 1, audit.stdout);
  t.regex(audit.stdout, /^LOSS: hot_pot: playbook cannot be read \(.*\); it is JSON ace-orch cannot read as a playbook, left as it is: no rebuild, which would drop what it holds$/m);
  t.notRegex(audit.stdout, /--rebuild/);
  const before = tree(store);
  for (const args of [['repair', '--store', store, '--rebuild'], ['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store]]) {
    assertOneLineError(t, await cli(args), file, 'leaves it as it is');
    t.is(tree(store), before, `${args[0]} wrote nothing`);
  }
});

test('a file where ace-orch keeps a directory, a directory where it keeps store.json: one line naming it, exit 2, nothing written', async (t) => {
  for (const [what, rel] of [
    ['metadata', 'metadata'],
    ['runs', 'runs'],
    ["a domain's episodes", 'domains/hot_pot/episodes'],
    ["a domain's metadata", 'domains/hot_pot/metadata'],
  ] as const) {
    const store = join(await tempDir(), 'store');
    await mkdir(join(store, 'domains', 'hot_pot'), { recursive: true });
    await writeFile(join(store, rel), 'x\n');
    const before = tree(store);
    for (const args of [['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store], ['repair', '--store', store]]) {
      assertOneLineError(t, await cli(args), `${join(store, rel)} is a file where ace-orch keeps a directory`, 'nothing was written');
      t.is(tree(store), before, `${args[0]} with ${what} a file wrote nothing`);
    }
  }
  const store = await storeWith('hot_pot', 1);
  const meta = join(store, 'metadata', 'store.json');
  await rename(meta, `${meta}.bak`);
  await mkdir(meta);
  for (const args of [['audit', '--store', store], ['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store]]) {
    assertOneLineError(t, await cli(args), `${meta} cannot be read (EISDIR`);
  }
});

test("a playbook.json that links to another file is audited through the link, and never replaced by a write", async (t) => {
  const store = await storeWith('hot_pot', 2);
  const file = join(store, 'domains', 'hot_pot', 'playbook.json');
  const shared = join(store, 'shared-hot_pot.json');
  await rename(file, shared);
  await symlink(shared, file);
  const audit = await cliHere(['audit', '--store', store]);
  t.is(audit.code, 0, audit.stdout);
  const text = await readFile(shared, 'utf8');
  for (const args of [['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store], ['repair', '--store', store]]) {
    assertOneLineError(t, await cli(args), `${file} is a symbolic link to ${shared}`, 'nothing was written');
    t.true((await lstat(file)).isSymbolicLink(), `${args[0]} kept the link`);
    t.is(await readFile(shared, 'utf8'), text);
  }
});

test("a playbook another tool wrote past the store's cap: the audit says so, as run and repair will refuse it", async (t) => {
  const store = await storeWith('hot_pot', 2);
  const file = join(store, 'domains', 'hot_pot', 'playbook.json');
  const playbook = JSON.parse(await readFile(file, 'utf8'));
  // The store records cap 10; the reference tool's saves took its playbook to 15.
  const extra = Array.from({ length: 13 }, (_, i) => ({ ...playbook.observations[0], episode_id: `ref_${i}` }));
  playbook.observations = [...playbook.observations, ...extra];
  await writeFile(file, JSON.stringify(playbook));
  const audit = await cliHere(['audit', '--store', store, '--json']);
  t.regex(audit.stdout, /"playbookNote":"holds 15 observations, more than the cap of 10: run and repair refuse to write it with that cap \(--cap 15 or more keeps them all\)/);
  const run = await cli(['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store]);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /15 observations, more than the cap of 10/);
});

test('repair --domains repairs the domains it names and leaves out one no write may touch; without it, the refusal says so', async (t) => {
  const store = await storeWith('hot_pot,chem_tile', 2);
  const hot = join(store, 'domains', 'hot_pot', 'playbook.json');
  const hotPlaybook = JSON.parse(await readFile(hot, 'utf8'));
  const lost = hotPlaybook.observations[0].episode_id as string;
  hotPlaybook.observations = hotPlaybook.observations.slice(1);
  await writeFile(hot, JSON.stringify(hotPlaybook));
  // chem_tile as the reference tool's molecular mode writes it: different observations under one id.
  const chem = join(store, 'domains', 'chem_tile', 'playbook.json');
  const chemPlaybook = JSON.parse(await readFile(chem, 'utf8'));
  chemPlaybook.observations.push({ ...chemPlaybook.observations[0], score: 0.01 });
  const chemText = JSON.stringify(chemPlaybook);
  await writeFile(chem, chemText);

  assertOneLineError(t, await cli(['repair', '--store', store]), chem, '`ace-orch repair --domains hot_pot` repairs the others without it');
  const r = await cli(['repair', '--store', store, '--domains', 'hot_pot', '--json']);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.deepEqual(out.domains.map((d: { domain: string }) => d.domain), ['hot_pot']);
  t.deepEqual(out.domains[0].recovered, [lost]);
  t.is(await readFile(chem, 'utf8'), chemText, 'chem_tile left as it was');
  assertOneLineError(t, await cli(['repair', '--store', store, '--domains', 'nope']), 'no domain `nope` to repair');

  // Nor does a domain left out refuse the repair for being past the cap, or a link.
  const dropFirst = async (file: string): Promise<void> => {
    const p = JSON.parse(await readFile(file, 'utf8'));
    p.observations = p.observations.slice(1);
    await writeFile(file, JSON.stringify(p));
  };
  chemPlaybook.observations = [...chemPlaybook.observations.slice(0, -1), ...Array.from({ length: 12 }, (_, i) => ({ ...chemPlaybook.observations[0], episode_id: `ref_${i}` }))];
  await writeFile(chem, JSON.stringify(chemPlaybook));
  await dropFirst(hot);
  const overCap = await cli(['repair', '--store', store, '--domains', 'hot_pot', '--json']);
  t.is(overCap.code, 0, overCap.stderr);
  t.is(JSON.parse(overCap.stdout).domains[0].recovered.length, 1);
  await rename(chem, `${chem}.real`);
  await symlink(`${chem}.real`, chem);
  await dropFirst(hot);
  const linked = await cli(['repair', '--store', store, '--domains', 'hot_pot', '--json']);
  t.is(linked.code, 0, linked.stderr);
  t.is(JSON.parse(linked.stdout).domains[0].recovered.length, 1);
});

test('links to nothing and a playbook that is a directory: the audit says so (exit 1), run refuses (exit 2) and keeps the link', async (t) => {
  const store = await storeWith('hot_pot,chem_tile', 1);
  const playbook = join(store, 'domains', 'hot_pot', 'playbook.json');
  await rename(playbook, `${playbook}.moved`);
  await symlink('/nonexistent/playbook.json', playbook);
  const episodes = join(store, 'domains', 'chem_tile', 'episodes');
  await rename(episodes, `${episodes}.moved`);
  await symlink('/nonexistent/episodes', episodes);
  const audit = await cliHere(['audit', '--store', store]);
  t.is(audit.code, 1, audit.stdout);
  t.regex(audit.stdout, /^LOSS: hot_pot: \S+playbook\.json is a symbolic link to \/nonexistent\/playbook\.json, which does not exist; make it readable/m);
  t.regex(audit.stdout, /^LOSS: chem_tile: its episode files cannot be listed \(\S+episodes is a symbolic link to \/nonexistent\/episodes, which does not exist\)/m);
  assertOneLineError(t, await cliHere(['run', '--domains', 'hot_pot', '--episodes', '1', '--store', store]), `${playbook} is a symbolic link to /nonexistent/playbook.json, which does not exist`);
  t.true((await lstat(playbook)).isSymbolicLink(), 'the link the user made is kept');

  const other = await storeWith('switch_light', 1);
  const asDir = join(other, 'domains', 'switch_light', 'playbook.json');
  await rename(asDir, `${asDir}.moved`);
  await mkdir(asDir);
  assertOneLineError(t, await cliHere(['run', '--domains', 'switch_light', '--episodes', '1', '--store', other]), `${asDir} cannot be read (EISDIR`);
});

test('a run manifest that cannot be read (a directory of its name, a dangling link) is one line naming it, exit 2; run writes nothing', async (t) => {
  const store = join(await tempDir(), 'store');
  const first = await cli(['run', '--store', store, '--domains', 'hot_pot', '--episodes', '1', '--episode-ms', '0']);
  t.is(first.code, 0, first.stderr);
  const before = await readdir(join(store, 'runs'));
  for (const [name, make] of [
    ['dir.json', (p: string) => mkdir(p)],
    ['dangling.json', (p: string) => symlink(join(store, 'nowhere'), p)],
  ] as const) {
    const path = join(store, 'runs', name);
    await make(path);
    assertOneLineError(t, await cliHere(['audit', '--store', store]), `${path}: run manifest cannot be read`);
    assertOneLineError(t, await cliHere(['run', '--store', store, '--domains', 'hot_pot', '--episodes', '1']), `${path}: run manifest cannot be read`);
    t.deepEqual((await readdir(join(store, 'runs'))).filter((n) => n !== name), before, 'no run was started');
    await rmPath(path, { recursive: true });
  }
});
