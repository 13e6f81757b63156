/**
 * Entry point of a shard process in a multi-process run: receives its share
 * of the episodes over IPC, plays them on its own Piscina pool, and reports
 * every start and outcome back to the coordinator.
 */
import { describeError } from '../core/errors.js';
import type { FromShard, ToShard } from './messages.js';
import { sendToParent } from './parent-ipc.js';
import { remoteGate } from './rate-gate.js';
import { scheduleEpisodes } from './scheduler.js';

const controller = new AbortController();
const canceller = new AbortController();
const send = (msg: FromShard): void => {
  process.send?.(msg);
};

// Ctrl-C reaches the whole process group; a shard stops scheduling like its coordinator does.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => {
    controller.abort(`${sig} received`);
    canceller.abort(`${sig} received`);
  });

// Starts are granted by the coordinator, which holds the run's one rate limiter.
const starts = remoteGate((id) => send({ type: 'gate', id }));

process.on('message', (msg: ToShard) => {
  if (msg.type === 'stop') {
    controller.abort(msg.reason);
    if (msg.cancel) canceller.abort(msg.reason);
    return;
  }
  if (msg.type === 'go') {
    starts.granted(msg.id, msg.at);
    return;
  }
  const { job } = msg;
  scheduleEpisodes({
    ...job,
    signal: controller.signal,
    cancel: canceller.signal,
    ...(job.experiment.rate ? { gate: starts.gate } : {}),
    onStart: (assignment) => send({ type: 'started', assignment }),
    onPlayed: (assignment) => send({ type: 'played', assignment }),
    onRetry: (assignment, error) => send({ type: 'retry', assignment, error }),
    onOutcome: (outcome) => send({ type: 'outcome', outcome }),
  }).then(
    () => send({ type: 'done' }),
    // The coordinator then disconnects, as after `done`; this side lets go too, once the report is through,
    // since the open channel alone would keep this process, and the run waiting for it, alive.
    async (err: unknown) => {
      await sendToParent({ type: 'error', code: (err as { code?: string }).code ?? 'E_SHARD', message: describeError(err) } satisfies FromShard).catch(() => {});
      // The coordinator may have disconnected first (it does on `error`): disconnecting twice throws.
      if (process.connected) process.disconnect();
    },
  );
});
