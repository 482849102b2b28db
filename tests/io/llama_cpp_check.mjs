// Runs a GGUF file in llama.cpp (node-llama-cpp's prebuilt CPU build, fetched by
// scripts/fetch-llama-cpp.sh): an independent reader of what `ptft export --format gguf` writes.
//
//   NODE_PATH=data/llama-cpp/node_modules node tests/io/llama_cpp_check.mjs FILE.gguf REQUESTS.json
//
// REQUESTS.json: {"tokenize": ["text", ...],          llama.cpp's ids (special-token text parsed
//                                                      as the special token; no BOS added)
//                 "greedy": {"ids": [...], "new": N},  N tokens, temperature 0 (argmax), from ids
//                 "probabilities": {"ids": [...], "top": K},  the K most likely next tokens after
//                                                      ids, with their softmax probabilities
//                 "lora": "ADAPTER.gguf"}             greedy/probabilities with this LoRA adapter
// Prints one JSON object: {"tokenize": [[ids] per text], "greedy": [ids],
// "probabilities": [[id, p], ...], "model": {"train_context"}}. Exit 1 with llama.cpp's
// message when it cannot load the file.
import fs from "node:fs";
import {createRequire} from "node:module";

const require = createRequire(import.meta.url);
const modulePaths = (process.env.NODE_PATH || "").split(":").filter(Boolean);
const entry = require.resolve("node-llama-cpp", {paths: modulePaths});
const {getLlama, LlamaLogLevel} = await import(entry);

const [file, requestsFile] = process.argv.slice(2);
if (!file || !requestsFile) {
  console.error("usage: llama_cpp_check.mjs FILE.gguf REQUESTS.json");
  process.exit(2);
}
const req = JSON.parse(fs.readFileSync(requestsFile, "utf8"));
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
let model;
try {
  model = await llama.loadModel({modelPath: file, gpuLayers: 0});
} catch (e) {
  console.error(`llama.cpp cannot load ${file}: ${e.message}`);
  process.exit(1);
}
const out = {model: {train_context: model.trainContextSize}};
out.tokenize = (req.tokenize || []).map((t) => Array.from(model.tokenize(t, true)));

async function sequenceFor() {
  const options = {contextSize: Math.max(64, Math.min(model.trainContextSize, 512)), threads: 1};
  if (req.lora) options.lora = {adapters: [{filePath: req.lora, scale: 1}]};
  const context = await model.createContext(options);
  return {context, sequence: context.getSequence()};
}

if (req.greedy) {
  const {context, sequence} = await sequenceFor();
  const ids = [];
  for await (const token of sequence.evaluate(req.greedy.ids, {temperature: 0})) {
    ids.push(token);
    if (ids.length >= req.greedy.new) break;
  }
  out.greedy = ids;
  await context.dispose();
}
if (req.probabilities) {
  const {context, sequence} = await sequenceFor();
  for await (const step of sequence.evaluateWithMetadata(req.probabilities.ids, {probabilities: true}, {temperature: 1})) {
    const sorted = Array.from(step.probabilities.entries()).sort((a, b) => b[1] - a[1]);
    out.probabilities = sorted.slice(0, req.probabilities.top || 10);
    break;
  }
  await context.dispose();
}
console.log(JSON.stringify(out));
await model.dispose();
await llama.dispose();
