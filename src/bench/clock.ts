/**
 * The bench's clock: process.hrtime (CLOCK_MONOTONIC on Linux, mach time on macOS) is one clock for
 * every process on the host, so a writer's "last merge acknowledged" and the orchestrator's "go" can
 * be compared across processes. Microseconds fit a double exactly for centuries of uptime.
 */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
