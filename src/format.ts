/** Terminal rendering of reports. Pure: strings in, strings out. */
import type { AuditReport, DomainAudit, LockStats } from './types.js';

const COLUMNS: { title: string; value: (d: DomainAudit) => string | number }[] = [
  { title: 'Domain', value: (d) => d.domain },
  { title: 'Episodes Run', value: (d) => d.episodesRun ?? '' },
  { title: 'Episode Files', value: (d) => d.episodeFiles },
  { title: 'Playbook Observations', value: (d) => d.playbookObservations },
  { title: 'Lost', value: (d) => d.lost },
  { title: 'Expected', value: (d) => d.expected },
  { title: 'Missing Files', value: (d) => d.missingFiles },
  { title: 'Unexpected', value: (d) => d.unexpected },
];

/** A Markdown table with aligned columns: readable in a terminal, pasteable into an issue. */
export function markdownTable(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

function listIds(ids: string[], max = 5): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} and ${ids.length - max} more`;
}

export function formatAudit(report: AuditReport): string {
  const table = markdownTable(
    COLUMNS.map((c) => c.title),
    report.domains.map((d) => COLUMNS.map((c) => c.value(d))),
  );
  const lines = [table, ''];
  const scope = report.runId ? `run ${report.runId}` : `store ${report.store}`;
  const expected = report.domains.reduce((n, d) => n + d.expected, 0);
  if (report.zeroLoss) {
    lines.push(`Zero loss (${scope}): all ${expected} expected observations are in their playbooks; every episode run has its file.`);
  } else {
    lines.push(`LOSS (${scope}):`);
    for (const d of report.domains) {
      if (d.lost) lines.push(`  ${d.domain}: ${d.lost} of ${d.expected} expected observations missing from the playbook: ${listIds(d.lostIds)}`);
      if (d.missingFiles) lines.push(`  ${d.domain}: ${d.missingFiles} episodes ran without an episode file: ${listIds(d.missingIds)}`);
    }
  }
  for (const d of report.domains) {
    if (d.unexpected) lines.push(`warning: ${d.domain}: ${d.unexpected} playbook observations have no episode file: ${listIds(d.unexpectedIds)}`);
  }
  return lines.join('\n');
}

export function formatContention(byDomain: Record<string, LockStats>): string {
  const all = Object.values(byDomain);
  const count = all.reduce((n, s) => n + s.count, 0);
  if (count === 0) return 'lock: no merges';
  const max = (f: (s: LockStats) => number): number => Math.max(...all.map(f));
  const sum = (f: (s: LockStats) => number): number => all.reduce((n, s) => n + f(s), 0);
  const merges = sum((s) => s.merges ?? s.count);
  const extra = [
    sum((s) => s.refused ?? 0) && `${sum((s) => s.refused ?? 0)} refused by the fence`,
    sum((s) => s.foreignWrites ?? 0) && `${sum((s) => s.foreignWrites ?? 0)} foreign writes (another tool wrote the playbook; merges retried)`,
    sum((s) => s.reclaimed ?? 0) && `${sum((s) => s.reclaimed ?? 0)} stale locks reclaimed`,
  ].filter(Boolean);
  return (
    `lock: ${count} episodes in ${merges} merges; wait p50 ${max((s) => s.waitMs.p50)} ms, p99 ${max((s) => s.waitMs.p99)} ms, max ${max((s) => s.waitMs.max)} ms; ` +
    `hold p50 ${max((s) => s.holdMs.p50)} ms, p99 ${max((s) => s.holdMs.p99)} ms; ${sum((s) => s.retries)} retries${extra.length ? `; ${extra.join(', ')}` : ''} (worst domain shown)`
  );
}

/** The report as the `--json` object. */
export function auditJson(report: AuditReport): Record<string, unknown> {
  return {
    runId: report.runId,
    store: report.store,
    domains: report.domains.map((d) => ({
      domain: d.domain,
      episodesRun: d.episodesRun,
      episodeFiles: d.episodeFiles,
      playbookObservations: d.playbookObservations,
      expected: d.expected,
      lost: d.lost,
      missingFiles: d.missingFiles,
      unexpected: d.unexpected,
      lostIds: d.lostIds,
      missingIds: d.missingIds,
      unexpectedIds: d.unexpectedIds,
    })),
    zeroLoss: report.zeroLoss,
  };
}
