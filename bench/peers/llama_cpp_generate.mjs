// llama.cpp's generation speed (node-llama-cpp's prebuilt CPU build) on a GGUF file: greedy
// decoding of NEW tokens after a prompt of given ids, batch 1, THREADS threads. Prints
// {"prompt_tokens", "new_tokens", "first_token_ms", "decode_tokens_per_second"} (the tokens after
// the first over the time after the first, as ptft generate --json reports it).
//
//   NODE_PATH=data/llama-cpp/node_modules node bench/peers/llama_cpp_generate.mjs FILE.gguf IDS_JSON NEW THREADS
import {createRequire} from "node:module";

const require = createRequire(import.meta.url);
const entry = require.resolve("node-llama-cpp", {paths: (process.env.NODE_PATH || "").split(":").filter(Boolean)});
const {getLlama, LlamaLogLevel} = await import(entry);
const [file, idsJson, newTokens, threads] = process.argv.slice(2);
const ids = JSON.parse(idsJson);
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath: file, gpuLayers: 0});
const context = await model.createContext({contextSize: 512, threads: Number(threads), batchSize: 512});
const sequence = context.getSequence();
const start = performance.now();
let first = null, n = 0;
for await (const token of sequence.evaluate(ids, {temperature: 0})) {
  if (first === null) first = performance.now();
  if (++n >= Number(newTokens)) break;
}
const end = performance.now();
console.log(JSON.stringify({prompt_tokens: ids.length, new_tokens: n, first_token_ms: first - start,
                            decode_tokens_per_second: (n - 1) / ((end - first) / 1000)}));
await context.dispose();
await model.dispose();
await llama.dispose();
