/**
 * What the store's guarantees mean on each platform, said once so that the
 * code, the run's warnings and the README agree. Pure.
 */

/** How the store's write path holds up on one platform. */
export interface PlatformGuarantee {
  /** False: the store refuses to write there (a one-line error, exit 2). */
  supported: boolean;
  /** Why it is unsupported, or the weaker guarantee it runs with; absent when every guarantee holds. */
  note?: string;
}

export function platformGuarantee(platform: NodeJS.Platform): PlatformGuarantee {
  if (platform === 'win32') {
    return {
      supported: false,
      note: 'Windows is not supported: the store fsyncs directories, which Windows cannot open, and coexists with the reference tool through flock; run ace-orch under WSL',
    };
  }
  if (platform === 'darwin') {
    return {
      supported: true,
      note: 'on macOS fsync does not flush the drive cache (no F_FULLFSYNC): an acknowledged merge survives a crash of the process or the OS, not necessarily a power cut',
    };
  }
  return { supported: true };
}
