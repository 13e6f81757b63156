/**
 * What a JSON file given to `ace-orch report` is: a run manifest, or the
 * `--json` output of run, audit or compare. Pure: checks the shape and
 * throws a BadInputError naming the file when it is none of them.
 */
import type { DiffRow, ModeComparison } from '../core/compare.js';
import { BadInputError } from '../core/errors.js';
import type { AuditReport, DomainAudit, LockStats, RunManifest } from '../core/types.js';
import { parseManifest } from '../core/validate.js';

export type Classified =
  | { kind: 'manifest'; manifest: RunManifest }
  | { kind: 'run-json' | 'audit-json'; report: AuditReport; run?: { mode?: string; status?: string; timings?: RunManifest['timings']; contention?: Record<string, LockStats> } }
  | { kind: 'compare-json'; comparison: ModeComparison; stores?: string }
  | { kind: 'diff-json'; a: string; b: string; rows: DiffRow[]; regressed: boolean };

const EXPECTED = 'expected a store directory, a run manifest, or the --json output of run, audit or compare';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const COUNTS = ['episodeFiles', 'playbookObservations', 'lost', 'missingFiles', 'unexpected'] as const;

function checkDomains(value: unknown, file: string, where: string, needExpected: boolean): void {
  if (!Array.isArray(value)) throw new BadInputError(`${file}: ${where} is not an array (${EXPECTED})`, file);
  value.forEach((d, i) => {
    const keys = needExpected ? [...COUNTS, 'expected'] : COUNTS;
    if (!isRecord(d) || typeof d['domain'] !== 'string' || !keys.every((k) => typeof d[k] === 'number')) {
      throw new BadInputError(`${file}: ${where}[${i}] needs \`domain\` and the counts ${keys.join(', ')}`, file);
    }
  });
}

function auditOf(v: Record<string, unknown>): AuditReport {
  const domains = (v['domains'] as Record<string, unknown>[]).map(
    (d) =>
      ({
        ...d,
        episodesRun: typeof d['episodesRun'] === 'number' ? d['episodesRun'] : null,
        lostIds: Array.isArray(d['lostIds']) ? d['lostIds'] : [],
        missingIds: Array.isArray(d['missingIds']) ? d['missingIds'] : [],
        unexpectedIds: Array.isArray(d['unexpectedIds']) ? d['unexpectedIds'] : [],
        // Reports written before these were recorded.
        failed: typeof d['failed'] === 'number' ? d['failed'] : 0,
        failedIds: Array.isArray(d['failedIds']) ? d['failedIds'] : [],
        unreadableFiles: typeof d['unreadableFiles'] === 'number' ? d['unreadableFiles'] : 0,
        findings: Array.isArray(d['findings']) ? d['findings'] : [],
        playbookError: typeof d['playbookError'] === 'string' ? d['playbookError'] : null,
        ...(d['playbookIo'] === true ? { playbookIo: true } : {}),
        ...(d['playbookTorn'] === true ? { playbookTorn: true } : {}),
        ...(typeof d['episodesError'] === 'string' ? { episodesError: d['episodesError'] } : {}),
        ...(typeof d['playbookNote'] === 'string' ? { playbookNote: d['playbookNote'] } : {}),
        noPlaybook: d['noPlaybook'] === true,
        sections: isRecord(d['sections']) ? (d['sections'] as unknown as DomainAudit['sections']) : { duplicates: 0, duplicateEntries: [], lost: 0, lostEntries: [], lostExact: 0 },
      }) as DomainAudit,
  );
  return {
    runId: typeof v['runId'] === 'string' ? v['runId'] : null,
    store: typeof v['store'] === 'string' ? v['store'] : '',
    cap: typeof v['cap'] === 'number' ? v['cap'] : 0,
    capReason: typeof v['capReason'] === 'string' ? v['capReason'] : '',
    domains,
    zeroLoss: v['zeroLoss'] === true,
  };
}

export function classify(value: unknown, text: string, file: string): Classified {
  if (!isRecord(value)) throw new BadInputError(`${file}: not a JSON object (${EXPECTED})`, file);
  if ('run_id' in value) return { kind: 'manifest', manifest: parseManifest(text, file) };
  if (isRecord(value['modes'])) {
    for (const [mode, m] of Object.entries(value['modes'])) {
      if (!isRecord(m) || !Array.isArray(m['runs'])) throw new BadInputError(`${file}: modes.${mode} has no \`runs\` array`, file);
      m['runs'].forEach((r: unknown, i: number) => {
        if (!isRecord(r)) throw new BadInputError(`${file}: modes.${mode}.runs[${i}] is not an object`, file);
        checkDomains(r['domains'], file, `modes.${mode}.runs[${i}].domains`, false);
      });
    }
    return { kind: 'compare-json', comparison: { modes: value['modes'] as ModeComparison['modes'] }, ...(typeof value['stores'] === 'string' ? { stores: value['stores'] } : {}) };
  }
  if (typeof value['a'] === 'string' && typeof value['b'] === 'string' && Array.isArray(value['domains'])) {
    const rows = value['domains'] as unknown[];
    rows.forEach((r, i) => {
      const ok = isRecord(r) && typeof r['domain'] === 'string' && ['lost', 'missingFiles', 'unexpected'].every((k) => Array.isArray(r[k]) && (r[k] as unknown[]).length === 3);
      if (!ok) throw new BadInputError(`${file}: domains[${i}] needs \`domain\` and [A, B, Δ] for lost, missingFiles and unexpected`, file);
    });
    return { kind: 'diff-json', a: value['a'], b: value['b'], rows: rows as DiffRow[], regressed: value['regressed'] === true };
  }
  if (Array.isArray(value['domains']) && typeof value['zeroLoss'] === 'boolean') {
    checkDomains(value['domains'], file, 'domains', true);
    const report = auditOf(value);
    if (typeof value['mode'] !== 'string') return { kind: 'audit-json', report };
    const run = {
      mode: value['mode'],
      ...(typeof value['status'] === 'string' ? { status: value['status'] } : {}),
      ...(isRecord(value['timings']) ? { timings: value['timings'] as RunManifest['timings'] } : {}),
      ...(isRecord(value['contention']) ? { contention: value['contention'] as Record<string, LockStats> } : {}),
    };
    return { kind: 'run-json', report, run };
  }
  throw new BadInputError(`${file}: not a store, run manifest or report (${EXPECTED})`, file);
}
