/** Paths of sibling modules that run as their own thread or process. */

/**
 * `relative` (no extension) resolved against the calling module's URL, with
 * that module's extension: `.ts` under tsx in development and tests, `.js`
 * once built into dist/. Worker threads and child processes load these files.
 */
export function siblingModule(callerUrl: string, relative: string): URL {
  const ext = callerUrl.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`${relative}.${ext}`, callerUrl);
}
