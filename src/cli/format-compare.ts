/** Terminal rendering of comparisons. Pure. */
import type { DiffRow, ModeComparison, Spread } from '../core/compare.js';
import { domainSpread } from '../core/compare.js';
import { markdownTable } from './format.js';

function cell(s: Spread, repeats: number): string {
  return repeats > 1 ? `${s.min}/${s.median}/${s.max}` : String(s.min);
}

export function formatModeComparison(c: ModeComparison, domains: readonly string[]): string {
  const modes = Object.keys(c.modes);
  const repeats = Math.max(...modes.map((m) => c.modes[m]!.runs.length));
  const headers = ['Domain', 'Episodes Run'];
  // Failed episodes owe no file: shown when there are any, so that fewer files than episodes is not read as loss.
  const failures = modes.some((m) => c.modes[m]!.runs.some((r) => r.domains.some((d) => (d.failed ?? 0) > 0)));
  for (const m of modes) headers.push(`${m} Episode Files`, `${m} Playbook Observations`, `${m} Lost`, ...(failures ? [`${m} Failed`] : []));
  const rows = domains.map((domain) => {
    const first = c.modes[modes[0]!]!.runs[0]?.domains.find((d) => d.domain === domain);
    const row: (string | number)[] = [domain, first?.episodesRun ?? ''];
    for (const m of modes) {
      const runs = c.modes[m]!.runs;
      // A mode that never ran (the compare was interrupted before it) has no figures: blank, not 0 lost.
      if (runs.length === 0) {
        row.push('', '', '', ...(failures ? [''] : []));
        continue;
      }
      row.push(cell(domainSpread(runs, domain, 'episodeFiles'), repeats), cell(domainSpread(runs, domain, 'playbookObservations'), repeats), cell(domainSpread(runs, domain, 'lost'), repeats));
      if (failures) row.push(cell(domainSpread(runs, domain, 'failed'), repeats));
    }
    return row;
  });
  const lines = [markdownTable(headers, rows)];
  if (repeats > 1) lines.push(`(cells are min/median/max over ${repeats} repeats)`);
  lines.push('');
  for (const m of modes) {
    const runs = c.modes[m]!.runs;
    const lost = runs.map((r) => r.domains.reduce((n, d) => n + d.lost + d.missingFiles, 0));
    const clean = runs.filter((r) => r.zeroLoss).length;
    lines.push(runs.length ? `${m}: ${clean} of ${runs.length} runs with zero loss; lost per run ${lost.join(', ')}` : `${m}: not run (the compare stopped before it)`);
  }
  // What the numbers are for: the pre-fix path is run to show the loss; the command's verdict is the locked mode's.
  if (modes.includes('unlocked')) lines.push('unlocked is the pre-fix read-modify-write without a lock: it is expected to lose observations.');
  if (modes.includes('locked')) lines.push('Exit 0 when every locked run lost nothing, 1 when one lost something.');
  return lines.join('\n');
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

export function formatDiff(rows: readonly DiffRow[], a: string, b: string): string {
  const v = (x: number | null): string => (x === null ? '' : String(x));
  const table = markdownTable(
    ['Domain', 'Lost A', 'Lost B', 'Δ Lost', 'Missing Files A', 'Missing Files B', 'Δ Missing', 'Unexpected A', 'Unexpected B', 'Δ Unexpected'],
    rows.map((r) => [r.domain, v(r.lost[0]), v(r.lost[1]), signed(r.lost[2]), v(r.missingFiles[0]), v(r.missingFiles[1]), signed(r.missingFiles[2]), v(r.unexpected[0]), v(r.unexpected[1]), signed(r.unexpected[2])]),
  );
  return `A: ${a}\nB: ${b}\n\n${table}`;
}
