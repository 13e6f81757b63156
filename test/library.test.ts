/** The library's entry points check what a JavaScript caller passes as the CLI checks its flags, and open any store --store opens. */
import test from 'ava';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadInputError, CapRefusedError } from '../src/core/errors.js';
import { audit, repair, runExperiment } from '../src/library.js';
import { registerDomain } from '../src/domains/index.js';
import { hotPot } from '../src/domains/hot_pot.js';
import { pathToFileURL } from 'node:url';
import { fixtureFile, tempDir } from './helpers.js';
import { freshUrl, pgTest } from './pg-test.js';

test('a misspelt experiment key, a bad mode or commit, a missing store or a cap of 0 is refused before anything is written', async (t) => {
  const store = join(await tempDir(), 'store');
  const refused = async (run: Promise<unknown>, message: RegExp): Promise<void> => {
    const err = await t.throwsAsync(run, { instanceOf: BadInputError });
    t.regex(err!.message, message);
  };
  await refused(runExperiment({ store, experiment: { episdoes: 3 } as never }), /options\.experiment: unknown experiment key `episdoes`; expected .*episodes/);
  await refused(runExperiment({ store, mode: 'bogus' as never }), /options\.mode: Expected one of `locked`, `unlocked`, got `"bogus"`/);
  await refused(runExperiment({ store, commit: 'bogus' as never }), /options\.commit: Expected one of `each`, `batched`, `shared`/);
  await refused(runExperiment({ experiment: { episodes: 1 } } as never), /store: Expected a Store, a directory or a postgres:\/\/ URL, got `undefined`/);
  await refused(audit(store, { cap: 0 }), /options\.cap.*positive integer.*got `0`/);
  await refused(repair(store, { cap: -1 }), /options\.cap.*positive integer/);
  await refused(runExperiment({ store, runId: '../elsewhere' }), /options\.runId: Expected letters, digits/);
  // A field is named as the library takes it, not as its flag.
  await refused(runExperiment({ store, experiment: { retryDelayMs: -1 } }), /^options\.experiment: Expected `retryDelayMs` to be a non-negative integer/);
  t.false(existsSync(store), 'nothing written');
});

test('a domain registered in this process only is refused before anything is written: worker threads could not play it', async (t) => {
  registerDomain({ ...hotPot, name: 'in_process_only' });
  const store = join(await tempDir(), 'store');
  const err = await t.throwsAsync(runExperiment({ store, experiment: { domains: ['in_process_only'], episodes: 1 } }), { instanceOf: BadInputError });
  t.regex(err!.message, /`in_process_only` is registered in this process only; .*experiment\.modules/);
  t.false(existsSync(store));
});

pgTest('a postgres:// URL is opened as the PostgreSQL store it names, never taken for a directory', async (t) => {
  const url = await freshUrl(t);
  const cwdBefore = await readdir(process.cwd());
  const run = await runExperiment({ store: url, experiment: { domains: ['hot_pot'], episodes: 2, threads: 1 } });
  t.is(run.exitCode, 0);
  t.true(run.manifest.store?.startsWith('postgres://'), run.manifest.store);
  const report = await audit(url);
  t.like(report.domains.find((d) => d.domain === 'hot_pot'), { episodeFiles: 2, lost: 0 });
  const repaired = await repair(url);
  t.true(repaired.audit.zeroLoss);
  await t.throwsAsync(repair(url, { rebuild: true }), { instanceOf: BadInputError, message: /nothing to rebuild/ });
  t.deepEqual(await readdir(process.cwd()), cwdBefore, 'no directory named after the URL');
});

test('a domain a module registers as it is imported, beside its export, is one worker threads can play', async (t) => {
  const dir = await tempDir();
  const registry = new URL('../src/domains/index.js', import.meta.url).href;
  const module = join(dir, 'two-domains.mjs');
  await writeFile(
    module,
    `import { registerDomain, findDomain } from ${JSON.stringify(registry)};\n` +
      `const base = findDomain('hot_pot');\n` +
      `registerDomain({ ...base, name: 'side_effect_domain' });\n` +
      `export default { ...base, name: 'exported_domain' };\n`,
  );
  const run = await runExperiment({ store: join(dir, 'store'), experiment: { domains: ['side_effect_domain', 'exported_domain'], episodes: 1, threads: 1, modules: [module] } });
  t.is(run.exitCode, 0, JSON.stringify(run.manifest.episodes));
});

