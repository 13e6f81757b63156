/**
 * One episode, as a pure function: (seed, domain, index, prior) -> the
 * episode record and the deltas it adds to the playbook. The worker does the I/O.
 */
import type { Domain, DomainPlay } from '../domains/domain.js';
import { createRng } from './rng.js';
import type { Rng } from './rng.js';
import type { Deltas, EpisodeFile, EpisodeRecord, Observation, Playbook, SectionEntry } from './types.js';

export interface EpisodeInput {
  runId: string;
  domain: Domain;
  index: number;
  seed: number;
  prior: Playbook;
  /** ISO 8601 time the episode started. */
  now: string;
}

/** An episode's durable record as its file holds it: indented JSON and a final newline, as the reference tool writes it. */
export function episodeFileText(record: EpisodeRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** The record itself, from either form (a store that keeps records as rows, not files, takes the record). */
export function episodeRecordOf(file: EpisodeRecord | EpisodeFile): EpisodeRecord {
  return 'text' in file ? (JSON.parse(file.text) as EpisodeRecord) : file;
}

/** The file's text, from either form: as the worker serialized it, or made from the record. */
export function episodeTextOf(file: EpisodeRecord | EpisodeFile): string {
  return 'text' in file ? file.text : episodeFileText(file);
}

/** Unique across runs and processes because run ids are; a timestamp never is. */
export function episodeId(runId: string, domain: string, index: number): string {
  return `${runId}-${domain}-${String(index).padStart(4, '0')}`;
}

/** The world depends on (seed, domain) only; the agent's actions also on the index. */
export function episodeRngs(seed: number, domain: string, index: number): { world: Rng; rng: Rng } {
  return { world: createRng(`${seed}:${domain}:world`), rng: createRng(`${seed}:${domain}:${index}`) };
}

/** Plays a synchronous domain (the built-in ones) and records the episode; an async `play` is refused. */
export function playEpisode(input: EpisodeInput): { record: EpisodeRecord; deltas: Deltas } {
  const { world, rng } = episodeRngs(input.seed, input.domain.name, input.index);
  const ctx = { episodeId: episodeId(input.runId, input.domain.name, input.index), index: input.index, attempt: 0, signal: new AbortController().signal, playbook: input.prior };
  const play = input.domain.play(world, rng, input.prior.observations, ctx);
  if (play instanceof Promise) throw new TypeError(`domain ${input.domain.name} plays asynchronously; run it through the worker pool`);
  return recordPlay(input, play);
}

/** The episode record and playbook deltas of a finished play. */
export function recordPlay(input: EpisodeInput, play: DomainPlay): { record: EpisodeRecord; deltas: Deltas } {
  const { domain, index, now } = input;
  const id = episodeId(input.runId, domain.name, index);
  const reflection = domain.reflect(play.trajectory);

  const observation: Observation = {
    episode_id: id,
    timestamp: now,
    score: play.score,
    beliefs: play.beliefs,
    context: { ...play.context, prior_observations: input.prior.observations.length },
    reliability: reflection.reliability,
    reason: reflection.reason,
    metadata: { patterns: play.patterns, failures: play.failures },
  };
  const strategies: SectionEntry[] = [];
  if (play.score > 0.8 && reflection.reliability === 'HIGH') {
    strategies.push({ content: play.lesson, confidence: play.score, source_episode: id, timestamp: now });
  }
  const troubleshooting: SectionEntry[] = [];
  if (play.score < 0.5) {
    const why = play.failures.length ? play.failures.join('; ') : `estimates far from the truth (score ${play.score})`;
    troubleshooting.push({ content: why, source_episode: id, timestamp: now });
  }
  const record: EpisodeRecord = {
    episode_id: id,
    timestamp: now,
    run_id: input.runId,
    domain: domain.name,
    index,
    trajectory: play.trajectory,
    // The full deltas, so `repair` can re-merge an episode that crashed before its merge.
    outcome: { score: play.score, observation, sections: { strategies_and_rules: strategies, troubleshooting, context_patterns: [] } },
  };
  return { record, deltas: { observations: [observation], strategies_and_rules: strategies, troubleshooting, context_patterns: [] } };
}
