#!/usr/bin/env node
// The reference ids for hf_tokenizer_test.cpp: encodes strings with @lenml/tokenizers (a fork of
// transformers.js' tokenizers), as fetched by scripts/fetch-hf-tokenizers.sh.
//
//   node tests/tokenizer/hf_tokenizer_reference.js data/hf-tokenizers/llama3 strings.jsonl
//
// The directory holds tokenizer.json + tokenizer_config.json; @lenml/tokenizers is looked up
// in its parent's node_modules. Input: one JSON string per line. Output, one JSON object per
// line: {"ids": encode(s, add_special_tokens=false), "specials": encode(s) (with the
// post-processor's tokens), "decoded": decode(ids)}.
'use strict';
const fs = require('fs');
const path = require('path');

const [dir, file] = process.argv.slice(2);
if (!dir || !file) {
  console.error('usage: node hf_tokenizer_reference.js TOKENIZER_DIR STRINGS_JSONL');
  process.exit(2);
}
const { TokenizerLoader } = require(path.resolve(dir, '..', 'node_modules', '@lenml', 'tokenizers'));
const read = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf-8'));
const tok = TokenizerLoader.fromPreTrained({
  tokenizerJSON: read('tokenizer.json'),
  tokenizerConfig: read('tokenizer_config.json'),
});

const out = [];
for (const line of fs.readFileSync(file, 'utf-8').split('\n')) {
  if (line.length === 0) continue;
  const s = JSON.parse(line);
  const ids = tok.encode(s, { add_special_tokens: false });
  const specials = tok.encode(s);
  const decoded = ids.length > 0 ? tok.decode(ids) : '';
  out.push(JSON.stringify({ ids, specials, decoded }));
}
process.stdout.write(out.join('\n') + '\n');
