#!/usr/bin/env node
/**
 * `npm run test:stress`: runs the whole suite (`npm test`) N times in a row
 * while busy loops keep every core at 100%, the way a CI machine shared with
 * other jobs is, and prints one summary line per run. Exits 1 if any run
 * failed. A test that depends on timing fails here long before it fails in CI.
 *
 *   npm run test:stress                  # 3 runs, one busy loop per core
 *   npm run test:stress -- --runs 1      # or STRESS_RUNS=1
 *   npm run test:stress -- --loops 4     # or STRESS_LOOPS=4
 *
 * Each run's full output goes to a log file named in its summary line.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: process.env.STRESS_RUNS ?? '3' },
    loops: { type: 'string', default: process.env.STRESS_LOOPS ?? String(availableParallelism()) },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run test:stress -- [--runs N (default 3, env STRESS_RUNS)] [--loops L (default: one per core, env STRESS_LOOPS)]');
  process.exit(0);
}
const count = (flag, text, min) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${flag}: Expected an integer >= ${min}, got \`${text}\``);
    process.exit(2);
  }
  return n;
};
const runs = count('runs', values.runs, 1);
const loops = count('loops', values.loops, 0);

// The busy loops are our own children, killed by pid when we finish or are interrupted.
const busy = Array.from({ length: loops }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
const stopBusy = () => {
  for (const child of busy) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
process.on('exit', stopBusy);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

/** Runs `npm test` once, its output to `log`; resolves with the exit code and the output. */
function runSuite(log) {
  return new Promise((resolve) => {
    const child = spawn('npm', ['test'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(log);
    let output = '';
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (d) => {
        output += d;
        file.write(d);
      });
    }
    child.on('close', (code) => file.end(() => resolve({ code, output })));
  });
}

/** "passed, 58 tests" or "FAILED: 1 test failed: name; name", from AVA's own summary lines. */
function summarize(code, output) {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const tally = [...plain.matchAll(/^\s*(\d+ (?:tests?|known failures?|uncaught exceptions?|unhandled rejections?) (?:passed|failed|skipped|timed out)?)/gm)].map((m) => m[1].trim());
  const failed = [...plain.matchAll(/^\s*✘ (?:\[fail\]: )?(.+)$/gm)].map((m) => m[1].trim());
  if (code === 0) return `passed (${tally.join(', ') || 'no AVA summary'})`;
  return `FAILED, exit ${code} (${tally.join(', ') || 'no AVA summary: see the log'})${failed.length ? `: ${[...new Set(failed)].join('; ')}` : ''}`;
}

const logs = await mkdtemp(join(tmpdir(), 'ace-test-stress-'));
console.log(`test:stress: ${runs} run(s) of npm test with ${loops} busy loop(s) on ${availableParallelism()} core(s); logs in ${logs}`);
let failures = 0;
for (let run = 1; run <= runs; run++) {
  const log = join(logs, `run-${run}.log`);
  const started = performance.now();
  const { code, output } = await runSuite(log);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (code !== 0) failures++;
  console.log(`run ${run}/${runs}: ${summarize(code, output)} in ${seconds} s; log ${log}`);
}
stopBusy();
console.log(failures ? `test:stress: ${failures} of ${runs} run(s) failed` : `test:stress: all ${runs} run(s) passed`);
process.exitCode = failures ? 1 : 0;
