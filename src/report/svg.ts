/**
 * Renders a Vega-Lite spec to an SVG string in Node, when the report is made,
 * so the page needs no script and no network when opened. Vega's SVG renderer
 * needs no DOM and no canvas (text widths are estimated without one).
 */
import type { TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec, title: string): Promise<string> {
  // Loaded when a chart is drawn: every other command (and `run` without --report) starts without them.
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    // An accessible name for the chart, and a role screen readers announce.
    return svg.replace(/^<svg /, `<svg role="img" aria-label="${title.replace(/[&<>"]/g, '')}" `);
  } finally {
    view.finalize();
  }
}
