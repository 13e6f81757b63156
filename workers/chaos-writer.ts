/**
 * Piscina task for `chaos`: one writer thread that plays episodes round-robin
 * over the domains and persists each through the store (episode file, then
 * locked merge) until told to stop. When armed, it stops at the named fault
 * point inside the critical section and reports it, so the orchestrator can
 * kill or pause its process exactly there.
 */
import type { MessagePort } from 'node:worker_threads';
import { faultPark } from '../src/chaos/fault-park.js';
import type { CommitAsk, FromWriter, ToThread, WriterJob } from '../src/chaos/messages.js';
import { findDomain } from '../src/domains/index.js';
import { playEpisode } from '../src/core/episode.js';
import { openStore } from '../src/store/open.js';

export interface ChaosThreadTask {
  job: WriterJob;
  thread: number;
  port: MessagePort;
}

export default async function chaosWriter({ job, thread, port }: ChaosThreadTask): Promise<number> {
  let stopping = false;
  const park = faultPark((point, action) => post({ type: 'at-point', point, action }));
  port.on('message', (msg: ToThread) => {
    if (msg.type === 'stop') stopping = true;
    else if (msg.type === 'arm') park.arm(msg.action, msg.point);
    else if (msg.type === 'disarm') park.disarm();
    else if (msg.type === 'continue') park.release();
    else if (msg.type === 'committed') committed.get(msg.seq)?.(msg.error);
  });
  const post = (msg: FromWriter | CommitAsk): void => port.postMessage(msg);
  const committed = new Map<number, (error?: string) => void>();

  // A directory or a PostgreSQL URL: both backends reach the same three fault points in their merge.
  const store = await openStore(job.store, {
    cap: job.cap,
    lock: job.lock,
    // Many retries: a paused or killed holder can make a merge lose its lease more than once.
    maxAttempts: 50,
    faults: park.faults,
  });
  const runId = `chaos-${job.tag}-t${thread}`;
  let n = 0;
  while (!stopping) {
    const domainName = job.domains[n % job.domains.length]!;
    const domain = findDomain(domainName)!;
    const prior = await store.readPlaybook(domainName);
    const { record, deltas } = playEpisode({ runId, domain, index: n, seed: job.seed, prior: { ...prior, observations: prior.observations.slice(0, 10) }, now: new Date().toISOString() });
    post({ type: 'started' });
    if (job.commit !== 'each') {
      // The process's committer writes the episode file with its batch's, merges and acknowledges; this thread waits for its turn to go on.
      const error = await new Promise<string | undefined>((r) => {
        committed.set(n, r);
        post({ type: 'commit', seq: n, domain: domainName, episode_id: record.episode_id, deltas, record });
      });
      committed.delete(n);
      if (error) throw new Error(error);
      n++;
      continue;
    }
    await store.writeEpisode(domainName, record);
    const merge = await store.merge(domainName, deltas);
    // A short think time, as real episodes have, keeps the (never capped) playbooks from growing needlessly fast.
    await new Promise((r) => setTimeout(r, 5));
    post({ type: 'ack', ack: { episode_id: record.episode_id, domain: domainName, refused: merge.refused, reclaimed: merge.reclaimed, waitMs: merge.waitMs } });
    n++;
  }
  port.close();
  await store.close();
  return n;
}
