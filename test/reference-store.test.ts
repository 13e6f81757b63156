import test from 'ava';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertOneLineError, cli, cliHere } from './cli-helper.js';
import { buildReferenceStore } from './fixtures/reference-store.js';
import { tempDir } from './helpers.js';

/** Every directory and file under root with its bytes: "every byte unchanged" is equality of two of these. */
async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        out[`${p}/`] = 'dir';
        await walk(p);
      } else out[p] = (await readFile(p)).toString('base64');
    }
  };
  await walk(root);
  return out;
}

const observationIds = async (root: string, domain: string): Promise<string[]> =>
  (JSON.parse(await readFile(join(root, 'domains', domain, 'playbook.json'), 'utf8')) as { observations: { episode_id: string }[] }).observations.map((o) => o.episode_id).sort();

test('run and repair into a reference store with a --cap below what a playbook holds refuse with exit 2 and change no byte', async (t) => {
  const { root, hotPotObservations } = await buildReferenceStore(await tempDir());
  const before = await tree(root);
  const playbook = join(root, 'domains', 'hot_pot', 'playbook.json');
  assertOneLineError(t, await cliHere(['run', '--episodes', '2', '--domains', 'hot_pot', '--cap', '12', '--store', root]), playbook, `holds ${hotPotObservations}`, `--cap ${hotPotObservations}`);
  assertOneLineError(t, await cliHere(['repair', '--cap', '12', '--store', root]), playbook, `--cap ${hotPotObservations}`);
  t.deepEqual(await tree(root), before);
});

test('without --cap a run into a reference store takes the cap its audit infers, keeps every prior observation and says so', async (t) => {
  const { root, hotPotObservations } = await buildReferenceStore(await tempDir());
  const prior = await observationIds(root, 'hot_pot');
  const r = await cli(['run', '--episodes', '2', '--domains', 'hot_pot', '--store', root, '--json']);
  t.true(r.code === 0 || r.code === 1, r.stderr);
  const cap = Math.max(100, hotPotObservations);
  t.regex(r.stderr, new RegExp(`this store records no cap \\(it was not created by ace-orch\\): using ${cap}`));
  const after = await observationIds(root, 'hot_pot');
  t.deepEqual(prior.filter((id) => !after.includes(id)), [], 'no prior observation dropped');
  t.is(after.length, prior.length + 2);
  t.is((JSON.parse(await readFile(join(root, 'metadata', 'store.json'), 'utf8')) as { cap: number }).cap, cap);
});

test('with --cap at least the playbook size the run keeps every prior observation and records the cap; a lower --cap later is refused', async (t) => {
  const { root, hotPotObservations } = await buildReferenceStore(await tempDir());
  const prior = await observationIds(root, 'hot_pot');
  const r = await cli(['run', '--episodes', '3', '--domains', 'hot_pot', '--cap', String(hotPotObservations + 5), '--store', root, '--json']);
  t.true(r.code === 0 || r.code === 1, r.stderr);
  const after = await observationIds(root, 'hot_pot');
  t.deepEqual(prior.filter((id) => !after.includes(id)), [], 'no prior observation dropped');
  t.is(after.length, hotPotObservations + 3);
  const meta = JSON.parse(await readFile(join(root, 'metadata', 'store.json'), 'utf8')) as { cap: number };
  t.is(meta.cap, hotPotObservations + 5);

  // The recorded cap is the default now; a lower one is refused naming both; a higher one is raised, said on stderr.
  const before = await tree(root);
  assertOneLineError(t, await cliHere(['run', '--episodes', '1', '--domains', 'hot_pot', '--cap', '10', '--store', root]), '--cap 10', `keeps ${hotPotObservations + 5}`);
  t.deepEqual(await tree(root), before);
  const raised = await cli(['run', '--episodes', '1', '--domains', 'hot_pot', '--cap', '40', '--store', root]);
  t.true(raised.stderr.includes(`cap raised from ${hotPotObservations + 5} to 40`), raised.stderr);
  t.is((JSON.parse(await readFile(join(root, 'metadata', 'store.json'), 'utf8')) as { cap: number }).cap, 40);
});

