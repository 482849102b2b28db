#!/usr/bin/env bash
# Fetches OpenAI's official JavaScript client (npm package openai, no dependencies) from npm (the
# only network this needs): tests/e2e/serve_test.cpp talks to `ptft serve` through it
# (tests/e2e/openai_client_check.mjs), and bench/serve_load.mjs loads the server with it.
#
#   scripts/fetch-openai-client.sh              # into data/openai-client/ (git-ignored)
#   scripts/fetch-openai-client.sh DIR          # into DIR
#
# Layout: DIR/node_modules/openai/ (the package as published), so that
# `NODE_PATH=DIR/node_modules node script.mjs` finds it.
# Idempotent; safe to run concurrently (a lock in DIR; the package appears whole, by rename).
set -euo pipefail

# version and SHA-1 as the registry lists them (npm view openai@VERSION dist.shasum); 6.x is the
# newest line that runs on Debian 12's Node.js 20 (7.x needs Node.js 22).
VERSION="6.30.1"
SHA1="ecd9c1a70d6f44c93d5a8edfb851f3a7f80affcd"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/data/openai-client}"
pkg="$out/node_modules/openai"

have_all() { [[ -s "$pkg/package.json" && -s "$pkg/index.js" ]] && grep -q "\"version\": \"$VERSION\"" "$pkg/package.json"; }

if have_all; then
  echo "fetch-openai-client: $out already holds openai $VERSION; nothing to do"
  exit 0
fi
# shellcheck source=lib/npm-fetch.sh
source "$repo_root/scripts/lib/npm-fetch.sh"
npm_fetch_require_npm fetch-openai-client
npm_fetch_lock fetch-openai-client "$out" "$out already holds it; nothing to do"
npm_fetch_package fetch-openai-client "openai@$VERSION" "openai-$VERSION.tgz" "$SHA1" "$tmp" "$tmp/openai" || exit 1
mkdir -p "$out/node_modules"
rm -rf "$pkg.old"
[[ -d "$pkg" ]] && mv "$pkg" "$pkg.old"
mv "$tmp/openai/package" "$pkg"
rm -rf "$pkg.old"
echo "fetch-openai-client: placed openai $VERSION in $out"
