#!/usr/bin/env bash
# Fetches llama.cpp as an independent reference for ptft's GGUF files: node-llama-cpp and its
# prebuilt CPU binaries of llama.cpp (npm packages node-llama-cpp and @node-llama-cpp/linux-x64,
# versions and integrity hashes pinned in scripts/npm/llama-cpp/package-lock.json), from npm (the
# only network this needs). About 85 MB.
#
#   scripts/fetch-llama-cpp.sh          # into data/llama-cpp/ (git-ignored)
#   scripts/fetch-llama-cpp.sh DIR      # into DIR
#
# tests/io/llama_cpp_check.mjs then loads a GGUF file with llama.cpp, tokenizes and generates:
#   NODE_PATH=DIR/node_modules node tests/io/llama_cpp_check.mjs FILE.gguf REQUESTS.json
# Idempotent; safe to run concurrently (a lock in DIR; the tree appears whole, by rename).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/data/llama-cpp}"
pins="$repo_root/scripts/npm/llama-cpp"
marker="$out/node_modules/node-llama-cpp/package.json"

have() { [[ -s "$marker" && -d "$out/node_modules/@node-llama-cpp/linux-x64/bins" ]] && cmp -s "$pins/package-lock.json" "$out/package-lock.json"; }
if have; then
  echo "fetch-llama-cpp: $out already holds node-llama-cpp; nothing to do"
  exit 0
fi
command -v npm >/dev/null || { echo "fetch-llama-cpp: npm not found (install Node.js + npm: scripts/setup.sh)" >&2; exit 1; }
[[ "$(uname -m)" == x86_64 ]] || { echo "fetch-llama-cpp: the prebuilt llama.cpp pinned here is for x86_64 Linux" >&2; exit 1; }

mkdir -p "$out"
exec 9>"$out/.fetch.lock"
flock 9
if have; then
  echo "fetch-llama-cpp: $out already holds it; nothing to do"
  exit 0
fi
tmp="$(mktemp -d "$out/.fetch-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cp "$pins/package.json" "$pins/package-lock.json" "$tmp/"
# `npm install` with the lock file (not `npm ci`: npm leaves the other platforms' optional binaries
# out of a lock file and `npm ci` then refuses it); the lock's versions and integrity hashes hold.
echo "fetch-llama-cpp: npm install node-llama-cpp (prebuilt llama.cpp for linux-x64)"
if ! (cd "$tmp" && npm install --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null); then
  echo "fetch-llama-cpp: 'npm install' failed: is the npm registry reachable?" >&2
  exit 1
fi
rm -rf "$out/node_modules.old"
[[ -d "$out/node_modules" ]] && mv "$out/node_modules" "$out/node_modules.old"
mv "$tmp/node_modules" "$out/node_modules"
cp "$tmp/package.json" "$tmp/package-lock.json" "$out/"
rm -rf "$out/node_modules.old"
echo "fetch-llama-cpp: placed node-llama-cpp $(node -p "require('$marker').version") in $out"
