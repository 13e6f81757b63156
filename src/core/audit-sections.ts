/**
 * The audit of the three non-observation sections. Pure. Per section it
 * counts entries the playbook holds more than once (same `source_episode`
 * and `content`: the reference tool's merge re-appends entries it already
 * has) and entries an episode file stands for that the playbook does not
 * hold although the keep rule (the 10 most recent) would keep them.
 */
import { compareSectionEntries, SECTION_KEEP } from './merge.js';
import type { SectionEntry, SectionName } from './types.js';
import { SECTION_NAMES } from './types.js';

/** One section entry an episode file stands for. */
export interface FileSectionEntry {
  section: SectionName;
  entry: SectionEntry;
  /**
   * True when derived by the reference tool's rules from a file that records
   * no entries itself: its place in "the 10 most recent" is then approximate
   * (the reference keeps the last 10 by arrival, which no file records).
   */
  derived: boolean;
}

export interface SectionEntryRef {
  section: SectionName;
  source_episode: string;
  content: string;
}

export interface SectionsAudit {
  /** Extra copies: an entry held 3 times counts 2. */
  duplicates: number;
  duplicateEntries: (SectionEntryRef & { count: number })[];
  /** Entries within the keep rule that the playbook does not hold. */
  lost: number;
  lostEntries: (SectionEntryRef & { derived: boolean })[];
  /** Lost entries recorded by ace-orch's own episode files: the keep rule is exact for them, so they are real loss. */
  lostExact: number;
}

const keyOf = (e: { source_episode: unknown; content: unknown }): string => JSON.stringify([e.source_episode, e.content]);

function entriesOf(playbook: Record<string, unknown> | null, section: SectionName): SectionEntry[] {
  const v = playbook?.[section];
  return Array.isArray(v) ? (v as SectionEntry[]).filter((e) => typeof e === 'object' && e !== null) : [];
}

/**
 * `inScope` limits which episodes' lost entries are counted (a run-scoped
 * audit); the keep rule is still computed over the whole domain.
 */
export function auditSections(
  playbook: Record<string, unknown> | null,
  fromFiles: readonly FileSectionEntry[],
  inScope: (episodeId: string) => boolean = () => true,
  keep = SECTION_KEEP,
): SectionsAudit {
  const out: SectionsAudit = { duplicates: 0, duplicateEntries: [], lost: 0, lostEntries: [], lostExact: 0 };
  for (const section of SECTION_NAMES) {
    const held = entriesOf(playbook, section);
    const counts = new Map<string, { e: SectionEntry; n: number }>();
    for (const e of held) {
      const k = keyOf(e);
      const c = counts.get(k);
      if (c) c.n++;
      else counts.set(k, { e, n: 1 });
    }
    for (const { e, n } of counts.values()) {
      if (n < 2) continue;
      out.duplicates += n - 1;
      out.duplicateEntries.push({ section, source_episode: String(e.source_episode), content: String(e.content), count: n });
    }

    const files = new Map<string, FileSectionEntry>();
    for (const f of fromFiles) if (f.section === section && !files.has(keyOf(f.entry))) files.set(keyOf(f.entry), f);
    // The keep rule over everything that competes for the 10 places: the files' entries and what the playbook holds.
    const pool = new Map<string, SectionEntry>([...counts].map(([k, c]) => [k, c.e]));
    for (const [k, f] of files) if (!pool.has(k)) pool.set(k, f.entry);
    const kept = [...pool.entries()].sort(([, a], [, b]) => compareSectionEntries(a, b)).slice(0, keep);
    for (const [k] of kept) {
      const f = files.get(k);
      if (!f || counts.has(k) || !inScope(f.entry.source_episode)) continue;
      out.lost++;
      if (!f.derived) out.lostExact++;
      out.lostEntries.push({ section, source_episode: f.entry.source_episode, content: f.entry.content, derived: f.derived });
    }
  }
  return out;
}
