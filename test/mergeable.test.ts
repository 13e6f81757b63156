import test from 'ava';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadInputError } from '../src/core/errors.js';
import { isMolecular, unmergeableReason } from '../src/core/mergeable.js';
import { Store } from '../src/store/store.js';
import { cli } from './cli-helper.js';
import { deltasOf, episodeRecord, obs, tempDir } from './helpers.js';

const molecule = (episode: string, i: number) => ({ ...obs(episode), molecule_id: `mol-${i}`, smiles: `C${i}` });

test('the reference tool molecular rule: a molecular key in one of the first three observations, at the top or in context', (t) => {
  t.true(isMolecular([obs('a'), { ...obs('b'), smiles: 'CCO' }]));
  t.true(isMolecular([{ ...obs('a'), context: { compound: 'x' } }]));
  t.false(isMolecular([obs('a'), obs('b'), obs('c'), { ...obs('d'), smiles: 'CCO' }]), 'only the first three, as the reference looks');
  t.false(isMolecular([]));
});

test('merging would collapse several different observations under one id; exact repeats (in any key order) and molecular keys alone are harmless', (t) => {
  t.is(unmergeableReason([obs('a'), obs('b')]), null);
  t.is(unmergeableReason([obs('a'), obs('a')]), null);
  const o = obs('a');
  const reordered = Object.fromEntries(Object.entries(o).reverse()) as typeof o;
  t.is(unmergeableReason([o, reordered]), null, 'the same observation with its keys in another order');
  t.regex(unmergeableReason([obs('a', 'HIGH', 0.5), obs('a', 'LOW', 0.2), obs('a', 'LOW', 0.3)])!, /^holds different observations under one episode_id \(`a` ×3\)/);
  t.regex(unmergeableReason([molecule('e1', 1), molecule('e1', 2)])!, /under one episode_id \(the reference tool's molecular mode, .*\) \(`e1` ×2\)/);
  // An ace-orch domain whose context names a compound: one observation per id, nothing to collapse.
  const withContext = (id: string, compound: string) => ({ ...obs(id), context: { compound } }) as ReturnType<typeof obs>;
  t.is(unmergeableReason([withContext('x', 'NaCl'), withContext('y', 'KCl')]), null);
});

test('a molecular playbook stops a run before any episode is played, and every merge refuses it; the file keeps every byte; the audit says what it is', async (t) => {
  const store = await tempDir();
  const dir = join(store, 'domains', 'hot_pot');
  await mkdir(dir, { recursive: true });
  const body = `${JSON.stringify({ observations: [1, 2, 3, 4, 5, 6].map((i) => molecule(`e${i % 2}`, i)), strategies_and_rules: [], troubleshooting: [], context_patterns: [] }, null, 2)}\n`;
  await writeFile(join(dir, 'playbook.json'), body);
  const r = await cli(['run', '--domains', 'hot_pot', '--episodes', '2', '--store', store]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /^ace-orch: \S+playbook\.json holds different observations under one episode_id \(the reference tool's molecular mode, .*; nothing was written\n$/);
  t.is(await readFile(join(dir, 'playbook.json'), 'utf8'), body);
  t.deepEqual(await readdir(dir), ['playbook.json'], 'no episode played, no file written');
  await t.throwsAsync(new Store(store, { cap: 100 }).merge('hot_pot', deltasOf(obs('new'))), { instanceOf: BadInputError, message: /molecular mode/ });
  t.is(await readFile(join(dir, 'playbook.json'), 'utf8'), body);
  const audit = await cli(['audit', '--store', store]);
  t.regex(audit.stdout, /^note: hot_pot: playbook\.json holds 6 observations under 2 episode ids \(counted by id here\); it holds different observations under one episode_id \(the reference tool's molecular mode, .*: run and repair refuse to write it$/m);
  // An episode whose observation the playbook lacks: repair would merge it, refuses, and leaves no copy of the playbook behind.
  await mkdir(join(dir, 'episodes'), { recursive: true });
  await writeFile(join(dir, 'episodes', 'lost.json'), JSON.stringify(episodeRecord(obs('lost'))));
  const before = (await readdir(store, { recursive: true })).sort();
  const repair = await cli(['repair', '--store', store]);
  t.is(repair.code, 2, repair.stderr);
  t.regex(repair.stderr, /molecular mode/);
  t.deepEqual((await readdir(store, { recursive: true })).sort(), before, 'nothing written: no cap record, no copy, no folders');
  t.is(await readFile(join(dir, 'playbook.json'), 'utf8'), body);
});
