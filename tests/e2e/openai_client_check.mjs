// Talks to a running `ptft serve` through OpenAI's official JavaScript client (npm openai,
// fetched by scripts/fetch-openai-client.sh), as an application would:
//
//   NODE_PATH=data/openai-client/node_modules node tests/e2e/openai_client_check.mjs BASE_URL API_KEY
//
// Prints one JSON object with what each call gave (the C++ test asserts on it):
//   models        ids listed by /v1/models
//   completion    {text, finish_reason, usage} of a greedy completion (max_tokens 8)
//   completion2   the same request again (greedy: the same text)
//   stream        {text, chunks, finish_reason} of the same completion streamed
//   stop          {text, finish_reason} with a stop string taken from the completion's text
//   chat          {content, role, finish_reason, usage} of a greedy chat completion
//   chat_stream   {content, chunks, first_role} of the same chat streamed
//   wrong_key     {status, name, code} of a request with a wrong key
//   too_long      {status, code} of a prompt over the context
import {createRequire} from "node:module";

const require = createRequire(import.meta.url);
const paths = (process.env.NODE_PATH || "").split(":").filter(Boolean);
const OpenAI = require(require.resolve("openai", {paths}));

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({baseURL, apiKey, maxRetries: 0, timeout: 60000});
const out = {};

out.models = (await client.models.list()).data.map((m) => m.id);
const model = out.models[0];
const prompt = "This License applies to";

const c = await client.completions.create({model, prompt, max_tokens: 8, temperature: 0});
out.completion = {text: c.choices[0].text, finish_reason: c.choices[0].finish_reason, usage: c.usage};
const c2 = await client.completions.create({model, prompt, max_tokens: 8, temperature: 0});
out.completion2 = {text: c2.choices[0].text};

let streamed = "", chunks = 0, streamFinish = null;
for await (const chunk of await client.completions.create({model, prompt, max_tokens: 8, temperature: 0, stream: true})) {
  chunks++;
  streamed += chunk.choices[0]?.text ?? "";
  streamFinish = chunk.choices[0]?.finish_reason ?? streamFinish;
}
out.stream = {text: streamed, chunks, finish_reason: streamFinish};

// A stop string: the completion's text from its 3rd character on, so the answer must end before it.
const stopAt = out.completion.text.trimStart().slice(2, 5);
if (stopAt.length > 0) {
  const s = await client.completions.create({model, prompt, max_tokens: 8, temperature: 0, stop: [stopAt]});
  out.stop = {stop: stopAt, text: s.choices[0].text, finish_reason: s.choices[0].finish_reason};
}

const messages = [{role: "system", content: "Answer briefly."}, {role: "user", content: "What is a licence?"}];
const chat = await client.chat.completions.create({model, messages, max_tokens: 8, temperature: 0});
out.chat = {content: chat.choices[0].message.content, role: chat.choices[0].message.role,
            finish_reason: chat.choices[0].finish_reason, usage: chat.usage};
let chatStreamed = "", chatChunks = 0, firstRole = null;
for await (const chunk of await client.chat.completions.create({model, messages, max_tokens: 8, temperature: 0, stream: true})) {
  chatChunks++;
  const delta = chunk.choices[0]?.delta ?? {};
  if (firstRole === null && delta.role) firstRole = delta.role;
  chatStreamed += delta.content ?? "";
}
out.chat_stream = {content: chatStreamed, chunks: chatChunks, first_role: firstRole};

try {
  await new OpenAI({baseURL, apiKey: "wrong-" + apiKey, maxRetries: 0}).models.list();
  out.wrong_key = {status: 200};
} catch (e) {
  out.wrong_key = {status: e.status, name: e.constructor.name, code: e.code ?? null};
}
try {
  await client.completions.create({model, prompt: "word ".repeat(5000), max_tokens: 4});
  out.too_long = {status: 200};
} catch (e) {
  out.too_long = {status: e.status, code: e.code ?? null, message: e.message};
}
console.log(JSON.stringify(out));
