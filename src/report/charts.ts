/**
 * Vega-Lite specifications of the report's charts. Pure: data in, spec out;
 * svg.ts renders them. Each chart's marks are named, so the SVG groups them
 * under `<name>_marks` (what the browser test counts).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { LockSample } from './derive.js';
import type { LostBar } from './model.js';
import type { Timeline } from './timeline.js';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const CONFIG = { font: FONT, background: '#ffffff', view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 420 } };

/** Lost observations per domain, one bar per domain and group (mode, source or side). */
export function lostBarsSpec(bars: readonly LostBar[], groupTitle: string): TopLevelSpec {
  const groups = [...new Set(bars.map((b) => b.group))];
  return {
    config: CONFIG,
    width: { step: Math.max(24, Math.min(60, 180 / Math.max(1, groups.length))) },
    height: 220,
    data: { values: bars.map((b) => ({ ...b })) },
    layer: [
      {
        name: 'lost',
        mark: { type: 'bar', tooltip: false },
        encoding: {
          x: { field: 'domain', type: 'nominal', title: 'Domain', axis: { labelAngle: 0 } },
          xOffset: { field: 'group', type: 'nominal', sort: groups },
          y: { field: 'lost', type: 'quantitative', title: 'Lost observations', axis: { tickMinStep: 1 } },
          color: { field: 'group', type: 'nominal', title: groupTitle, sort: groups, scale: { scheme: 'tableau10' } },
        },
      },
      {
        mark: { type: 'text', dy: -6, fontSize: 10 },
        encoding: {
          x: { field: 'domain', type: 'nominal' },
          xOffset: { field: 'group', type: 'nominal', sort: groups },
          y: { field: 'lost', type: 'quantitative' },
          text: { field: 'lost', type: 'quantitative' },
        },
      },
    ],
  };
}

/** Each episode on its process/thread lane: play and think time as a wide bar, the commit up to acknowledgement as a thin dark one. */
export function timelineSpec(t: Timeline): TopLevelSpec {
  const rows = t.bars.map((b) => ({ ...b, failed: b.status !== 'ok' }));
  const y = { field: 'lane', type: 'nominal' as const, title: null, sort: t.lanes, axis: { labelLimit: 240 } };
  return {
    config: CONFIG,
    width: 760,
    height: { step: 26 },
    data: { values: rows },
    layer: [
      {
        name: 'play',
        mark: { type: 'bar', height: { band: 0.7 }, stroke: '#ffffff', strokeWidth: 0.5 },
        encoding: {
          y,
          x: { field: 'start', type: 'quantitative', title: 'ms since the run began scheduling', scale: { domain: [Math.floor(t.startupMs), Math.ceil(t.spanMs)], zero: false } },
          x2: { field: 'played' },
          color: { field: 'domain', type: 'nominal', title: 'Domain', scale: { scheme: 'tableau10' } },
        },
      },
      {
        name: 'commit',
        // Translucent: under group commit an episode's commit overlaps the next episodes played on its thread.
        mark: { type: 'bar', height: { band: 0.2 }, color: '#222222', opacity: 0.55 },
        encoding: { y, x: { field: 'played', type: 'quantitative' }, x2: { field: 'acked' } },
      },
      {
        name: 'failed',
        transform: [{ filter: 'datum.failed' }],
        mark: { type: 'point', shape: 'cross', color: '#c0392b', size: 60, filled: true },
        encoding: { y, x: { field: 'acked', type: 'quantitative' } },
      },
    ],
  };
}

/** Every merge's lock wait and hold, per domain, on a symlog axis (most are tiny, a few are long). */
export function lockSpec(samples: readonly LockSample[]): TopLevelSpec {
  return {
    config: CONFIG,
    width: 560,
    height: { step: 18 },
    data: { values: samples.map((s) => ({ ...s })) },
    layer: [
      {
        name: 'lock',
        mark: { type: 'tick', thickness: 1.5, opacity: 0.7 },
        encoding: {
          y: { field: 'domain', type: 'nominal', title: null },
          yOffset: { field: 'kind', type: 'nominal', sort: ['wait', 'hold'] },
          x: { field: 'ms', type: 'quantitative', title: 'ms per merge (symlog scale)', scale: { type: 'symlog' } },
          color: { field: 'kind', type: 'nominal', title: 'Lock', sort: ['wait', 'hold'], scale: { range: ['#e15759', '#4e79a7'] } },
        },
      },
    ],
  };
}