test("a refusal about a setting names the library's option, not the CLI's flag, and keeps its class", async (t) => {
  const store = await tempDir();
  t.is((await runExperiment({ store, experiment: { domains: ['hot_pot'], episodes: 1, cap: 10 } })).exitCode, 0);
  const lower = await t.throwsAsync(runExperiment({ store, experiment: { domains: ['hot_pot'], episodes: 1, cap: 5 } }), { instanceOf: CapRefusedError });
  t.regex(lower!.message, /^options\.experiment\.cap 5: this store keeps 10 observations per playbook \(recorded in .*\); a lower cap would drop observations it holds\. Leave out options\.experiment\.cap to use the store's, or set options\.experiment\.cap to 10 or more$/);
  const noRun = await t.throwsAsync(audit(store, { runId: 'no-such-run' }), { instanceOf: BadInputError });
  t.regex(noRun!.message, /^options\.runId: no run `no-such-run` in /);
  const shared = await t.throwsAsync(runExperiment({ store, mode: 'unlocked', commit: 'shared' }), { instanceOf: BadInputError });
  t.is(shared!.message, "options.commit 'shared' folds batches under the playbook lock; options.mode 'unlocked' takes none (use options.commit 'each' or options.commit 'batched')");
  const repairLower = await t.throwsAsync(repair(store, { cap: 1 }), { instanceOf: CapRefusedError });
  t.regex(repairLower!.message, /^options\.cap 1: .* Leave out options\.cap to use the store's, or set options\.cap to 10 or more$/);

  // A store that records no cap (another tool's), whose playbook holds more than the cap asked for.
  const foreign = await tempDir();
  t.is((await runExperiment({ store: foreign, experiment: { domains: ['hot_pot'], episodes: 3 } })).exitCode, 0);
  await rm(join(foreign, 'metadata'), { recursive: true });
  await rm(join(foreign, 'runs'), { recursive: true });
  const over = await t.throwsAsync(runExperiment({ store: foreign, experiment: { domains: ['hot_pot'], episodes: 1, cap: 2 } }), { instanceOf: BadInputError });
  t.regex(over!.message, /playbook\.json holds 3 observations, more than the cap of 2 .*; nothing was written\. To keep every observation, set options\.experiment\.cap to 3 or more$/);
});

test('an onEvent callback that throws stops the run, which is closed and audited, and runExperiment rejects with it', async (t) => {
  const store = await tempDir();
  const err = await t.throwsAsync(
    runExperiment({
      store,
      experiment: { domains: ['hot_pot'], episodes: 40, threads: 2 },
      onEvent: (e) => {
        if (e.type === 'episode') throw new Error('handler bug');
      },
    }),
  );
  t.regex(err!.message, /^options\.onEvent threw: handler bug; the run stopped \(\S+, interrupted\)$/);
  t.is((err!.cause as Error).message, 'handler bug');
  const [manifest] = await readdir(join(store, 'runs'));
  t.is(JSON.parse(await readFile(join(store, 'runs', manifest!), 'utf8')).status, 'interrupted');
});

test("runExperiment's store is said as options.store", async (t) => {
  const store = await tempDir();
  t.is((await runExperiment({ store, experiment: { domains: ['hot_pot'], episodes: 1 } })).exitCode, 0);
  const err = await t.throwsAsync(runExperiment({ store: join(store, 'domains'), experiment: { domains: ['hot_pot'], episodes: 1 } }), { instanceOf: BadInputError });
  t.regex(err!.message, /looks like a store's domains\/ directory .*; set options\.store to '[^']+', the store itself$/);
  t.false(err!.stack!.includes('--store'), 'the stack says what the message says');
});

test('runExperiment refuses, before anything is written, a bad onEvent or signal, an unknown option and a run id in use; an async onEvent that rejects stops the run and is the rejection', async (t) => {
  const store = join(await tempDir(), 'store');
  const experiment = { domains: ['hot_pot'], episodes: 1 };
  await t.throwsAsync(runExperiment({ store, experiment, onEvent: 5 as never }), { instanceOf: BadInputError, message: /^options\.onEvent: Expected a function, got `5`$/ });
  await t.throwsAsync(runExperiment({ store, experiment, signal: {} as never }), { instanceOf: BadInputError, message: /^options\.signal: Expected an AbortSignal/ });
  await t.throwsAsync(runExperiment({ store, experiment, episdoes: 3 } as never), { instanceOf: BadInputError, message: /^options: unknown option `episdoes`; expected store, experiment/ });
  await t.throwsAsync(runExperiment(undefined as never), { instanceOf: BadInputError, message: /^options: Expected an object/ });
  t.false(existsSync(store), 'nothing written');

  t.is((await runExperiment({ store, experiment, runId: 'mine' })).exitCode, 0);
  const manifest = await readFile(join(store, 'runs', 'mine.json'), 'utf8');
  await t.throwsAsync(runExperiment({ store, experiment, runId: 'mine' }), { instanceOf: BadInputError, message: /^options\.runId: run `mine` already exists in / });
  t.is(await readFile(join(store, 'runs', 'mine.json'), 'utf8'), manifest, "the first run's record is kept");

  const err = await t.throwsAsync(runExperiment({ store, experiment: { domains: ['hot_pot'], episodes: 20, threads: 2 }, onEvent: async (e) => { if (e.type === 'episode') throw new Error('async handler bug'); } }));
  t.regex(err!.message, /^options\.onEvent threw: async handler bug; the run stopped/);
});

test('two modules of one experiment exporting one domain name are refused, naming both', async (t) => {
  const a = pathToFileURL(fixtureFile('twin-a.mjs')).href;
  const b = pathToFileURL(fixtureFile('twin-b.mjs')).href;
  await t.throwsAsync(runExperiment({ store: join(await tempDir(), 'both'), experiment: { domains: ['twin'], episodes: 2, threads: 1, episodeMs: 0, modules: [a, b] } }), {
    instanceOf: BadInputError,
    // Imported at once: whichever loads second is the one named first.
    message: /twin-[ab]\.mjs: exports domain `twin`, as \S+twin-[ab]\.mjs does; give one of them another name/,
  });
});
