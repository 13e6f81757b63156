/**
 * A child process's last words to its parent. process.send queues what the pipe cannot take at once,
 * and disconnecting closes the channel and cancels that queue: a child that sends a big report (a
 * bench writer's timings run to megabytes) and disconnects right after can lose it, and the parent
 * sees the channel close without it. Awaiting this before disconnecting keeps the message.
 */
export function sendToParent(msg: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      resolve();
      return;
    }
    process.send(msg, undefined, {}, (err: Error | null) => (err ? reject(err) : resolve()));
  });
}
