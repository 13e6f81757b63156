/** `ace-orch bench`: merge throughput and lock contention, measured on this machine. */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { runEpisodeRows } from '../../bench/episodes.js';
import type { EpisodeRow } from '../../bench/episodes.js';
import { runMatrix } from '../../bench/matrix.js';
import type { MatrixReport } from '../../bench/matrix.js';
import { runBench } from '../../bench/run-bench.js';
import { formatPgBench } from '../../bench/pg-format.js';
import type { BenchResult } from '../../bench/types.js';
import type { CommitMode } from '../../core/types.js';
import { BadInputError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { markdownTable } from '../format.js';
import { intFlag } from './flags.js';
import type { Io } from './io.js';

export interface BenchArgs {
  pg?: string;
  writers: number;
  processes: number;
  merges: number;
  commit: CommitMode;
  lock: boolean;
  baseline: boolean;
  playbookSize: number;
  matrix: boolean;
  wholeEpisodes: boolean;
  json: boolean;
}

export function benchBuilder<T>(y: Argv<T>) {
  return y
    .option('writers', { type: 'number', default: 4, coerce: intFlag('writers'), describe: 'Writer threads in all, spread over the processes' })
    .option('processes', { type: 'number', default: 1, coerce: intFlag('processes'), describe: 'OS processes the writers are spread over' })
    .option('merges', { type: 'number', default: 200, coerce: intFlag('merges'), describe: 'Observations each writer merges, as fast as it can' })
    .option('commit', { choices: ['each', 'batched', 'shared'] as const, default: 'each' as const, describe: 'each: one locked merge per observation; batched: group commit per process; shared: batched, and each lock holder folds the other processes\' pending batches' })
    .option('lock', { type: 'boolean', default: true, describe: '--no-lock: the unlocked read-modify-write (loses observations)' })
    .option('baseline', { type: 'boolean', default: false, describe: 'The original fix: a lock polled every 100 ms, re-read, merge, temp file and rename, no fsync' })
    .option('playbook-size', { type: 'number', default: 10, coerce: intFlag('playbook-size'), describe: 'Observations the playbook keeps (its cap)' })
    .option('matrix', { type: 'boolean', default: false, describe: 'Run the fixed matrix as tables: 5 processes (the original fix as baseline, each, batched, shared, and the unlocked floor), 1/4/8 threads × each/batched, merge cost vs episodes, audit time, whole episodes beside the durable-file floor' })
    .option('whole-episodes', { type: 'boolean', default: false, describe: 'Only whole episodes end to end beside the durable-file floor, the last table of --matrix (about 10 s idle): how this machine\'s CPU and disk compare' })
    .option('pg', { type: 'string', describe: 'postgres://… : merges/s into one PostgreSQL playbook from 5 processes (group commit) beside the file store, and episodes/s through pg-boss with 1, 2, 3 workers; on scratch schemas, dropped after' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as one JSON object on stdout' });
}

const ms = (s: { p50: number; p99: number; max: number }): string => `${s.p50} / ${s.p99} / ${s.max}`;

function resultTable(rows: { label: string; result: BenchResult; vsBaseline?: number | null }[]): string {
  return markdownTable(
    ['Config', 'Writers', 'Processes', 'Merges', 'Seconds', 'Merges/s', '× Baseline', 'Lock wait ms p50 / p99 / max', 'Lock hold ms p50 / p99 / max', 'Ack ms p50 / p99', 'Retries', 'Lost'],
    rows.map(({ label, result: r, vsBaseline }) => [
      label,
      r.writers,
      r.processes,
      r.merges,
      r.seconds,
      r.mergesPerSec,
      vsBaseline == null ? '' : `${vsBaseline}×`,
      ms(r.lockWaitMs),
      ms(r.lockHoldMs),
      `${r.ackMs.p50} / ${r.ackMs.p99}`,
      r.retries,
      r.lost,
    ]),
  );
}

function formatMatrix(m: MatrixReport): string {
  return [
    resultTable(m.rows),
    '',
    markdownTable(
      ['Episodes per domain', 'ms per merge (1 writer)'],
      m.costPerMerge.map((c) => [c.episodes, c.msPerMerge]),
    ),
    '',
    `audit of ${m.audit.episodeFiles.toLocaleString('en-US')} episode files: ${m.audit.seconds} s`,
    '',
    episodeTable(m.episodes),
    '',
    `load average (1 min): ${m.load.before} before, ${m.load.after} after`,
  ].join('\n');
}

function episodeTable(rows: readonly EpisodeRow[]): string {
  return markdownTable(
    ['Whole episodes (--episode-ms 0) and the file floor', 'per s', 'vs one by one', 'lost'],
    rows.map((e) => [e.label, e.perSec, e.vsOneByOne ?? '', e.lost]),
  );
}

export async function executeBench(args: BenchArgs, io: Io): Promise<number> {
  if (args.baseline && !args.lock) throw new BadInputError('--baseline and --no-lock name two different write paths; pick one');
  const whole = [args.matrix && '--matrix', args.wholeEpisodes && '--whole-episodes', args.pg !== undefined && '--pg'].filter(Boolean);
  if (whole.length > 1) throw new BadInputError(`${whole.join(' and ')} are separate benchmarks; run one at a time`);
  // Scratch stores of this invocation only, removed when it ends: no user data lives here.
  const scratch = await mkdtemp(join(tmpdir(), 'ace-bench-'));
  const machine = `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
  try {
    if (args.pg !== undefined) {
      const { runPgBench } = await import('../../bench/pg-bench.js');
      const r = await runPgBench(args.pg, scratch, (line) => io.progress(line));
      io.progress('');
      if (args.json) io.out(JSON.stringify({ machine, ...r }));
      else io.out(`ace-orch bench --pg on ${machine}\n\n${formatPgBench(r)}`);
      return r.merges.file.lost + r.merges.postgres.lost > 0 ? EXIT.loss : EXIT.ok;
    }
    if (args.wholeEpisodes) {
      const load = loadavg()[0]!;
      const rows = await runEpisodeRows(join(scratch, 'episodes'), (line) => io.progress(line));
      io.progress('');
      if (args.json) io.out(JSON.stringify({ machine, episodes: rows }));
      else io.out(`ace-orch bench --whole-episodes on ${machine}\n\n${episodeTable(rows)}\n\nload average (1 min): ${load.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`);
      return rows.some((e) => e.lost > 0) ? EXIT.loss : EXIT.ok;
    }
    if (args.matrix) {
      const m = await runMatrix(scratch, (line) => io.progress(line));
      io.progress('');
      if (args.json) io.out(JSON.stringify({ machine, ...m }));
      else io.out(`ace-orch bench --matrix on ${machine}\n\n${formatMatrix(m)}`);
      // The unlocked floor row loses by design (it is the pre-fix path); any other row losing is a defect.
      return m.rows.some((r) => r.result.lost > 0 && r.result.method !== 'unlocked') || m.episodes.some((e) => e.lost > 0) ? EXIT.loss : EXIT.ok;
    }
    const method = args.baseline ? 'baseline' : args.lock ? 'locked' : 'unlocked';
    io.progress(`bench: ${args.writers} writers × ${args.merges} merges ...`);
    const r = await runBench(join(scratch, 'store'), { writers: args.writers, processes: args.processes, merges: args.merges, commit: args.commit, method, playbookSize: args.playbookSize });
    io.progress('');
    if (args.json) {
      const { method: _m, ...shape } = r;
      io.out(JSON.stringify({ ...shape, method }));
    } else io.out(`ace-orch bench on ${machine}\n\n${resultTable([{ label: `${method}${method === 'locked' ? ` (${r.commit})` : ''}`, result: r }])}`);
    // Losing observations is expected only of the unlocked path, which exists to show it.
    return r.lost > 0 && method !== 'unlocked' ? EXIT.loss : EXIT.ok;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
