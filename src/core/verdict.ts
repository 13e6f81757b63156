/**
 * The one-sentence verdict of a zero-loss audit, for the terminal and the HTML report alike. Pure.
 * It says what was checked: a run whose episodes all failed placed nothing, so "all 0 expected
 * observations are in their playbooks" would read as a pass when there was nothing to pass.
 */
export function zeroLossSentence(scope: string, expected: number, failed: number, unfinished = false): string {
  // A run that has not finished has counted only what it scheduled: no claim about its episodes' files.
  if (unfinished) {
    return `Zero loss so far (${scope}): ${expected === 1 ? 'the 1 expected observation is in its playbook' : `all ${expected} expected observations are in their playbooks`}; the run has not finished (still running, or its process died), so this holds for what it has written`;
  }
  if (expected === 0 && failed > 0) {
    return `Zero loss (${scope}), with nothing to check: ${failed === 1 ? 'its 1 episode failed' : `all ${failed} episodes failed`}, so no observation was expected.`;
  }
  const held = expected === 1 ? 'the 1 expected observation is in its playbook' : `all ${expected} expected observations are in their playbooks`;
  // A failed episode writes no file (it is listed apart): "every episode run" would include it.
  const files = failed > 0 ? 'every episode that succeeded has its file' : 'every episode run has its file';
  return `Zero loss (${scope}): ${held}; ${files}.`;
}
