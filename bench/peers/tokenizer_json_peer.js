#!/usr/bin/env node
// Peer of bench/tokenizer_json_bench.cpp: @lenml/tokenizers (the JS implementation of
// tokenizer.json, as fetched by scripts/fetch-hf-tokenizers.sh) over the same input, cut into
// the same lines (each with its "\n"), one run, one thread, encode(line, {add_special_tokens:
// false}).
//
//   node bench/peers/tokenizer_json_peer.js data/hf-tokenizers/llama3 /tmp/corpus.txt
'use strict';
const fs = require('fs');
const path = require('path');

const [dir, file] = process.argv.slice(2);
if (!dir || !file) {
  console.error('usage: node tokenizer_json_peer.js TOKENIZER_DIR TEXT_FILE');
  process.exit(2);
}
const { TokenizerLoader } = require(path.resolve(dir, '..', 'node_modules', '@lenml', 'tokenizers'));
const read = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf-8'));
const tok = TokenizerLoader.fromPreTrained({
  tokenizerJSON: read('tokenizer.json'),
  tokenizerConfig: read('tokenizer_config.json'),
});
const buf = fs.readFileSync(file);
const lines = buf.toString('utf-8').split(/(?<=\n)/);  // keeps each "\n"

const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
let tokens = 0;
for (const line of lines) tokens += tok.encode(line, { add_special_tokens: false }).length;
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const used = process.cpuUsage(cpu0);
const cpu = (used.user + used.system) / 1e6;  // this process, GC threads included
console.log(`${'js @lenml/tokenizers, lines'.padEnd(24)} bytes: ${buf.length}  tokens: ${tokens}  ` +
            `wall s: ${wall.toFixed(3)}  cpu s: ${cpu.toFixed(3)}  tokens/s: ${(tokens / wall).toFixed(0)}`);
