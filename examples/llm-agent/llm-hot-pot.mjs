// An ACE agent that plays hot_pot by asking a language model which action to
// take at each step. Any OpenAI-compatible chat-completions endpoint works
// (OpenAI, vLLM, Ollama, ...), through the official `openai` package:
//
//   OPENAI_BASE_URL   the endpoint, e.g. http://127.0.0.1:11434/v1 for Ollama (default: OpenAI's)
//   OPENAI_API_KEY    the key (any non-empty string for local servers)
//   ACE_MODEL         the model name (default gpt-4o-mini)
//   ACE_HTTP_RETRIES  retries of one HTTP request by the openai client (default 2)
//
// Who retries what:
//   - The openai client retries ONE request on 408, 409, 429, 5xx and connection errors,
//     ACE_HTTP_RETRIES times, honouring Retry-After: cheap, and the episode keeps its earlier steps.
//   - When a request still fails, play() rejects and ace-orch's `--retries` re-plays the WHOLE
//     episode (a new attempt, same episode id), with its own backoff; `--episode-timeout`
//     bounds an attempt, and ctx.signal cancels the request in flight.
//   - Any other 4xx (bad request, bad key, unknown model) is marked `retryable: false`:
//     neither layer retries what cannot succeed.
//
// The world is hot_pot's: a stove heats a pot at a hidden rate (°C per second per power
// level); the label always reads "Boiling!". The model sees the readings so far and the
// playbook's top observations and strategies, and answers with one action:
//   wait(N)        let N seconds (1-4) pass; the thermometer is read after every action
//   toggle_stove() change the power setting (it spoils the estimate: the reflection penalises it)
//   stop()         end the episode
// An answer with none of these is replaced by the DEFAULT ACTION, `wait(2)`: real models answer
// badly sometimes, and an episode must not crash on it. The episode counts such answers in
// `context.unparsed`. The agent's code, not the model, turns the readings into the estimate.
import OpenAI from 'openai';

const BOILING = 100;
const MAX_STEPS = 6;
export const DEFAULT_ACTION = 'wait(2)';

let client;
function openai() {
  // Without a key no attempt can succeed: say so once, and let neither layer retry it.
  if (!process.env.OPENAI_API_KEY) throw Object.assign(new Error('OPENAI_API_KEY is not set (for a local server, any non-empty string will do)'), { retryable: false });
  client ??= new OpenAI({
    baseURL: process.env.OPENAI_BASE_URL || undefined,
    apiKey: process.env.OPENAI_API_KEY,
    maxRetries: Number(process.env.ACE_HTTP_RETRIES ?? 2),
  });
  return client;
}

/** `wait(3)`, `toggle_stove()` or `stop()` from a model's answer, else null. */
export function parseAction(text) {
  const m = /\b(wait\(\s*([1-4])\s*\)|toggle_stove\(\)|stop\(\))/.exec(text ?? '');
  if (!m) return null;
  return m[2] ? `wait(${m[2]})` : m[1];
}

const round = (x, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The prompt: the playbook's top observations and strategies, then this episode's readings. */
export function buildPrompt(playbook, readings) {
  const observations = playbook.observations.slice(0, 3).map((o) => `- [${o.reliability}] score ${o.score}: ${JSON.stringify(o.beliefs)} (episode ${o.episode_id})`);
  // Sections are written newest last (as the reference tool reads them): the last 3 are the latest.
  const strategies = playbook.strategies_and_rules.slice(-3).map((s) => `- ${s.content}`);
  return [
    'You measure how fast a stove heats a pot. The label on the pot always reads "Boiling!": trust the thermometer.',
    'Answer with exactly one action: wait(N) with N from 1 to 4, toggle_stove(), or stop().',
    'Playbook observations (best first):',
    ...(observations.length ? observations : ['- none yet']),
    'Playbook strategies:',
    ...(strategies.length ? strategies : ['- none yet']),
    'Readings so far (t seconds, temperature °C):',
    ...readings.map((r) => `- t=${r.t}: ${r.temp}`),
  ].join('\n');
}

async function ask(prompt, ctx) {
  try {
    const completion = await openai().chat.completions.create(
      { model: process.env.ACE_MODEL || 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }], temperature: 0, max_tokens: 20 },
      { signal: ctx.signal, headers: { 'x-ace-episode': ctx.episodeId, 'x-ace-attempt': String(ctx.attempt) } },
    );
    return completion.choices[0]?.message?.content ?? '';
  } catch (err) {
    const status = err?.status;
    if (typeof status === 'number' && status >= 400 && status < 500 && ![408, 409, 429].includes(status)) err.retryable = false;
    throw err;
  }
}

export default {
  name: 'hot_pot_llm',
  async play(world, rng, prior, ctx) {
    const rate = world.uniform(0.5, 2);
    const power0 = rng.int(1, 3);
    let power = power0;
    let temp = 20;
    let t = 0;
    const actions = [];
    const observations = [];
    const readings = [];
    let unparsed = 0;
    const measure = () => {
      const shown = round(Math.min(BOILING, temp + rng.noise(0.3)), 1);
      observations.push({ t, temp: shown, power_setting: power, label: 'Boiling!' });
      readings.push({ t, temp: shown, power });
    };
    measure();
    for (let step = 0; step < MAX_STEPS; step++) {
      let action = parseAction(await ask(buildPrompt(ctx.playbook, readings), ctx));
      if (!action) {
        unparsed++;
        action = DEFAULT_ACTION;
      }
      actions.push(action);
      if (action === 'stop()') break;
      if (action === 'toggle_stove()') power = (power % 3) + 1;
      else {
        const dt = Number(action.slice(5, -1));
        t += dt;
        temp = Math.min(BOILING, temp + rate * power * dt);
      }
      measure();
    }
    const slopes = [];
    for (let i = 1; i < readings.length; i++) {
      const [a, b] = [readings[i - 1], readings[i]];
      if (b.temp < BOILING - 1 && b.t > a.t) slopes.push((b.temp - a.temp) / ((b.t - a.t) * power0));
    }
    const estimate = slopes.length ? slopes.reduce((x, y) => x + y, 0) / slopes.length : 1.25;
    const score = round(Math.max(0, Math.min(1, 1 - Math.abs(estimate - rate) / rate)));
    const toggles = actions.filter((a) => a === 'toggle_stove()').length;
    return {
      trajectory: { actions, observations },
      beliefs: { heating_rate: round(estimate) },
      score,
      context: { power_setting: power0, measurements: readings.length, seconds: t, unparsed, attempt: ctx.attempt, model: process.env.ACE_MODEL || 'gpt-4o-mini' },
      patterns: ['the label reads "Boiling!" whatever the temperature: trust the thermometer'],
      failures: toggles ? [`stove toggled ${toggles}x: slopes mix power settings`] : [],
      lesson: `keep one power setting while measuring; heating rate ≈ ${round(estimate, 2)} °C/s per power level`,
    };
  },
  // hot_pot's reflection rule, simplified: one power setting throughout is a clean measurement.
  reflect(trajectory) {
    const toggles = trajectory.actions.filter((a) => a.includes('toggle')).length;
    if (toggles === 0) return { reliability: 'HIGH', reason: 'one power setting throughout: clean heating-rate measurement' };
    return { reliability: 'LOW', reason: `power changed ${toggles} times: readings mix settings` };
  },
};
