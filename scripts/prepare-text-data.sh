#!/usr/bin/env bash
# Builds the default text corpora from Debian packages (installed by scripts/setup.sh):
#
#   OUT_DIR/general/gcide-NNNNN.txt   general English: the GNU Collaborative International
#                                     Dictionary of English (dict-gcide), as plain text
#   OUT_DIR/legal/*.txt               legal domain: licence texts (/usr/share/common-licenses/*)
#                                     and package copyright files (/usr/share/doc/*/copyright),
#                                     identical files kept once
#
#   scripts/prepare-text-data.sh [OUT_DIR]        # default: data/text
#   ptft data prepare --tokenizer TOK --input data/text/general --out data/shards/general
#
# Documents. `ptft data prepare` makes one document per file (an end-of-text token after each,
# and the train/val split by document), so the files here are the documents:
#   - GCIDE is cut into files of about 64 KB of whole, consecutive entries (~470 files). A
#     context window then sees neighbouring entries as the dictionary has them, end-of-text
#     tokens stay rare, and a 5% val split still gets ~25 documents from all over the alphabet.
#     (One document per headword would put an end-of-text token every ~300 bytes.)
#   - Each licence or copyright file is one document.
#
# GCIDE markup, as dictd stores it, is turned into plain text by scripts/lib/Gcide.pm (see there:
# pronunciations and source tags dropped, accent codes to UTF-8, one line per paragraph).
#
# Idempotent: a part is rebuilt only when its sources changed (OUT_DIR/.general.stamp and
# .legal.stamp record them, outside the corpus directories), into a temporary directory that
# replaces the old one at the end. data/ is git-ignored: the corpora
# are generated, never committed.
set -euo pipefail

OUT="${1:-data/text}"
GCIDE=/usr/share/dictd/gcide.dict.dz
CHUNK_BYTES=65536
LIB="$(dirname "$0")/lib"  # Gcide.pm
VERSION=1  # bump when the conversion changes, to rebuild

command -v perl >/dev/null || { echo "prepare-text-data: perl is needed" >&2; exit 1; }
mkdir -p "$OUT"
CLEANUP=""  # a temporary directory to remove if the script stops early
trap '[[ -n "$CLEANUP" ]] && rm -rf "$CLEANUP"' EXIT
rm -rf "$OUT"/.general.tmp-* "$OUT"/.legal.tmp-* "$OUT"/.legal.hashes-*  # left by an interrupted run

# Replaces directory $2 by the finished temporary directory $1.
swap_in() {
  local tmp="$1" dst="$2" old
  old="$dst.old-$$"
  if [[ -e "$dst" ]]; then mv "$dst" "$old"; fi
  mv "$tmp" "$dst"
  rm -rf "$old"
}

size_of() { du -sh "$1" | cut -f1; }
count_of() { find "$1" -type f -name '*.txt' | wc -l; }

# --- general: GCIDE ---------------------------------------------------------------------------
build_general() {
  local dst="$OUT/general" stamp tmp
  if [[ ! -r "$GCIDE" ]]; then
    echo "prepare-text-data: $GCIDE not found; install dict-gcide (sudo scripts/setup.sh)" >&2
    exit 1
  fi
  stamp="v$VERSION $(stat -c '%s %Y' "$GCIDE") chunk=$CHUNK_BYTES"
  if [[ -d "$dst" && -f "$OUT/.general.stamp" && "$(cat "$OUT/.general.stamp")" == "$stamp" ]]; then
    echo "general: up to date ($(count_of "$dst") files, $(size_of "$dst"))"
    return
  fi
  tmp="$OUT/.general.tmp-$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  CLEANUP="$tmp"
  # dictzip files are gzip files: zcat reads them.
  zcat "$GCIDE" | CHUNK_BYTES="$CHUNK_BYTES" OUT_DIR="$tmp" perl -CSE -Mutf8 -I"$LIB" -MGcide -e '
    use strict; use warnings; use Unicode::Normalize qw(NFC);
    my $chunk = $ENV{CHUNK_BYTES}; my $dir = $ENV{OUT_DIR};
    my @entries = Gcide::read_entries(\*STDIN);
    # Files of about $chunk bytes of whole entries, entries separated by a blank line.
    my ($n, $buf, $bytes) = (0, "", 0);
    my $write = sub {
      my $name = sprintf("%s/gcide-%05d.txt", $dir, $n++);
      open(my $fh, ">:encoding(UTF-8)", $name) or die "$name: $!";
      print $fh NFC($buf); close $fh or die "$name: $!";
      $buf = ""; $bytes = 0;
    };
    for my $e (@entries) {
      $buf .= ($buf eq "" ? "" : "\n") . $e;
      $bytes += length($e) + 1;
      $write->() if $bytes >= $chunk;
    }
    $write->() if $buf ne "";
    printf STDERR "general: %d GCIDE entries in %d files\n", scalar(@entries), $n;
  '
  swap_in "$tmp" "$dst"
  CLEANUP=""
  echo "$stamp" > "$OUT/.general.stamp"
  echo "general: $(count_of "$dst") files, $(size_of "$dst") -> $dst"
}

# --- legal: licences and copyright files ------------------------------------------------------
build_legal() {
  local dst="$OUT/legal" stamp tmp sources
  # Sources in a fixed order: licences first, then copyright files by package name.
  sources=$( { find /usr/share/common-licenses -maxdepth 1 \( -type f -o -type l \) 2>/dev/null | LC_ALL=C sort;
               ls -1 /usr/share/doc/*/copyright 2>/dev/null | LC_ALL=C sort; } )
  if [[ -z "$sources" ]]; then
    echo "prepare-text-data: no /usr/share/common-licenses or /usr/share/doc/*/copyright found" >&2
    exit 1
  fi
  stamp="v$VERSION $(printf '%s\n' "$sources" | xargs -d '\n' stat -L -c '%n %s %Y' 2>/dev/null | sha256sum | cut -c1-16)"
  if [[ -d "$dst" && -f "$OUT/.legal.stamp" && "$(cat "$OUT/.legal.stamp")" == "$stamp" ]]; then
    echo "legal: up to date ($(count_of "$dst") files, $(size_of "$dst"))"
    return
  fi
  tmp="$OUT/.legal.tmp-$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  CLEANUP="$tmp"
  local seen="$OUT/.legal.hashes-$$" total=0 kept=0 f hash name
  : > "$seen"
  while IFS= read -r f; do
    [[ -r "$f" && -s "$f" ]] || continue
    total=$((total + 1))
    hash=$(sha256sum < "$f" | cut -c1-64)
    if grep -qx "$hash" "$seen"; then continue; fi
    echo "$hash" >> "$seen"
    case "$f" in
      /usr/share/common-licenses/*) name="license-$(basename "$f")" ;;
      *) name="copyright-$(basename "$(dirname "$f")")" ;;
    esac
    cp -L "$f" "$tmp/$name.txt"
    kept=$((kept + 1))
  done <<< "$sources"
  rm -f "$seen"
  echo "legal: $kept distinct of $total files" >&2
  swap_in "$tmp" "$dst"
  CLEANUP=""
  echo "$stamp" > "$OUT/.legal.stamp"
  echo "legal: $(count_of "$dst") files, $(size_of "$dst") -> $dst"
}

build_general
build_legal
echo "total: $(size_of "$OUT") in $OUT"
