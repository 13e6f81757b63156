import test from 'ava';
import { summarizeRetries } from '../src/core/retries.js';
import { formatRetries } from '../src/cli/format.js';

const ok = { status: 'ok' as const, attempts: 1 };

test('a run without retries has no retry summary and no line', (t) => {
  t.is(summarizeRetries([ok, ok, { status: 'failed', attempts: 1, attempt_errors: ['E_EPISODE: boom'] }]), null);
  t.is(formatRetries(null, undefined), null);
});

test('retries are counted per attempt played again, failures by code, and rate limits are read from the message', (t) => {
  const summary = summarizeRetries([
    ok,
    { status: 'ok', attempts: 3, attempt_errors: ['E_EPISODE: 429 Rate limit reached for requests', 'E_TIMEOUT: episode attempt abandoned after the 8000 ms timeout'] },
    { status: 'failed', attempts: 2, attempt_errors: ['E_EPISODE: 500 Internal Server Error', 'E_EPISODE: 429 Too Many Requests'] },
  ]);
  t.deepEqual(summary, {
    replayed: 3,
    episodes: 2,
    recovered: 1,
    byCode: [
      { code: 'E_EPISODE', count: 3 },
      { code: 'E_TIMEOUT', count: 1 },
    ],
    rateLimited: 2,
  });
  t.is(formatRetries(summary, undefined), 'retries: 3 attempts played again over 2 episodes (1 then succeeded); failed attempts: E_EPISODE ×3, E_TIMEOUT ×1; 2 of them read as rate limits: --rate N starts at most N attempts a second instead');
  t.is(formatRetries(summary, 20), 'retries: 3 attempts played again over 2 episodes (1 then succeeded); failed attempts: E_EPISODE ×3, E_TIMEOUT ×1; 2 of them read as rate limits at --rate 20: a lower --rate would spare them');
  t.is(formatRetries({ ...summary!, rateLimited: 0 }, undefined), 'retries: 3 attempts played again over 2 episodes (1 then succeeded); failed attempts: E_EPISODE ×3, E_TIMEOUT ×1');
});
