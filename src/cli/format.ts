/** Terminal rendering of reports. Pure: strings in, strings out. */

import { storeArg } from '../core/store-arg.js';
import { zeroLossSentence } from '../core/verdict.js';
import type { RetrySummary } from '../core/retries.js';
import type { AuditReport, DomainAudit, LockStats } from '../core/types.js';

/** `1 episode`, `2 episodes`. */
export const count = (n: number, noun: string): string => (n === 1 ? `${n} ${noun}` : /[^aeiou]y$/.test(noun) ? `${n} ${noun.slice(0, -1)}ies` : `${n} ${noun}${/(s|x|ch|sh)$/.test(noun) ? 'es' : 's'}`);

const COLUMNS: { title: string; value: (d: DomainAudit) => string | number }[] = [
  { title: 'Domain', value: (d) => d.domain },
  { title: 'Episodes Run', value: (d) => d.episodesRun ?? '' },
  { title: 'Episode Files', value: (d) => d.episodeFiles },
  { title: 'Playbook Observations', value: (d) => (d.playbookError ? 'unreadable' : d.noPlaybook ? 'no playbook' : d.playbookObservations) },
  { title: 'Lost', value: (d) => d.lost },
  { title: 'Expected', value: (d) => d.expected },
  { title: 'Missing Files', value: (d) => d.missingFiles },
  { title: 'Unexpected', value: (d) => d.unexpected },
  { title: 'Failed', value: (d) => d.failed ?? 0 },
  { title: 'Unreadable Files', value: (d) => d.unreadableFiles },
];

/** A Markdown table with aligned columns: readable in a terminal, pasteable into an issue. */
export function markdownTable(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

export function listIds(ids: string[], max = 5): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} and ${ids.length - max} more`;
}

/** `unfinished`: the audit covers a run with no final manifest (still running, or its process died). */
export function formatAudit(report: AuditReport, unfinished = false): string {
  const table = markdownTable(
    COLUMNS.map((c) => c.title),
    report.domains.map((d) => COLUMNS.map((c) => c.value(d))),
  );
  const lines = [table, ''];
  const scope = report.runId ? `run ${report.runId}` : `store ${report.store}`;
  const expected = report.domains.reduce((n, d) => n + d.expected, 0);
  if (report.zeroLoss) {
    lines.push(zeroLossSentence(scope, expected, report.domains.reduce((n, d) => n + (d.failed ?? 0), 0), unfinished));
  } else {
    lines.push(`LOSS (${scope}):`);
    for (const d of report.domains) {
      if (d.lost) lines.push(`  ${d.domain}: ${d.lost} of ${count(d.expected, 'expected observation')} missing from the playbook: ${listIds(d.lostIds)}`);
      if (d.missingFiles) lines.push(`  ${d.domain}: ${count(d.missingFiles, 'episode')} ran without an episode file: ${listIds(d.missingIds)}`);
    }
  }
  for (const d of report.domains) {
    const withFile = new Set(d.failedWithFileIds ?? []);
    const nothing = d.failedIds.filter((id) => !withFile.has(id));
    if (nothing.length) lines.push(`${d.domain}: ${count(nothing.length, 'episode')} failed (not lost: ${nothing.length === 1 ? 'it' : 'they'} wrote nothing): ${listIds(nothing)}`);
    // Failed after their files were written (a lock timeout at the merge, say): owed to the playbook until merged.
    const lost = new Set(d.lostIds);
    const unmerged = [...withFile].filter((id) => lost.has(id));
    const since = [...withFile].filter((id) => !lost.has(id));
    if (unmerged.length) {
      lines.push(`${d.domain}: ${count(unmerged.length, 'episode')} failed after writing ${unmerged.length === 1 ? 'its episode file' : 'their episode files'} (the merge did not complete); \`ace-orch repair --store ${storeArg(report.store)}\` merges ${unmerged.length === 1 ? 'it' : 'them'}: ${listIds(unmerged)}`);
    }
    if (since.length) lines.push(`${d.domain}: ${count(since.length, 'episode')} failed after writing ${since.length === 1 ? 'its episode file' : 'their episode files'}; nothing of ${since.length === 1 ? 'it' : 'theirs'} is missing now: ${listIds(since)}`);
  }
  for (const d of report.domains) {
    if (d.unexpected) lines.push(`warning: ${d.domain}: ${d.unexpected} playbook observations have no episode file: ${listIds(d.unexpectedIds)}`);
  }
  lines.push(...domainNotes(report));
  lines.push(`cap ${report.cap}: ${report.capReason}`);
  return lines.join('\n');
}

/**
 * What to do about a playbook ace-orch cannot read that the system can: a torn one `repair --rebuild` moves aside and
 * rebuilds from the episode files; one that is JSON holds what it holds, which a rebuild would drop.
 */
export function playbookAdvice(d: { playbookTorn?: boolean }): string {
  return d.playbookTorn
    ? '`ace-orch repair --rebuild` moves it aside and rebuilds it'
    : 'it is JSON ace-orch cannot read as a playbook, left as it is: no rebuild, which would drop what it holds';
}

