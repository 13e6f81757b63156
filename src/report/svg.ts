/**
 * Renders a Vega-Lite spec to an SVG string in Node, when the report is made,
 * so the page needs no script and no network when opened. Vega's SVG renderer
 * needs no DOM and no canvas (text widths are estimated without one).
 */
import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec, title: string): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    // An accessible name for the chart, and a role screen readers announce.
    return svg.replace(/^<svg /, `<svg role="img" aria-label="${title.replace(/[&<>"]/g, '')}" `);
  } finally {
    view.finalize();
  }
}
