import test from 'ava';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadInputError } from '../src/core/errors.js';
import { isMolecular, unmergeableReason } from '../src/core/mergeable.js';
import { Store } from '../src/store/store.js';
import { cli } from './cli-helper.js';
import { deltasOf, obs, tempDir } from './helpers.js';

const molecule = (episode: string, i: number) => ({ ...obs(episode), molecule_id: `mol-${i}`, smiles: `C${i}` });

test('the reference tool molecular rule: a molecular key in one of the first three observations, at the top or in context', (t) => {
  t.true(isMolecular([obs('a'), { ...obs('b'), smiles: 'CCO' }]));
  t.true(isMolecular([{ ...obs('a'), context: { compound: 'x' } }]));
  t.false(isMolecular([obs('a'), obs('b'), obs('c'), { ...obs('d'), smiles: 'CCO' }]), 'only the first three, as the reference looks');
  t.false(isMolecular([]));
});

test('merging would collapse several different observations under one id; exact repeats are harmless', (t) => {
  t.is(unmergeableReason([obs('a'), obs('b')]), null);
  t.is(unmergeableReason([obs('a'), obs('a')]), null);
  t.regex(unmergeableReason([obs('a', 'HIGH', 0.5), obs('a', 'LOW', 0.2), obs('a', 'LOW', 0.3)])!, /under one episode_id \(`a` ×3\)/);
  t.regex(unmergeableReason([molecule('e1', 1), molecule('e1', 2)])!, /molecular mode/);
});

test('a molecular playbook stops a run before any episode is played, and every merge refuses it; the file keeps every byte; the audit says what it is', async (t) => {
  const store = await tempDir();
  const dir = join(store, 'domains', 'hot_pot');
  await mkdir(dir, { recursive: true });
  const body = `${JSON.stringify({ observations: [1, 2, 3, 4, 5, 6].map((i) => molecule(`e${i % 2}`, i)), strategies_and_rules: [], troubleshooting: [], context_patterns: [] }, null, 2)}\n`;
  await writeFile(join(dir, 'playbook.json'), body);
  const r = await cli(['run', '--domains', 'hot_pot', '--episodes', '2', '--store', store]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /^ace-orch: \S+playbook\.json holds observations in the reference tool's molecular mode .*; nothing was written\n$/);
  t.is(await readFile(join(dir, 'playbook.json'), 'utf8'), body);
  t.deepEqual(await readdir(dir), ['playbook.json'], 'no episode played, no file written');
  await t.throwsAsync(new Store(store, { cap: 100 }).merge('hot_pot', deltasOf(obs('new'))), { instanceOf: BadInputError, message: /molecular mode/ });
  t.is(await readFile(join(dir, 'playbook.json'), 'utf8'), body);
  const audit = await cli(['audit', '--store', store]);
  t.regex(audit.stdout, /^note: hot_pot: playbook\.json holds 6 observations under 2 episode ids \(counted by id here\); it holds observations in the reference tool's molecular mode .*: run and repair refuse to write it$/m);
});
