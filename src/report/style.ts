/** The page's stylesheet, inlined: readable on screen, clean on paper. */
export const STYLE = `
:root { --bad: #b3261e; --bad-bg: #fde7e4; --warn: #7a5a00; --warn-bg: #fff4cf; --ok: #1e6b34; --ok-bg: #e3f4e7; --muted: #5f6368; --rule: #dadce0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #202124; margin: 0 auto; max-width: 1100px; padding: 24px 32px 64px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 40px 0 8px; padding-top: 12px; border-top: 2px solid #202124; }
h3 { font-size: 16px; margin: 28px 0 8px; }
h4 { font-size: 14px; margin: 20px 0 6px; }
h5 { font-size: 13px; margin: 12px 0 4px; }
.meta, .note, figcaption { color: var(--muted); font-size: 13px; }
code, .id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 7px; text-align: right; vertical-align: top; }
th { background: #f1f3f4; font-weight: 600; }
th:first-child, td:first-child, td.text { text-align: left; }
td.bad { background: var(--bad-bg); color: var(--bad); font-weight: 700; }
td.warn { background: var(--warn-bg); color: var(--warn); font-weight: 700; }
.verdict { display: inline-block; padding: 4px 10px; border-radius: 4px; font-weight: 700; margin: 4px 0; }
.verdict.ok { background: var(--ok-bg); color: var(--ok); }
.verdict.bad { background: var(--bad-bg); color: var(--bad); }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.summary dt { color: var(--muted); }
dl.summary dd { margin: 0; }
figure { margin: 12px 0; }
figure svg { max-width: 100%; height: auto; }
ul.entries { margin: 4px 0 8px; padding-left: 20px; }
nav ul { columns: 2; padding-left: 20px; }
@media print {
  /* Long ids, paths and numbers wrap anywhere, so no table or line is wider than the paper. */
  body { max-width: none; padding: 0; font-size: 11px; overflow-wrap: anywhere; }
  th, td { padding: 3px 4px; }
  h2 { break-before: page; }
  h2:first-of-type { break-before: auto; }
  h3, h4 { break-after: avoid; }
  figure, tr, .verdict { break-inside: avoid; }
  nav { display: none; }
  td.bad, td.warn, .verdict, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
`;
