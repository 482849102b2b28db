// A bounded load on a running `ptft serve`, through OpenAI's JavaScript client (npm openai):
// CLIENTS concurrent clients each send REQUESTS completions (max_tokens MAX, greedy), half of
// them streamed. Prints {clients, requests, ok, errors, seconds, requests_per_s,
// tokens_per_s, latency_ms: {p50, p90, p99, max}, first_chunk_ms: {p50, p90} } as one JSON line.
//
//   NODE_PATH=data/openai-client/node_modules node bench/serve_load.mjs BASE_URL [CLIENTS] [REQUESTS] [MAX]
import {createRequire} from "node:module";

const require = createRequire(import.meta.url);
const OpenAI = require(require.resolve("openai", {paths: (process.env.NODE_PATH || "").split(":").filter(Boolean)}));
const [baseURL, clients = "8", requests = "50", maxTokens = "16"] = process.argv.slice(2);
const client = new OpenAI({baseURL, apiKey: "none", maxRetries: 0, timeout: 600000});
const model = (await client.models.list()).data[0].id;
const prompts = ["This License applies to", "The Program is", "You may copy", "Each licensee is addressed as"];

const latencies = [], firstChunks = [];
let ok = 0, errors = 0, tokens = 0;
async function one(i) {
  const start = performance.now();
  const stream = i % 2 === 1;
  const req = {model, prompt: prompts[i % prompts.length], max_tokens: Number(maxTokens), temperature: 0};
  if (!stream) {
    const r = await client.completions.create(req);
    tokens += r.usage.completion_tokens;
  } else {
    let first = null;
    for await (const chunk of await client.completions.create({...req, stream: true, stream_options: {include_usage: true}})) {
      if (first === null) first = performance.now() - start;
      if (chunk.usage) tokens += chunk.usage.completion_tokens;
    }
    firstChunks.push(first);
  }
  latencies.push(performance.now() - start);
}
async function worker(w) {
  for (let i = 0; i < Number(requests); i++) {
    try {
      await one(w * 1000 + i);
      ok++;
    } catch (e) {
      errors++;
    }
  }
}
const t0 = performance.now();
await Promise.all(Array.from({length: Number(clients)}, (_, w) => worker(w)));
const seconds = (performance.now() - t0) / 1000;
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]) : null;
};
console.log(JSON.stringify({clients: Number(clients), requests: Number(clients) * Number(requests), ok, errors,
  seconds: Math.round(seconds * 10) / 10, requests_per_s: Math.round((ok / seconds) * 100) / 100,
  tokens_per_s: Math.round(tokens / seconds), latency_ms: {p50: pct(latencies, 0.5), p90: pct(latencies, 0.9),
  p99: pct(latencies, 0.99), max: pct(latencies, 1)}, first_chunk_ms: {p50: pct(firstChunks, 0.5), p90: pct(firstChunks, 0.9)}}));
