/** One run's part of the page: summary, timeline, lock contention, failures. Charts are rendered here. */
import { lockSpec, timelineSpec } from './charts.js';
import { failureRows, lockRows, lockSamples } from './derive.js';
import { esc, fmtMs, pct, summaryList, table } from './escape.js';
import type { RunView } from './model.js';
import { renderSvg } from './svg.js';
import { timelineOf } from './timeline.js';

function summary(run: RunView): string {
  const c = run.config;
  const count = (s: string): number => run.episodes.filter((e) => e.status === s).length;
  const episodes = run.episodes.length ? `${run.episodes.length} (${count('ok')} ok, ${count('failed')} failed, ${count('unknown')} unknown)` : undefined;
  return summaryList([
    ['Experiment', c?.name],
    ['Write mode', run.mode === 'unlocked' ? 'unlocked (the pre-fix write path)' : run.mode],
    ['Commit', run.mode === 'locked' ? run.commit : undefined],
    ['Status', run.status],
    ['Stop reason', run.stopReason],
    ['Episodes', episodes],
    ['Domains', c ? `${c.domains.join(', ')} × ${c.episodes} episodes` : undefined],
    ['Parallelism', c ? `${c.processes} process${c.processes > 1 ? 'es' : ''} × ${c.threads} thread${c.threads > 1 ? 's' : ''}${c.concurrency !== undefined && c.concurrency !== c.threads ? `, ${c.concurrency} episodes in flight per process` : ''}` : undefined],
    ['Think time', c ? `${c.episodeMs} ms per episode` : undefined],
    ['Seed, cap', c ? `${c.seed}, ${c.cap}` : undefined],
    ['Started', run.startedAt],
    ['Finished', run.finishedAt],
    ['Wall time', run.timings ? `${run.timings.seconds} s (${run.timings.episodesPerSec} episodes/s)` : undefined],
  ]);
}

