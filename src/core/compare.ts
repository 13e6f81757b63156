/**
 * Comparing lost-observation counts: across write modes and repeats of one
 * experiment, and between two saved reports. Pure.
 */
import { BadInputError } from './errors.js';
import { quantile } from './stats.js';
import type { AuditReport, DomainAudit } from './types.js';

/** The per-domain numbers a comparison is made of: the audit's own fields. */
/** `failed`: absent in comparisons saved before it was counted. */
export type DomainCounts = Pick<DomainAudit, 'domain' | 'episodesRun' | 'episodeFiles' | 'playbookObservations' | 'lost' | 'missingFiles' | 'unexpected'> & Partial<Pick<DomainAudit, 'failed'>>;

export interface RunCounts {
  domains: DomainCounts[];
  zeroLoss: boolean;
}

export interface ModeComparison {
  modes: Record<string, { runs: RunCounts[] }>;
}

export function countsOf(report: AuditReport): RunCounts {
  return {
    domains: report.domains.map(({ domain, episodesRun, episodeFiles, playbookObservations, lost, missingFiles, unexpected, failed }) => ({
      domain,
      episodesRun,
      episodeFiles,
      playbookObservations,
      lost,
      missingFiles,
      unexpected,
      failed,
    })),
    zeroLoss: report.zeroLoss,
  };
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return { min: 0, median: 0, max: 0 };
  return { min: s[0]!, median: quantile(s, 50), max: s.at(-1)! };
}

/** A domain's value across a mode's repeats. */
export function domainSpread(runs: readonly RunCounts[], domain: string, field: keyof Omit<DomainCounts, 'domain' | 'episodesRun'>): Spread {
  return spread(runs.map((r) => r.domains.find((d) => d.domain === domain)?.[field] ?? 0));
}

/** Exit-code rule of `compare`: every locked run must have lost nothing. */
export function lockedRunsClean(c: ModeComparison): boolean {
  return (c.modes['locked']?.runs ?? []).every((r) => r.zeroLoss);
}

// ---- two saved reports ------------------------------------------------------

export interface SavedReport {
  label: string;
  domains: Pick<DomainCounts, 'domain' | 'lost' | 'missingFiles' | 'unexpected'>[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Accepts a run manifest (`runs/<id>.json`, with its `audit`) or the `--json`
 * output of `run` or `audit`.
 */
export function parseSavedReport(value: unknown, file: string): SavedReport {
  const report = isRecord(value) && isRecord(value['audit']) ? value['audit'] : value;
  if (!isRecord(report) || !Array.isArray(report['domains'])) {
    throw new BadInputError(`${file}: not a run or audit report (expected a run manifest, or the --json output of run or audit)`, file);
  }
  const domains = (report['domains'] as unknown[]).map((d, i) => {
    const ok = isRecord(d) && typeof d['domain'] === 'string' && ['lost', 'missingFiles', 'unexpected'].every((k) => typeof d[k] === 'number');
    if (!ok) throw new BadInputError(`${file}: domains[${i}] needs \`domain\`, \`lost\`, \`missingFiles\` and \`unexpected\``, file);
    return { domain: d['domain'] as string, lost: d['lost'] as number, missingFiles: d['missingFiles'] as number, unexpected: d['unexpected'] as number };
  });
  const runId = (isRecord(value) && (value['run_id'] ?? value['runId'])) || report['runId'];
  return { label: typeof runId === 'string' ? runId : file, domains };
}

export interface DiffRow {
  domain: string;
  lost: [number | null, number | null, number];
  missingFiles: [number | null, number | null, number];
  unexpected: [number | null, number | null, number];
}

/** Per-domain before/after/difference; a domain missing on one side counts as absent there. */
export function diffReports(a: SavedReport, b: SavedReport): DiffRow[] {
  const names = [...new Set([...a.domains, ...b.domains].map((d) => d.domain))];
  return names.map((domain) => {
    const x = a.domains.find((d) => d.domain === domain);
    const y = b.domains.find((d) => d.domain === domain);
    const cell = (k: 'lost' | 'missingFiles' | 'unexpected'): [number | null, number | null, number] => [x?.[k] ?? null, y?.[k] ?? null, (y?.[k] ?? 0) - (x?.[k] ?? 0)];
    return { domain, lost: cell('lost'), missingFiles: cell('missingFiles'), unexpected: cell('unexpected') };
  });
}

/** B regressed when any domain lost more observations or is missing more episode files than in A. */
export function regressed(rows: readonly DiffRow[]): boolean {
  return rows.some((r) => r.lost[2] > 0 || r.missingFiles[2] > 0);
}
