# scripts/lib/npm-fetch.sh — the steps the fetch-*.sh scripts share; source it, do not run it.
#
#   source "$repo_root/scripts/lib/npm-fetch.sh"
#   npm_fetch_require_npm my-script                   # exits with a hint when npm is missing
#   npm_fetch_lock my-script "$out" "$out already holds them; nothing to do"
#   npm_fetch_package my-script @scope/name@1.2.3 scope-name-1.2.3.tgz SHA1 "$tmp" "$tmp/name"
#
# npm_fetch_lock: creates DIR and takes its lock (held until the script exits); when the
# caller's have_all function holds by then (another run fetched while this one waited) it
# prints "PREFIX: MESSAGE" and exits 0; otherwise it sets $tmp, a scratch directory in DIR that
# is removed at exit.
#
# npm_fetch_package: `npm pack SPEC` into WORK, checks the tarball's SHA-1 (as the registry lists
# it: `npm view SPEC dist.shasum`) and extracts it into DEST (files land in DEST/package/).
# Messages start with "PREFIX: "; a failure is reported on stderr and returns 1.

npm_fetch_require_npm() {
  command -v npm >/dev/null && return 0
  echo "$1: npm not found (install Node.js + npm: scripts/setup.sh)" >&2
  exit 1
}

npm_fetch_lock() {
  mkdir -p "$2"
  exec 9>"$2/.fetch.lock"
  flock 9
  if have_all; then
    echo "$1: $3"
    exit 0
  fi
  tmp="$(mktemp -d "$2/.fetch-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
}

npm_fetch_package() {
  local prefix="$1" spec="$2" tarball="$3" sha="$4" work="$5" dest="$6" actual
  echo "$prefix: npm pack $spec"
  if ! (cd "$work" && npm pack "$spec" --loglevel=error >/dev/null); then
    echo "$prefix: 'npm pack $spec' failed: is the npm registry reachable?" >&2
    return 1
  fi
  actual="$(sha1sum "$work/$tarball" | cut -d' ' -f1)"
  if [[ "$actual" != "$sha" ]]; then
    echo "$prefix: $tarball has SHA-1 $actual, expected $sha" >&2
    return 1
  fi
  mkdir -p "$dest"
  tar -xzf "$work/$tarball" -C "$dest"
}