/** What the audit found beyond the counts: unreadable playbooks and files, and the other sections. */
function domainNotes(report: AuditReport): string[] {
  const lines: string[] = [];
  for (const d of report.domains) {
    if (d.playbookError) {
      lines.push(
        d.playbookIo
          ? `LOSS: ${d.domain}: ${d.playbookError}; make it readable and audit again; nothing was changed`
          : `LOSS: ${d.domain}: playbook cannot be read (${d.playbookError}); ${playbookAdvice(d)}`,
      );
    }
    if (d.playbookNote) lines.push(`note: ${d.domain}: playbook.json ${d.playbookNote}`);
    if (d.lostByReferenceAlone) {
      lines.push(
        `note: ${d.domain}: ${d.lostByReferenceAlone} of the ${d.lost} lost the reference tool drops by itself, with no concurrency: saving its episodes one at a time in their files' order, it keeps a new observation only if it ranks in the top 10 of the playbook it loaded (merge_deltas, commit 5855295)`,
      );
    }
    if (d.episodesError) lines.push(`LOSS: ${d.domain}: its episode files cannot be listed (${d.episodesError}), so nothing of this domain was checked; make the directory readable and audit again`);
    if (d.noPlaybook) lines.push(`LOSS: ${d.domain}: episode files and no playbook.json: all ${d.expected} observations its episodes should have placed are lost`);
    const skipped = d.findings.filter((f) => !f.used);
    if (skipped.length) lines.push(`note: ${d.domain}: ${skipped.length} unreadable episode file${skipped.length === 1 ? '' : 's'} (not counted), e.g. ${skipped[0]!.file}: ${skipped[0]!.problem}`);
    const caveats = d.findings.filter((f) => f.used);
    if (caveats.length) lines.push(`note: ${d.domain}: ${caveats.length} episode file note${caveats.length === 1 ? '' : 's'}, e.g. ${caveats[0]!.file}: ${caveats[0]!.problem} (all in --json)`);
    const s = d.sections;
    if (s.duplicates) lines.push(`note: ${d.domain}: ${s.duplicates} duplicated section entr${s.duplicates === 1 ? 'y' : 'ies'} (same source_episode and content)`);
    if (s.lost) {
      const kind = s.lostExact ? `LOSS: ${s.lostExact} recorded by ace-orch episode files` : 'derived by the reference rules; placement approximate, not counted as loss';
      lines.push(`${s.lostExact ? 'LOSS' : 'note'}: ${d.domain}: ${s.lost} section entr${s.lost === 1 ? 'y' : 'ies'} within the keep rule missing from the playbook (${kind}): ${listIds(s.lostEntries.map((e) => `${e.section}/${e.source_episode}`))}`);
    }
  }
  return lines;
}

/** Times a merge found its lock busy and looked again: not episode retries. */
const lockRetries = (n: number): string => `${n} lock ${n === 1 ? 'retry' : 'retries'} (lock busy, looked again)`;

export function formatContention(byDomain: Record<string, LockStats>): string {
  const all = Object.values(byDomain);
  const total = all.reduce((n, s) => n + s.count, 0);
  if (total === 0) return 'lock: no merges';
  const max = (f: (s: LockStats) => number): number => Math.max(...all.map(f));
  const sum = (f: (s: LockStats) => number): number => all.reduce((n, s) => n + f(s), 0);
  const merges = sum((s) => s.merges ?? s.count);
  const extra = [
    sum((s) => s.refused ?? 0) && `${sum((s) => s.refused ?? 0)} refused by the fence`,
    sum((s) => s.foreignWrites ?? 0) && `${sum((s) => s.foreignWrites ?? 0)} foreign writes (another tool wrote the playbook; merges retried)`,
    sum((s) => s.reclaimed ?? 0) && `${sum((s) => s.reclaimed ?? 0)} stale locks reclaimed`,
  ].filter(Boolean);
  return (
    `lock: ${count(total, 'episode')} in ${count(merges, 'merge')}; wait p50 ${max((s) => s.waitMs.p50)} ms, p99 ${max((s) => s.waitMs.p99)} ms, max ${max((s) => s.waitMs.max)} ms; ` +
    `hold p50 ${max((s) => s.holdMs.p50)} ms, p99 ${max((s) => s.holdMs.p99)} ms (each figure the worst domain's); ${lockRetries(sum((s) => s.retries))}${extra.length ? `; ${extra.join(', ')}` : ''}`
  );
}

/**
 * The run's retries in one line, or null when nothing was retried. `rate` is the run's attempts per
 * second, if it set one: rate-limited failures without one are answered with the flag that prevents them.
 */
export function formatRetries(summary: RetrySummary | null, rate: number | undefined): string | null {
  if (!summary) return null;
  const { replayed, episodes, recovered, byCode, rateLimited } = summary;
  const failedAttempts = byCode.map((c) => `${c.code} ×${c.count}`).join(', ');
  const hint = rateLimited === 0 ? '' : rate === undefined ? `; ${rateLimited} of them read as rate limits: --rate N starts at most N attempts a second instead` : `; ${rateLimited} of them read as rate limits at --rate ${rate}: a lower --rate would spare them`;
  return `retries: ${count(replayed, 'attempt')} played again over ${count(episodes, 'episode')} (${recovered} then succeeded); failed attempts: ${failedAttempts}${hint}`;
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
      failed: d.failed ?? 0,
      failedIds: d.failedIds ?? [],
      failedWithFileIds: d.failedWithFileIds ?? [],
      lostIds: d.lostIds,
      missingIds: d.missingIds,
      unexpectedIds: d.unexpectedIds,
      unreadableFiles: d.unreadableFiles,
      findings: d.findings,
      playbookError: d.playbookError,
      ...(d.playbookIo ? { playbookIo: true } : {}),
      ...(d.playbookTorn ? { playbookTorn: true } : {}),
      episodesError: d.episodesError ?? null,
      ...(d.playbookNote ? { playbookNote: d.playbookNote } : {}),
      ...(d.lostByReferenceAlone ? { lostByReferenceAlone: d.lostByReferenceAlone } : {}),
      noPlaybook: d.noPlaybook,
      sections: d.sections,
    })),
    cap: report.cap,
    capReason: report.capReason,
    zeroLoss: report.zeroLoss,
  };
}
