/**
 * The package as a user gets it: `npm pack`, install the tarball into a fresh project, import the
 * API from JavaScript and TypeScript, run an experiment, run the `ace-orch` bin.
 *
 * The packed dist/ is the suite's own build of src/ and workers/ (dist-test/, compiled by `npm test`
 * with the project's compiler options, declarations included), so npm packs with --ignore-scripts
 * instead of compiling everything a second time in prepack; a test below holds prepack to the build.
 *
 * Offline and quick: the consumer's node_modules starts with hard links to this project's production
 * dependencies, so npm only adds the tarball. fs-ext goes in pristine and unbuilt, as npm unpacks it
 * (from the npm cache; the registry only if the cache lacks it), so the package's postinstall patches
 * and rebuilds a hoisted fs-ext as it does in a user's project; node-gyp's make step is
 * test/fixtures/make-reuse.mjs, which copies this project's addon when the patched sources are
 * identical to the ones it was built from instead of compiling them again.
 *
 * The project is packed from a copy, so nothing here touches the dist/ other tests may be running.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, link, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, tempDir } from './helpers.js';

const run = promisify(execFile);
const FIXTURES = join(ROOT, 'test', 'fixtures', 'consumer');
const LONG = 10 * 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: 'false', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

async function must(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Run> {
  const r = await sh(cmd, args, cwd, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return r;
}

/** This project at `copy` as `npm run build` leaves it (dist/ from the suite's build), its node_modules linked: what `npm pack` reads. */
async function projectCopy(copy: string): Promise<void> {
  const skip = new Set(['.git', 'node_modules', 'dist', 'dist-test', 'stores', 'memory']);
  for (const entry of await readdir(ROOT)) if (!skip.has(entry)) await cp(join(ROOT, entry), join(copy, entry), { recursive: true });
  for (const part of ['src', 'workers']) await cp(join(ROOT, 'dist-test', part), join(copy, 'dist', part), { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
}

/** fs-ext as npm unpacks it, at `app`'s node_modules/fs-ext: the version this project uses, unpatched and unbuilt. */
async function pristineFsExt(app: string, dir: string): Promise<void> {
  const { version } = JSON.parse(await readFile(join(ROOT, 'node_modules', 'fs-ext', 'package.json'), 'utf8')) as { version: string };
  const packed = await must('npm', ['pack', `fs-ext@${version}`, '--json', '--prefer-offline', '--pack-destination', dir], dir);
  const tarball = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  const target = join(app, 'node_modules', 'fs-ext');
  await mkdir(target, { recursive: true });
  await must('tar', ['xzf', tarball, '-C', target, '--strip-components=1'], dir);
}

/**
 * This project's installed production dependencies (top-level folders; nested ones come along), without
 * fs-ext, read from package-lock.json: `npm ls` misjudges a node_modules that is a symlink.
 */
async function productionDeps(): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev && !entry.devOptional)
    .map(([path]) => path.slice('node_modules/'.length))
    .filter((rel) => /^(@[^/]+\/)?[^/@]+$/.test(rel) && rel !== 'fs-ext' && existsSync(join(ROOT, 'node_modules', rel)));
}

/** `src`'s tree at `dst`: folders made, files hard-linked, symlinks recreated. */
async function linkTree(src: string, dst: string): Promise<void> {
  await mkdir(dst, { recursive: true });
  for (const entry of await readdir(src, { withFileTypes: true })) {
    const [from, to] = [join(src, entry.name), join(dst, entry.name)];
    if (entry.isDirectory()) await linkTree(from, to);
    else if (entry.isSymbolicLink()) await symlink(await readlink(from), to);
    else await link(from, to);
  }
}

/**
 * The dependencies into `target` as hard links to this project's files (npm replaces a package by moving
 * its folder aside, never by writing into its files), or as copies across file systems: about 35 MB
 * that fs.cp took some 3 s of CPU to copy.
 */
async function placeDeps(deps: string[], target: string): Promise<void> {
  const from = join(ROOT, 'node_modules');
  try {
    for (const rel of deps) await linkTree(join(from, rel), join(target, rel));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    // Links made before the failure go first: copying onto one would write into this project's file.
    await rm(target, { recursive: true, force: true });
    for (const rel of deps) await cp(join(from, rel), join(target, rel), { recursive: true });
  }
}

const setup = (async () => {
  const dir = await tempDir('ace-pack-');
  const app = join(dir, 'app');
  await mkdir(join(app, 'node_modules'), { recursive: true });
  const t0 = performance.now();
  const project = join(dir, 'project');
  await projectCopy(project);
  const packed = await must('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], project);
  const tarball = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  const t1 = performance.now();
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  await placeDeps(await productionDeps(), join(app, 'node_modules'));
  await pristineFsExt(app, dir);
  const installed = await must('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], app, {
    MAKE: join(ROOT, 'test', 'fixtures', 'make-reuse.mjs'),
    ACE_TEST_FS_EXT: join(ROOT, 'node_modules', 'fs-ext'),
  });
  const t2 = performance.now();
  for (const f of ['consumer.mjs', 'consumer.ts']) await cp(join(FIXTURES, f), join(app, f));
  // The README's library example, as written there, so it cannot drift from the API.
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const example = /## Use it as a library[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!example) throw new Error('README.md has no ```ts example under "Use it as a library"');
  await writeFile(join(app, 'readme-example.ts'), example);
  return { dir, app, tarball, installLog: installed.stdout + installed.stderr, packMs: t1 - t0, installMs: t2 - t1 };
})();
// Each test awaits it; an early failure must not surface as an unhandled rejection before they do.
setup.catch(() => {});

