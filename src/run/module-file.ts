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

/**
 * The `execArgv` of every worker thread this project starts: the process's own, without require() of ES modules.
 * Piscina's worker first tries `require(filename)` and falls back to `import()`; on a Node that lets require() load
 * an ES module (20.19 on), that first try builds a facade module, and a thread terminated (a pool destroyed) while
 * it does so aborts the whole process on an assertion in Node (seen once under load: `CreateRequiredModuleFacade`).
 * Without it, the require() throws at once and the worker imports the module as it always did.
 */
export function workerExecArgv(): string[] {
  return process.features.require_module ? [...process.execArgv, '--no-experimental-require-module'] : [...process.execArgv];
}
