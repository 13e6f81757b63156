// A stand-in for a model, to try the LLM example with no key and no network: an OpenAI-compatible
// chat-completions endpoint on 127.0.0.1 that answers wait(2) twice, then stop(), for every episode
// (it counts requests per x-ace-episode header). Nothing here is real model output.
//
//   node examples/llm-agent/fake-server.mjs            # prints the OPENAI_BASE_URL to use
//   PORT=8089 node examples/llm-agent/fake-server.mjs
import { createServer } from 'node:http';

const asked = new Map();
const server = createServer((req, res) => {
  if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
    return;
  }
  req.resume();
  req.on('end', () => {
    const episode = `${req.headers['x-ace-episode'] ?? 'unknown'}/${req.headers['x-ace-attempt'] ?? '0'}`;
    const n = asked.get(episode) ?? 0;
    asked.set(episode, n + 1);
    const content = n < 2 ? 'wait(2)' : 'stop()';
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ id: `fake-${n}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: 'fake', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }], usage: { prompt_tokens: 0, completion_tokens: 1, total_tokens: 1 } }),
    );
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`fake model on http://127.0.0.1:${port}/v1 — run:\n  OPENAI_BASE_URL=http://127.0.0.1:${port}/v1 OPENAI_API_KEY=fake ACE_MODEL=fake npx ace-orch run experiments/llm-hot-pot.json --store ./llm-store`);
});
