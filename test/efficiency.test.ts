import test from 'ava';
import { formatEfficiency, runEfficiency } from '../src/core/efficiency.js';

test('efficiency counts the lanes that could be busy: no more than the episodes scheduled', (t) => {
  // 600 episodes of 1 s at concurrency 1000 finishing in 1.25 s: 600 lanes, not 1000.
  t.like(runEfficiency({ playMs: 600_000, wallMs: 1250, startupMs: 0, concurrency: 1000, episodes: 600 }), { lanes: 600, efficiency: 0.8 });
  t.like(runEfficiency({ playMs: 600_000, wallMs: 2500, startupMs: 0, concurrency: 300, episodes: 600 }), { lanes: 300, efficiency: 0.8 });
});

test('efficiency after start-up counts from the first episode start; start-up is never more than the wall', (t) => {
  t.like(runEfficiency({ playMs: 600_000, wallMs: 2500, startupMs: 500, concurrency: 300, episodes: 600 }), { efficiency: 0.8, afterStartup: 1 });
  t.like(runEfficiency({ playMs: 0, wallMs: 10, startupMs: 50, concurrency: 2, episodes: 4 }), { efficiency: 0, afterStartup: 0 });
  t.like(runEfficiency({ playMs: 0, wallMs: 0, startupMs: 0, concurrency: 2, episodes: 0 }), { lanes: 0, efficiency: 0, afterStartup: 0 });
});

test('the summary line names the lanes only when fewer than the concurrency', (t) => {
  t.is(
    formatEfficiency({ concurrency: 300, lanes: 300, efficiency: 0.854, startupSeconds: 0.12, efficiencyAfterStartup: 0.9 }),
    "concurrency 300, efficiency 85% (play time of the episodes / (wall time × lanes)); 90% from the first episode's start, after 0.120 s of worker start-up",
  );
  t.regex(formatEfficiency({ concurrency: 1000, lanes: 600, efficiency: 0.5 }), /^concurrency 1000 \(600 lanes: one per episode\), efficiency 50% /);
});
