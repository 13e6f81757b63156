/** The `chaos` verdict: what was acknowledged, what survived, what was lost. Pure. */
import type { CommitMode, Playbook } from '../core/types.js';
import type { Ack } from './messages.js';

export interface ChaosCounts {
  episodesStarted: number;
  acknowledged: number;
  kills: number;
  killsInCriticalSection: number;
  /** Aimed at a fault point outside the lock (shared commits: batch-written, released, folded, before-check). */
  killsAtOtherPoints: number;
  killsAtRandomMoments: number;
  pauses: number;
  /** Aims at a fault point that no thread reached in time; each was retried on another writer. */
  aimsMissed: number;
  pauseMs: number;
  fenceRefusals: number;
  staleLocksReclaimed: number;
  commit: CommitMode;
  longestReclaimWaitMs: number;
  tornPlaybooks: number;
  acknowledgedLost: number;
  unexpected: number;
  recoveredByRepair: number;
  lostAfterRepair: number;
}

export interface ChaosReport extends ChaosCounts {
  ok: boolean;
  /** Errors writer threads reported (a lock timeout, say): any makes the run fail. */
  writerErrors: string[];
  tornFiles: string[];
  acknowledgedLostIds: string[];
  unexpectedIds: string[];
}

export interface DomainEvidence {
  domain: string;
  /** null when the playbook could not be read or validated: torn. */
  playbook: Playbook | null;
  file: string;
  episodeIds: Set<string>;
}

/**
 * Acknowledged observations must all be in their playbooks (chaos keeps every
 * observation, so nothing is ranked out); every playbook observation must
 * have an episode file; every playbook must parse.
 */
export function judge(acks: readonly Ack[], evidence: readonly DomainEvidence[]): Pick<ChaosReport, 'tornFiles' | 'acknowledgedLostIds' | 'unexpectedIds'> {
  const tornFiles = evidence.filter((e) => e.playbook === null).map((e) => e.file);
  const present = new Map(evidence.map((e) => [e.domain, new Set((e.playbook?.observations ?? []).map((o) => o.episode_id))]));
  const acknowledgedLostIds = acks.filter((a) => !present.get(a.domain)?.has(a.episode_id)).map((a) => a.episode_id);
  const unexpectedIds = evidence.flatMap((e) => (e.playbook?.observations ?? []).filter((o) => !e.episodeIds.has(o.episode_id)).map((o) => o.episode_id));
  return { tornFiles, acknowledgedLostIds, unexpectedIds };
}

/** Exit 0 only when nothing acknowledged was lost, nothing was torn and nothing appeared from nowhere. */
export function chaosOk(r: Pick<ChaosReport, 'tornPlaybooks' | 'acknowledgedLost' | 'unexpected' | 'lostAfterRepair'>): boolean {
  return r.tornPlaybooks === 0 && r.acknowledgedLost === 0 && r.unexpected === 0 && r.lostAfterRepair === 0;
}
