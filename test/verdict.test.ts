import test from 'ava';
import { zeroLossSentence } from '../src/core/verdict.js';

test('the zero-loss sentence says what was checked: files only for episodes that succeeded, nothing when all failed', (t) => {
  t.is(zeroLossSentence('run r', 3, 0), 'Zero loss (run r): all 3 expected observations are in their playbooks; every episode run has its file.');
  t.is(zeroLossSentence('run r', 1, 0), 'Zero loss (run r): the 1 expected observation is in its playbook; every episode run has its file.');
  t.is(zeroLossSentence('run r', 2, 1), 'Zero loss (run r): all 2 expected observations are in their playbooks; every episode that succeeded has its file.');
  t.is(zeroLossSentence('run r', 0, 4), 'Zero loss (run r), with nothing to check: all 4 episodes failed, so no observation was expected.');
  t.is(zeroLossSentence('run r', 0, 1), 'Zero loss (run r), with nothing to check: its 1 episode failed, so no observation was expected.');
  t.is(zeroLossSentence('store s', 0, 0), 'Zero loss (store s): all 0 expected observations are in their playbooks; every episode run has its file.');
  t.is(zeroLossSentence('run r', 27, 0, true), 'Zero loss so far (run r): all 27 expected observations are in their playbooks; the run has not finished (still running, or its process died), so this holds for what it has written');
});
