/** The loss table, the mode comparison and the saved-report diff, as HTML. Pure. */
import { domainSpread } from '../core/compare.js';
import type { DomainAudit } from '../core/types.js';
import { zeroLossSentence } from '../core/verdict.js';
import { esc, table } from './escape.js';
import type { LossTable, SourceView } from './model.js';

/** The terminal table's columns, in its order; `flag` marks a cell to highlight. */
const COLUMNS: { field: keyof DomainAudit; title: string; flag?: 'bad' | 'warn' }[] = [
  { field: 'episodesRun', title: 'Episodes Run' },
  { field: 'episodeFiles', title: 'Episode Files' },
  { field: 'playbookObservations', title: 'Playbook Observations' },
  { field: 'lost', title: 'Lost', flag: 'bad' },
  { field: 'expected', title: 'Expected' },
  { field: 'missingFiles', title: 'Missing Files', flag: 'bad' },
  { field: 'unexpected', title: 'Unexpected', flag: 'warn' },
  { field: 'failed', title: 'Failed', flag: 'warn' },
  { field: 'unreadableFiles', title: 'Unreadable Files', flag: 'warn' },
];

function idList(label: string, ids: readonly string[]): string {
  if (!ids.length) return '';
  const shown = ids.slice(0, 20).map((id) => `<code>${esc(id)}</code>`).join(', ');
  return `<li>${esc(label)}: ${shown}${ids.length > 20 ? ` and ${ids.length - 20} more` : ''}</li>`;
}

export function lossSection(loss: LossTable): string {
  const rows = loss.rows.map((d) => {
    const cells = COLUMNS.map((c) => {
      // As the terminal table says it: a playbook that cannot be read, or is missing, has no count.
      if (c.field === 'playbookObservations' && (d.playbookError || d.noPlaybook)) return `<td data-field="${c.field}" class="bad">${d.playbookError ? 'unreadable' : 'no playbook'}</td>`;
      const v = d[c.field] as number | null;
      const cls = c.flag && typeof v === 'number' && v > 0 ? ` class="${c.flag}"` : '';
      return `<td data-field="${c.field}"${cls}>${esc(v ?? '')}</td>`;
    });
    return `<tr data-domain="${esc(d.domain)}"><td class="text">${esc(d.domain)}</td>${cells.join('')}</tr>`;
  });
  const expected = loss.rows.reduce((n, d) => n + d.expected, 0);
  const verdict = loss.zeroLoss
    ? `<p class="verdict ok" data-verdict="zero-loss">${esc(zeroLossSentence(loss.scope, expected, loss.rows.reduce((n, d) => n + (d.failed ?? 0), 0)))}</p>`
    : `<p class="verdict bad" data-verdict="loss">LOSS (${esc(loss.scope)})</p>`;
  const playbooks = loss.rows.map(
    (d) =>
      (d.playbookError
        ? `<li class="bad">${esc(d.domain)}: ${d.playbookIo ? `${esc(d.playbookError)}; make it readable and audit again; nothing was changed` : `playbook cannot be read (${esc(d.playbookError)}); ${d.playbookTorn ? '<code>ace-orch repair --rebuild</code> moves it aside and rebuilds it from the episode files' : 'it is JSON ace-orch cannot read as a playbook, left as it is: no rebuild, which would drop what it holds'}`}</li>`
        : d.noPlaybook
          ? `<li class="bad">${esc(d.domain)}: episode files and no playbook.json: all ${d.expected} observations its episodes should have placed are lost</li>`
          : '') +
      (d.episodesError ? `<li class="bad">${esc(d.domain)}: its episode files cannot be listed (${esc(d.episodesError)}), so nothing of this domain was checked</li>` : '') +
      (d.playbookNote ? `<li>${esc(d.domain)}: playbook.json ${esc(d.playbookNote)}</li>` : ''),
  );
  const ids = playbooks.join('') + loss.rows.map((d) => idList(`${d.domain} lost`, d.lostIds) + idList(`${d.domain} missing files`, d.missingIds) + idList(`${d.domain} unexpected`, d.unexpectedIds)).join('');
  return `${verdict}${table(['Domain', ...COLUMNS.map((c) => c.title)], rows, 'loss')}${ids ? `<ul class="entries">${ids}</ul>` : ''}`;
}

/** The `compare` table: per domain, each mode's files, observations and lost (min/median/max over repeats). */
export function modesSection(modes: NonNullable<SourceView['modes']>): string {
  const names = Object.keys(modes.comparison.modes);
  const repeats = Math.max(...names.map((m) => modes.comparison.modes[m]!.runs.length));
  const cell = (runs: Parameters<typeof domainSpread>[0], domain: string, field: 'episodeFiles' | 'playbookObservations' | 'lost', mode: string): string => {
    const s = domainSpread(runs, domain, field);
    const text = repeats > 1 ? `${s.min}/${s.median}/${s.max}` : String(s.min);
    return `<td data-mode="${esc(mode)}" data-field="${field}"${field === 'lost' && s.max > 0 ? ' class="bad"' : ''}>${text}</td>`;
  };
  const rows = modes.domains.map((domain) => {
    // A mode that never ran (the compare stopped before it) has no figures: blank, not 0 lost.
    const cells = names.flatMap((m) =>
      (['episodeFiles', 'playbookObservations', 'lost'] as const).map((f) => (modes.comparison.modes[m]!.runs.length ? cell(modes.comparison.modes[m]!.runs, domain, f, m) : `<td data-mode="${esc(m)}" data-field="${f}"></td>`)),
    );
    return `<tr data-domain="${esc(domain)}"><td class="text">${esc(domain)}</td>${cells.join('')}</tr>`;
  });
  const headers = ['Domain', ...names.flatMap((m) => [`${m} Episode Files`, `${m} Playbook Observations`, `${m} Lost`])];
  const verdicts = names.map((m) => {
    const runs = modes.comparison.modes[m]!.runs;
    return runs.length ? `<li>${esc(m)}: ${runs.filter((r) => r.zeroLoss).length} of ${runs.length} runs with zero loss</li>` : `<li>${esc(m)}: not run (the compare stopped before it)</li>`;
  });
  return `${table(headers, rows, 'modes')}${repeats > 1 ? `<p class="note">Cells are min/median/max over ${repeats} repeats; the chart shows the median.</p>` : ''}<ul class="entries">${verdicts.join('')}</ul>`;
}

export function diffSection(diff: NonNullable<SourceView['diff']>): string {
  const v = (x: number | null): string => (x === null ? '' : String(x));
  const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));
  const rows = diff.rows.map((r) => {
    const group = (k: 'lost' | 'missingFiles' | 'unexpected') =>
      `<td>${v(r[k][0])}</td><td>${v(r[k][1])}</td><td${r[k][2] > 0 ? ` class="${k === 'unexpected' ? 'warn' : 'bad'}"` : ''}>${signed(r[k][2])}</td>`;
    return `<tr data-domain="${esc(r.domain)}"><td class="text">${esc(r.domain)}</td>${group('lost')}${group('missingFiles')}${group('unexpected')}</tr>`;
  });
  const headers = ['Domain', 'Lost A', 'Lost B', 'Δ Lost', 'Missing Files A', 'Missing Files B', 'Δ Missing', 'Unexpected A', 'Unexpected B', 'Δ Unexpected'];
  const verdict = diff.regressed ? '<p class="verdict bad">B loses more than A: regression.</p>' : '<p class="verdict ok">B loses no more than A.</p>';
  return `<p>A: <code>${esc(diff.a)}</code><br>B: <code>${esc(diff.b)}</code></p>${verdict}${table(headers, rows, 'diff')}`;
}
