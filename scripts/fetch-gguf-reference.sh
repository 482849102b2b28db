#!/usr/bin/env bash
# Fetches the reference GGUF parser, @huggingface/gguf (the Hugging Face Hub's JavaScript
# reader and header writer), with its one dependency @huggingface/tasks, from npm (the only
# network this needs). tests/io/gguf_reference_test.cpp compares ptft's reader and writer
# with it through tests/io/gguf_check.js.
#
#   scripts/fetch-gguf-reference.sh              # into data/gguf-reference/ (git-ignored)
#   scripts/fetch-gguf-reference.sh DIR          # into DIR
#
# Layout: DIR/node_modules/@huggingface/{gguf,tasks}/ (package.json + dist/), so that
# `require("DIR/node_modules/@huggingface/gguf")` works in node.
# Idempotent; safe to run concurrently (a lock in DIR; the packages appear whole, by rename).
set -euo pipefail

# name  version  sha1 (as the registry lists it: npm view @huggingface/NAME@VERSION dist.shasum)
PACKAGES=(
  "gguf 0.4.6 690632c8241034c9592b7120a1068e3e5e039a1c"
  "tasks 0.21.54 b7fdbf00c19ebdce0f61d29483dddcbcdda3ab18"
)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/data/gguf-reference}"
modules="$out/node_modules/@huggingface"

have_all() {
  [[ -s "$modules/gguf/dist/index.js" && -s "$modules/gguf/package.json" &&
     -s "$modules/tasks/dist/commonjs/index.js" && -s "$modules/tasks/package.json" ]]
}

if have_all; then
  echo "fetch-gguf-reference: $out already holds @huggingface/gguf and @huggingface/tasks; nothing to do"
  exit 0
fi
# shellcheck source=lib/npm-fetch.sh
source "$repo_root/scripts/lib/npm-fetch.sh"
npm_fetch_require_npm fetch-gguf-reference

npm_fetch_lock fetch-gguf-reference "$out" "$out already holds them; nothing to do"
for entry in "${PACKAGES[@]}"; do
  read -r name version sha <<<"$entry"
  npm_fetch_package fetch-gguf-reference "@huggingface/$name@$version" "huggingface-$name-$version.tgz" \
    "$sha" "$tmp" "$tmp/$name" || exit 1
done

# Only what node needs to require the packages (their sources and typings stay out).
mkdir -p "$modules"
for entry in "${PACKAGES[@]}"; do
  read -r name _ _ <<<"$entry"
  mkdir -p "$tmp/js-$name"
  cp "$tmp/$name/package/package.json" "$tmp/$name/package/LICENSE" "$tmp/js-$name/"
  cp -r "$tmp/$name/package/dist" "$tmp/js-$name/"
  rm -rf "$modules/$name.old"
  [[ -d "$modules/$name" ]] && mv "$modules/$name" "$modules/$name.old"
  mv "$tmp/js-$name" "$modules/$name"
  rm -rf "$modules/$name.old"
done
echo "fetch-gguf-reference: placed @huggingface/gguf and @huggingface/tasks in $out"