test.after.always(async () => {
  const { dir } = await setup.catch(() => ({ dir: undefined }));
  if (dir) await rm(dir, { recursive: true, force: true });
});

test.serial('npm pack ships the built library, its declarations, the bin and the fs-ext fix', async (t) => {
  t.timeout(LONG);
  const { tarball, installLog, packMs, installMs, app } = await setup;
  const gyp = installLog.includes('make-reuse:') ? 'fs-ext addon copied from this project' : 'fs-ext compiled';
  t.log(`npm pack ${Math.round(packMs / 1000)} s; consumer install ${Math.round(installMs / 1000)} s (${gyp})`);
  const { stdout } = await must('tar', ['tzf', tarball], ROOT);
  for (const f of ['package/dist/src/index.js', 'package/dist/src/index.d.ts', 'package/dist/src/bin.js', 'package/dist/workers/episode-worker.js', 'package/scripts/patch-fs-ext.mjs']) {
    t.true(stdout.includes(`${f}\n`), `${f} is in the tarball`);
  }
  t.false(/package\/(src|test)\//.test(stdout), 'sources and tests stay out of the tarball');
  t.regex(installLog, /fs-ext patched for worker threads and rebuilt/);
  const source = await readFile(join(app, 'node_modules', 'fs-ext', 'fs-ext.cc'), 'utf8');
  t.false(/f_\w+_symbol/.test(source), 'the consumer’s hoisted fs-ext is the patched one');
});

test('npm pack builds dist/ first: prepack runs the build, which compiles src/ and workers/ afresh', async (t) => {
  // The tarball above is packed from the suite's build; a user's `npm pack` or `npm publish` gets prepack's.
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; files: string[] };
  t.is(pkg.scripts['prepack'], 'npm run build --silent');
  t.is(pkg.scripts['build'], 'rm -rf dist && tsc -p .');
  const tsconfig = JSON.parse(await readFile(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown>; include: string[] };
  t.like(tsconfig.compilerOptions, { declaration: true, rootDir: '.', outDir: 'dist' });
  t.deepEqual(tsconfig.include, ['src', 'workers']);
  t.true(pkg.files.includes('dist'));
});

test.serial('importing the package starts nothing and prints nothing', async (t) => {
  t.timeout(LONG);
  const { app } = await setup;
  const r = await must(process.execPath, ['--input-type=module', '-e', "const m = await import('ace-orchestrator'); if (typeof m.runExperiment !== 'function') process.exit(9);"], app);
  t.is(r.stdout + r.stderr, '');
});

test.serial('plain JavaScript runs 2 domains × 3 episodes with zero loss, and the audit catches a dropped observation', async (t) => {
  t.timeout(LONG);
  const { app, dir } = await setup;
  const r = await must(process.execPath, ['consumer.mjs', join(dir, 'js-store')], app);
  const out = JSON.parse(r.stdout) as Record<string, any>;
  t.is(out['exitCode'], out['okCode']);
  t.is(out['status'], 'complete');
  t.true(out['zeroLoss']);
  t.is(out['episodeEvents'], 6);
  const expected = ['chem_tile', 'hot_pot'].map((domain) => ({ domain, files: 3, observations: 3, lost: 0 }));
  const byName = (ds: { domain: string }[]) => [...ds].sort((a, b) => a.domain.localeCompare(b.domain));
  t.deepEqual(byName(out['run']), expected);
  t.true(out['audit'].zeroLoss);
  t.deepEqual(byName(out['audit'].domains), expected);
  t.false(out['tampered'].zeroLoss);
  t.is(out['tampered'].domains.find((d: { domain: string }) => d.domain === 'hot_pot').lost, 1);
  t.like(out['bad'], { isBadInput: true, code: 'E_BAD_INPUT', exitCode: 2 });
  t.regex(out['bad'].message, /options\.experiment.*episodes/);
});

test.serial('TypeScript (a user module and the README example) type-checks against the shipped declarations', async (t) => {
  t.timeout(LONG);
  const { app } = await setup;
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
    },
    files: ['consumer.ts', 'readme-example.ts'],
  };
  await writeFile(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
  const r = await sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app);
  t.is(r.code, 0, r.stdout + r.stderr);
});

test.serial('the ace-orch bin prints its help and runs an experiment', async (t) => {
  t.timeout(LONG);
  const { app, dir } = await setup;
  const bin = join(app, 'node_modules', '.bin', 'ace-orch');
  const help = await must(bin, ['--help'], app);
  t.regex(help.stdout, /ace-orch <command> \[options\]/);
  const store = join(dir, 'bin-store');
  const r = await sh(bin, ['run', '--domains', 'hot_pot', '--episodes', '2', '--threads', '1', '--store', store, '--json'], app);
  t.is(r.code, 0, r.stderr);
  t.true((JSON.parse(r.stdout) as { zeroLoss: boolean }).zeroLoss);
  const audited = await sh(bin, ['audit', '--store', store], app);
  t.is(audited.code, 0, audited.stderr);
});
