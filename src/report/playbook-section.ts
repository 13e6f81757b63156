/** A domain's playbook as it stands: kept observations, then the other sections' entries. Pure. */
import type { Playbook } from '../core/types.js';
import { SECTION_NAMES } from '../core/types.js';
import { esc, table } from './escape.js';

const SECTION_TITLES: Record<(typeof SECTION_NAMES)[number], string> = {
  strategies_and_rules: 'Strategies and rules',
  troubleshooting: 'Troubleshooting',
  context_patterns: 'Context patterns',
};

export function playbookSection(domain: string, playbook: Playbook): string {
  const obs = playbook.observations.map(
    (o, i) =>
      `<tr><td>${i + 1}</td><td class="text">${esc(o.reliability)}</td><td>${esc(o.score)}</td><td class="text id">${esc(o.episode_id)}</td><td class="text">${esc(o.reason)}</td></tr>`,
  );
  const sections = SECTION_NAMES.map((name) => {
    const entries = playbook[name];
    const items = entries.map((e) => `<li>${esc(e.content)} <span class="meta">— <code>${esc(e.source_episode)}</code></span></li>`);
    return `<h5>${SECTION_TITLES[name]} (${entries.length})</h5>${items.length ? `<ul class="entries">${items.join('')}</ul>` : '<p class="note">None.</p>'}`;
  });
  return (
    `<section class="playbook" data-domain="${esc(domain)}"><h4>${esc(domain)}: ${playbook.observations.length} observations kept</h4>` +
    `${obs.length ? table(['#', 'Reliability', 'Score', 'Episode', 'Reason'], obs, 'observations') : '<p class="note">No observations.</p>'}${sections.join('')}</section>`
  );
}
