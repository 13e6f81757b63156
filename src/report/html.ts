/**
 * The report as one self-contained HTML page: styles inline, charts as SVG
 * rendered when the report is made, no script, nothing fetched when opened.
 */
import { lostBarsSpec } from './charts.js';
import { diffBars, modeBars, sourceBars } from './derive.js';
import { esc } from './escape.js';
import { diffSection, lossSection, modesSection } from './loss-sections.js';
import type { LostBar, ReportModel, SourceView } from './model.js';
import { playbookSection } from './playbook-section.js';
import { runSection } from './run-section.js';
import { STYLE } from './style.js';
import { renderSvg } from './svg.js';

/** Marks a file as an ace-orch report: only such a file is overwritten by a new one. */
import { GENERATOR } from './output.js';

async function lostChart(bars: readonly LostBar[], groupTitle: string, what: string): Promise<string> {
  if (!bars.length) return '';
  const svg = await renderSvg(lostBarsSpec(bars, groupTitle), `Lost observations per domain and ${groupTitle.toLowerCase()}`);
  return `<figure class="lost-chart" data-bars="${bars.length}">${svg}<figcaption>Lost observations per domain and ${esc(what)}.</figcaption></figure>`;
}

async function sourceSection(source: SourceView, n: number): Promise<string> {
  const parts = [`<section class="source" id="source-${n}" data-kind="${source.kind}"><h2>${esc(source.label)}</h2>`];
  parts.push(`<p class="meta">${esc(KIND_TITLES[source.kind])}${source.storeDir ? ` · store <code>${esc(source.storeDir)}</code>` : ''}</p>`);
  if (source.loss) parts.push(`<h3>Loss table</h3>${lossSection(source.loss)}`);
  if (source.modes) parts.push(`<h3>Comparison of write modes</h3>${modesSection(source.modes)}${await lostChart(modeBars(source), 'Mode', 'write mode')}`);
  if (source.diff) parts.push(`<h3>A against B</h3>${diffSection(source.diff)}${await lostChart(diffBars(source), 'Report', 'report (A, B)')}`);
  if (source.runsOmitted) parts.push(`<p class="note">${source.runsOmitted} older runs of this source are not shown.</p>`);
  for (const [i, run] of source.runs.entries()) parts.push(await runSection(run, `source-${n}-run-${i}`));
  const unreadable = source.loss?.rows.filter((d) => d.playbookError).map((d) => d.domain) ?? [];
  if (source.playbooks.length || unreadable.length) {
    parts.push(`<h3>Playbooks as they stand</h3>`);
    for (const p of source.playbooks) parts.push(playbookSection(p.domain, p.playbook));
    for (const domain of unreadable) parts.push(`<p class="note bad">${esc(domain)}: its playbook cannot be read, so it is not shown (see the loss table).</p>`);
  }
  parts.push('</section>');
  return parts.join('\n');
}

const KIND_TITLES: Record<SourceView['kind'], string> = {
  store: 'Store: audited now, with its latest runs',
  manifest: 'Run manifest: the audit recorded at the end of the run',
  'run-json': 'ace-orch run --json output',
  'audit-json': 'ace-orch audit --json output',
  'compare-json': 'ace-orch compare --json output',
  'diff-json': 'ace-orch compare A B --json output',
};

export async function renderReport(model: ReportModel): Promise<string> {
  const sections: string[] = [];
  if (model.sources.length > 1) {
    const chart = await lostChart(sourceBars(model.sources), 'Source', 'source');
    if (chart) sections.push(`<section class="overview"><h2>Sources side by side</h2>${chart}</section>`);
  }
  for (const [i, s] of model.sources.entries()) sections.push(await sourceSection(s, i));
  const nav = model.sources.length > 1 ? `<nav><ul>${model.sources.map((s, i) => `<li><a href="#source-${i}">${esc(s.label)}</a></li>`).join('')}</ul></nav>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${GENERATOR}">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(model.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${esc(model.title)}</h1><p class="meta">Generated ${esc(model.generatedAt)} by ace-orch from ${model.sources.length} source${model.sources.length === 1 ? '' : 's'}.</p>${nav}</header>
${sections.join('\n')}
</body>
</html>
`;
}