async function timelineFigure(run: RunView): Promise<string> {
  const t = timelineOf(run);
  if (!t) return '<p class="note">No timeline: this run recorded no per-episode traces (written by an older ace-orch, or no episode finished).</p>';
  const svg = await renderSvg(timelineSpec(t), `Timeline of run ${run.runId}`);
  const r = run.timings;
  // The run's own figures, as `ace-orch run` printed them, when its manifest has them: the timeline's thread lanes
  // are not the run's lanes when more episodes are in flight than there are threads.
  const measured = r?.efficiency !== undefined && r.efficiencyAfterStartup !== undefined && r.startupSeconds !== undefined;
  const efficiency =
    measured
      ? `Efficiency ${pct(r.efficiencyAfterStartup!)} from the first episode's start, ${pct(r.efficiency!)} counting the ${fmtMs(r.startupSeconds! * 1000)} of worker start-up before it, as the run measured it: the episodes' play time / (wall time × ${r.lanes ?? r.concurrency} lanes, the episodes in flight at most). ` +
        `On the ${t.capacity} thread lanes drawn, an episode was held between its start and its acknowledgement ${pct(t.occupancy)} of the time from the first start (the rest is idle). `
      : `Efficiency ${pct(t.efficiency)}: from the first start to the last acknowledgement (${fmtMs(t.spanMs - t.startupMs)}), the ${t.capacity} lanes spent ${fmtMs(t.playMs)} playing episodes; ` +
        `they held an episode between its start and its acknowledgement ${pct(t.occupancy)} of that time (the rest is idle). ` +
        `The first episode started ${fmtMs(t.startupMs)} after scheduling began (worker start-up); counting that, ${pct(t.overallEfficiency)}. `;
  // A resumed run's timeline spans its invocations and the time between them, each invocation on its own lanes.
  const resumed = run.resumedAt?.length
    ? `This run was resumed ${run.resumedAt.length === 1 ? 'once' : `${run.resumedAt.length} times`}: the timeline spans its invocations and the time between them, each on its own process's lanes, so its idle share counts that time too; the run's own figures above are its last invocation's. `
    : '';
  const caption =
    efficiency +
    resumed +
    'Coloured bar: play and think time; dark bar: episode file, lock wait and merge up to acknowledgement; red cross: failed.' +
    (t.untraced ? ` ${t.untraced} episodes carry no trace and are not drawn.` : '');
  return `<figure class="timeline" data-episodes="${t.bars.length}" data-efficiency="${measured ? r.efficiencyAfterStartup : t.efficiency}" data-lanes="${t.lanes.length}">${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
}

async function lockPart(run: RunView): Promise<string> {
  if (run.mode === 'unlocked') return '<p class="note">The unlocked mode takes no lock: it overwrites the playbook without one, which is how it loses observations.</p>';
  const rows = lockRows(run);
  if (!rows.length) return '<p class="note">No lock statistics recorded.</p>';
  const body = rows.map(({ domain, stats: s, meanBatch, maxBatch }) => {
    const flag = (n: number, cls: string): string => `<td${n > 0 ? ` class="${cls}"` : ''}>${n}</td>`;
    return (
      `<tr data-domain="${esc(domain)}"><td class="text">${esc(domain)}</td><td>${s.count}</td><td>${s.merges ?? s.count}</td><td>${Math.round(meanBatch * 10) / 10}${maxBatch !== null ? ` / ${maxBatch}` : ''}</td>` +
      `<td>${s.waitMs.p50}</td><td>${s.waitMs.p99}</td><td>${s.waitMs.max}</td><td>${s.holdMs.p50}</td><td>${s.holdMs.p99}</td><td>${s.holdMs.max}</td>` +
      `${flag(s.retries, 'warn')}${flag(s.refused ?? 0, 'warn')}${flag(s.reclaimed ?? 0, 'warn')}</tr>`
    );
  });
  const headers = ['Domain', 'Episodes', 'Merges', 'Batch mean / max', 'Wait p50 ms', 'Wait p99 ms', 'Wait max ms', 'Hold p50 ms', 'Hold p99 ms', 'Hold max ms', 'Retries', 'Fence refusals', 'Stale reclaimed'];
  const samples = lockSamples(run);
  const chart = samples.length
    ? `<figure class="lock">${await renderSvg(lockSpec(samples), `Lock wait and hold of run ${run.runId}`)}<figcaption>Each tick is one episode's merge: how long it waited for the playbook lock (red) and held it (blue). A group commit's timing is shared by the episodes it carried.</figcaption></figure>`
    : run.episodes.length && !run.episodes.some((e) => e.status === 'ok')
      ? '<p class="note">No merges: no episode of this run was committed.</p>'
      : '<p class="note">No per-merge timings recorded in this run (older manifest, or the unlocked mode): the table has the percentiles only.</p>';
  return table(headers, body, 'lock') + chart;
}

function failuresPart(run: RunView): string {
  const rows = failureRows(run);
  if (!rows.length) return run.episodes.length ? '<p class="note">No episode failed or needed a retry.</p>' : '';
  const body = rows.map(
    (f) =>
      `<tr><td class="text id">${esc(f.episode)}</td><td class="text">${esc(f.domain)}</td><td>${f.index}</td><td class="${f.status === 'ok' ? 'text' : 'bad'}">${esc(f.status)}</td>` +
      `<td class="text"><code>${esc(f.code)}</code></td><td class="text">${esc(f.message)}</td><td>${f.attempts ?? ''}</td></tr>`,
  );
  return table(['Episode', 'Domain', 'Index', 'Status', 'Error code', 'Message', 'Attempts'], body, 'failures');
}

export async function runSection(run: RunView, anchor: string): Promise<string> {
  const title = `Run ${run.runId ?? '(no id)'}${run.mode ? ` — ${run.mode}` : ''}`;
  return (
    `<section class="run" id="${esc(anchor)}" data-run="${esc(run.runId ?? '')}"><h3>${esc(title)}</h3>${summary(run)}` +
    `<h4>Timeline</h4>${await timelineFigure(run)}` +
    `<h4>Lock contention</h4>${await lockPart(run)}` +
    `<h4>Failures and retries</h4>${failuresPart(run)}</section>`
  );
}