test('audit of a reference store: a row for every domain, findings instead of stopping, exit 1 for the torn playbook and the domain without one', async (t) => {
  const { root } = await buildReferenceStore(await tempDir());
  const r = await cliHere(['audit', '--store', root, '--json']);
  t.is(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as { cap: number; capReason: string; domains: { domain: string; unreadableFiles: number; findings: { used: boolean; problem: string }[]; playbookError: string | null; noPlaybook: boolean; lost: number; expected: number; sections: { duplicates: number } }[] };
  t.deepEqual(report.domains.map((d) => d.domain), ['chem_tile', 'hot_pot', 'hot_pot_controlled', 'switch_light']);
  const by = Object.fromEntries(report.domains.map((d) => [d.domain, d]));
  t.truthy(by['chem_tile']!.playbookError);
  t.like(by['hot_pot'], { unreadableFiles: 1, lost: 0, playbookError: null });
  t.true(by['hot_pot']!.findings.some((f) => !f.used && f.problem.includes('outcome')));
  t.true(by['hot_pot']!.findings.some((f) => f.used && f.problem.includes('null action')));
  t.is(by['hot_pot']!.sections.duplicates, 1);
  t.like(by['hot_pot_controlled'], { noPlaybook: true, lost: 2, expected: 2 });
  t.like(by['switch_light'], { lost: 0, unreadableFiles: 0 });
  t.is(report.cap, 100);
  t.regex(report.capReason, /records no cap/);

  const text = await cliHere(['audit', '--store', root]);
  t.is(text.code, 1);
  t.regex(text.stdout, /Unreadable Files/);
  t.regex(text.stdout, /hot_pot_controlled: episode files and no playbook\.json/);
  t.regex(text.stdout, /cap 100: this store records no cap/);

  // Without the torn and the missing playbook, the same store audits clean.
  await rm(join(root, 'domains', 'chem_tile'), { recursive: true });
  await rm(join(root, 'domains', 'hot_pot_controlled'), { recursive: true });
  t.is((await cliHere(['audit', '--store', root])).code, 0);
});

test('repair rebuilds a lost reference observation as the reference would, and restores its section entries', async (t) => {
  const { root } = await buildReferenceStore(await tempDir());
  await rm(join(root, 'domains', 'chem_tile'), { recursive: true });
  await rm(join(root, 'domains', 'hot_pot_controlled'), { recursive: true });
  const file = join(root, 'domains', 'hot_pot', 'playbook.json');
  const playbook = JSON.parse(await readFile(file, 'utf8')) as { observations: { episode_id: string }[] };
  const victim = playbook.observations.splice(4, 1)[0]!.episode_id; // i = 4: score 0.6, HIGH by the rules, no toggles
  await (await import('node:fs/promises')).writeFile(file, JSON.stringify(playbook, null, 2));
  t.is((await cliHere(['audit', '--store', root])).code, 1);

  const r = await cli(['repair', '--store', root, '--cap', '100', '--json']);
  t.is(r.code, 0, r.stdout + r.stderr);
  const repaired = JSON.parse(await readFile(file, 'utf8')) as { observations: Record<string, unknown>[] };
  const back = repaired.observations.find((o) => o['episode_id'] === victim)!;
  t.like(back, { reliability: 'HIGH', score: 0.6, beliefs: { heating_rate_mean: { value: 1.5, confidence: 0.25 } }, context: { power_setting: 'UNKNOWN' } });
  t.is((await cliHere(['audit', '--store', root])).code, 0);
});

test('a merge never cuts a playbook that holds more than its cap: it refuses, leaving the file byte-for-byte', async (t) => {
  const { root, hotPotObservations } = await buildReferenceStore(await tempDir());
  const file = join(root, 'domains', 'hot_pot', 'playbook.json');
  const before = await readFile(file, 'utf8');
  const { Store } = await import('../src/store/store.js');
  const { deltasOf, obs } = await import('./helpers.js');
  await t.throwsAsync(new Store(root).merge('hot_pot', deltasOf(obs('new'))), { message: new RegExp(`holds ${hotPotObservations} observations, more than the cap of 10`) });
  t.is(await readFile(file, 'utf8'), before);
  const ok = await new Store(root, { cap: hotPotObservations + 1 }).merge('hot_pot', deltasOf(obs('new')));
  t.true(ok.changed);
});

test("a user domain whose reflection rules throw on a file makes that file a finding, not a crash", async (t) => {
  const { registerDomain, registeredReflection } = await import('../src/domains/index.js');
  const { hotPot } = await import('../src/domains/hot_pot.js');
  const { readDomainState } = await import('../src/store/snapshot.js');
  const { Store } = await import('../src/store/store.js');
  const { referenceEpisode } = await import('./fixtures/reference-store.js');
  const { writeJson } = await import('./helpers.js');
  registerDomain({ ...hotPot, name: 'brittle', reflect: (tr) => ({ reliability: (tr.actions as string[]).map((a) => a.toLowerCase()) && 'HIGH', reason: '' }) });
  const root = await tempDir();
  await writeJson(join(root, 'domains', 'brittle', 'episodes', 'b.json'), referenceEpisode('b', [null], [], 0.5));
  const state = await readDomainState(new Store(root), 'brittle', registeredReflection);
  t.deepEqual(state.episodes, []);
  t.regex(state.findings![0]!.problem, /reflection rules failed/);
});

test('an experiment file whose cap is below the store\'s is refused naming the file\'s `cap`, not a --cap nobody typed', async (t) => {
  const dir = await tempDir();
  const store = join(dir, 'store');
  t.is((await cli(['run', '--domains', 'hot_pot', '--episodes', '1', '--cap', '20', '--store', store])).code, 0);
  const experiment = join(dir, 'exp.json');
  await writeFile(experiment, JSON.stringify({ domains: ['hot_pot'], episodes: 1, cap: 10 }));
  const before = await tree(store);
  assertOneLineError(t, await cliHere(['run', experiment, '--store', store]), `${experiment}: \`cap\` 10: this store keeps 20`, 'set its `cap` to 20 or more');
  assertOneLineError(t, await cliHere(['run', experiment, '--cap', '12', '--store', store]), '--cap 12: this store keeps 20', 'Leave out --cap to use the store\'s, or pass --cap 20 or more');
  t.deepEqual(await tree(store), before, 'nothing written');
});

test('a store with no recorded cap whose only playbook is torn is still another tool\'s: a run takes the reference cap, not a new store\'s 10', async (t) => {
  const store = join(await tempDir(), 'store');
  const torn = join(store, 'domains', 'hot_pot', 'playbook.json');
  await mkdir(join(store, 'domains', 'hot_pot'), { recursive: true });
  await writeFile(torn, '{"observations": [{"episode_id": "a", "sco');
  const r = await cli(['run', '--domains', 'chem_tile', '--episodes', '1', '--store', store]);
  t.true(r.code === 0 || r.code === 1, r.stderr);
  t.regex(r.stderr, /this store records no cap \(it was not created by ace-orch\): using 100/);
  t.is((JSON.parse(await readFile(join(store, 'metadata', 'store.json'), 'utf8')) as { cap: number }).cap, 100);
  t.is(await readFile(torn, 'utf8'), '{"observations": [{"episode_id": "a", "sco', 'the torn playbook is left as it was');
});
