/** The part of fs-ext (a native addon without bundled types) that the store uses. */
declare module 'fs-ext' {
  /** flock(2) on an open descriptor; throws an errno error (EAGAIN when a `nb` lock is held elsewhere). */
  export function flockSync(fd: number, flags: 'sh' | 'ex' | 'shnb' | 'exnb' | 'un'): void;
  const fsExt: { flockSync: typeof flockSync };
  export default fsExt;
}
