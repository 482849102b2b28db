#!/usr/bin/env bash
# Full disk (issue 21, item 4): ptft's writers run into a 4 MB tmpfs that a filler file has
# (almost) filled. Each must exit 1 with a message that says the disk is full and names the
# path, leave the previous results as they were, and leave no partial output that looks whole
# (a temporary must be removed, or at least named *.tmp-*).
#
#   scripts/full-disk-test.sh        # as root (it mounts a tmpfs); PTFT=path/to/ptft (build/ptft)
#
# Writers: pretrain (a new run, --resume onto an earlier checkpoint, metrics.jsonl itself),
# data prepare (new --out, --force over an old one), export (hf, gguf), tokenizer train (new
# --out, over an existing tokenizer), report. Prints one PASS/FAIL line per case, the output of
# failed ones, and a summary; exits 1 when a case fails, 2 when it cannot run.
set -uo pipefail
cd "$(dirname "$0")/.."
PTFT="${PTFT:-build/ptft}"
[[ -x "$PTFT" ]] || { echo "full-disk-test: no ptft binary at '$PTFT' (set PTFT=...)" >&2; exit 2; }
PTFT="$(realpath "$PTFT")"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-full-disk.XXXXXX")"
MNT="$WORK/mnt"
mkdir -p "$MNT"
cleanup() { umount "$MNT" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null ||
  { echo "full-disk-test: cannot mount a tmpfs (run as root)" >&2; exit 2; }

PASSED=0 FAILED=0
# fill FREE: a filler file leaves FREE bytes (a multiple of 4096) free on the tmpfs.
fill() {
  rm -f "$MNT/filler"
  local avail; avail="$(df --output=avail -B1 "$MNT" | tail -1)"
  dd if=/dev/zero of="$MNT/filler" bs=4096 count=$(( (avail - $1) / 4096 )) status=none 2>/dev/null
}
unfill() { rm -f "$MNT/filler"; }
# tree DIR: every file's checksum and every link's target, for "intact" checks.
tree() {
  (cd "$1" 2>/dev/null && find . \( -type f -o -type l \) -print0 | sort -z |
    while IFS= read -r -d '' f; do
      if [[ -L "$f" ]]; then echo "$f -> $(readlink "$f")"; else echo "$(sha1sum < "$f" | cut -c1-40) $f"; fi
    done)
}
# run_full NAME CMD...: runs CMD into the full disk; RC and OUT (stdout+stderr).
run_full() { OUT="$("${@:2}" 2>&1)"; RC=$?; }
PROBLEMS=()
problem() { PROBLEMS+=("$*"); }
# The message must say the disk is full and name a path on it.
check_message() {
  [[ "$OUT" == *"No space left on device"* || "$OUT" == *"disk is full"* || "$OUT" == *"disk may be full"* ]] ||
    problem "the message does not say the disk is full"
  [[ "$OUT" == *"$MNT"* ]] || problem "the message names no path on the full disk"
  [[ "$OUT" == *"No space left on device"* ]] || problem "the message lacks the system's reason (No space left on device)"
}
# New entries of DIR (compared with the listing $2) must be *.tmp-* only; those are reported.
check_leftovers() {
  local dir="$1" before="$2" e
  while IFS= read -r e; do
    [[ -z "$e" ]] && continue
    grep -qxF "$e" <<< "$before" && continue
    if [[ "$e" == *.tmp-* ]]; then problem "temporary left: $dir/$e"
    else problem "partial output left: $dir/$e"; fi
  done < <(ls -A "$dir" 2>/dev/null | grep -vx filler)
}
verdict() {  # verdict NAME COMMAND-TEXT: PASS when no problem was recorded
  local name="$1"
  if (( ${#PROBLEMS[@]} == 0 )); then
    echo "PASS  $name"; PASSED=$((PASSED + 1))
  else
    echo "FAIL  $name"; FAILED=$((FAILED + 1))
    printf '      - %s\n' "${PROBLEMS[@]}"
    echo "      command: $2"
    echo "      exit status $RC, output:"
    sed 's/^/        | /' <<< "$OUT" | head -8
  fi
  PROBLEMS=()
}
expect_rc1() { (( RC == 1 )) || problem "exit status $RC, expected 1"; }

# ---- sources, on the real disk: tokenizer, shards, a small GPT run
S="$WORK/src"
mkdir -p "$S"
"$PTFT" tokenizer train --input /usr/share/common-licenses --vocab-size 500 --type bpe --out "$S/tok" --threads 1 > /dev/null 2>&1 &&
"$PTFT" data prepare --tokenizer "$S/tok" --input /usr/share/common-licenses --out "$S/shards" --threads 1 --quiet &&
cat > "$S/gpt.yaml" <<EOF &&
model: {family: gpt, vocab_size: 500, n_positions: 64, n_embd: 64, n_layer: 2, n_head: 2}
data: {train: $S/shards, val: $S/shards}
train: {steps: 2, batch_size: 2, eval_every: 0, eval_batches: 1, save_every: 2, overfit_patience: 0}
EOF
"$PTFT" pretrain --config "$S/gpt.yaml" --out "$S/run" --threads 1 --quiet ||
  { echo "full-disk-test: preparing the sources failed" >&2; exit 2; }
"$PTFT" tokenizer train --input /usr/share/common-licenses --vocab-size 2000 --type bpe --out "$S/tok2000" --threads 1 > /dev/null 2>&1
mkdir -p "$S/in" && cp /usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0 "$S/in/"

# ---- pretrain
rm -rf "${MNT:?}"/*; fill 204800; before="$(ls -A "$MNT")"
cmd=("$PTFT" pretrain --config "$S/gpt.yaml" --out "$MNT/run" --threads 1 --quiet)
run_full x "${cmd[@]}"; expect_rc1; check_message
[[ -z "$(ls -A "$MNT/run/checkpoints" 2>/dev/null)" ]] || problem "checkpoints/ holds: $(ls -A "$MNT/run/checkpoints" | tr '\n' ' ')"
verdict "pretrain, a new run, 200 KB free (the first checkpoint does not fit)" "${cmd[*]}"

rm -rf "${MNT:?}"/*; cp -r "$S/run" "$MNT/run"; ck_before="$(tree "$MNT/run/checkpoints")"; fill 204800
cmd=("$PTFT" pretrain --config "$MNT/run/config.yaml" --out "$MNT/run" --resume --set train.steps=4 --threads 1 --quiet)
run_full x "${cmd[@]}"; expect_rc1; check_message
[[ "$(tree "$MNT/run/checkpoints")" == "$ck_before" ]] || problem "checkpoints/ changed: $(diff <(echo "$ck_before") <(tree "$MNT/run/checkpoints") | tr '\n' ' ')"
verdict "pretrain --resume, 200 KB free (the step-4 checkpoint does not fit; step 2 must stay)" "${cmd[*]}"

# metrics.jsonl: an append that fails must not leave a torn line that the next append extends.
rm -rf "${MNT:?}"/*; cp -r "$S/run" "$MNT/run"; fill 0
run_full x "${cmd[@]}"; expect_rc1; check_message
first_out="$OUT" first_rc=$RC
unfill
run_full x "${cmd[@]}"
(( RC == 0 )) || problem "--resume after freeing space: exit status $RC"
rep="$("$PTFT" report "$MNT/run" --out "$WORK/report.html" --no-samples 2>&1)" ||
  problem "metrics.jsonl is corrupt after the full disk and a resume: ptft report says: $(grep -m1 error <<< "$rep")"
grep -q "could not write the run report" <<< "$OUT" && problem "the resumed run's own report failed: $(grep -m1 'could not write' <<< "$OUT")"
OUT="$first_out" RC=$first_rc
verdict "pretrain --resume, 0 bytes free (metrics.jsonl append fails), then free space and --resume, then ptft report" "${cmd[*]}"

# ---- data prepare
rm -rf "${MNT:?}"/*; "$PTFT" data prepare --tokenizer "$S/tok" --input "$S/in" --out "$MNT/old" --threads 1 --quiet
old="$(tree "$MNT/old")"; fill 20480; before="$(ls -A "$MNT")"
cmd=("$PTFT" data prepare --tokenizer "$S/tok" --input "$S/in" --out "$MNT/new" --threads 1 --quiet)
run_full x "${cmd[@]}"; expect_rc1; check_message; check_leftovers "$MNT" "$before"
[[ "$(tree "$MNT/old")" == "$old" ]] || problem "the earlier output $MNT/old changed"
verdict "data prepare, a new --out, 20 KB free" "${cmd[*]}"

cmd=("$PTFT" data prepare --tokenizer "$S/tok" --input "$S/in" --out "$MNT/old" --threads 1 --quiet --force)
run_full x "${cmd[@]}"; expect_rc1; check_message; check_leftovers "$MNT" "$before"
[[ "$(tree "$MNT/old")" == "$old" ]] || problem "the output that --force was to replace changed or is gone"
verdict "data prepare --force over an earlier output, 20 KB free" "${cmd[*]}"

# ---- export
for fmt in hf gguf; do
  out="$MNT/model"; [[ $fmt == gguf ]] && out="$MNT/model.gguf"
  rm -rf "${MNT:?}"/*; "$PTFT" export --model "$S/run" --format "$fmt" --out "$MNT/old-$fmt" > /dev/null 2>&1
  old="$(ls -l "$MNT/old-$fmt"; tree "$MNT/old-$fmt")"; fill 102400; before="$(ls -A "$MNT")"
  cmd=("$PTFT" export --model "$S/run" --format "$fmt" --out "$out")
  run_full x "${cmd[@]}"; expect_rc1; check_message; check_leftovers "$MNT" "$before"
  [[ "$(ls -l "$MNT/old-$fmt"; tree "$MNT/old-$fmt")" == "$old" ]] || problem "the earlier export changed"
  verdict "export --format $fmt, 100 KB free" "${cmd[*]}"
done

# ---- tokenizer train
rm -rf "${MNT:?}"/*; fill 8192; before="$(ls -A "$MNT")"
cmd=("$PTFT" tokenizer train --input /usr/share/common-licenses --vocab-size 500 --type bpe --out "$MNT/tok" --threads 1)
run_full x "${cmd[@]}"; expect_rc1; check_message; check_leftovers "$MNT" "$before"
verdict "tokenizer train, a new --out, 8 KB free" "${cmd[*]}"

# Over an existing tokenizer (500 pieces) with a 2000-piece one: afterwards the directory must be
# all old or all new, whatever the free space (tried from 6 to 12 pages). Since tokenizer train
# refuses a non-empty --out before training (it used to write in place, mixing old and new files
# here), the refusal with the old tokenizer intact passes too.
old="$(tree "$S/tok")" new="$(tree "$S/tok2000")"
cmd=("$PTFT" tokenizer train --input /usr/share/common-licenses --vocab-size 2000 --type bpe --out "$MNT/tok" --threads 1)
for pages in 6 7 8 9 10 11 12; do
  rm -rf "${MNT:?}"/*; cp -r "$S/tok" "$MNT/tok"; fill $(( pages * 4096 ))
  run_full x "${cmd[@]}"
  now="$(tree "$MNT/tok")"
  if (( RC == 0 )); then
    [[ "$now" == "$new" ]] || problem "$pages pages free: exit 0 but the directory is not the new tokenizer"
  else
    expect_rc1
    [[ "$OUT" == *"exists and is not empty"* ]] || check_message
    [[ "$now" == "$old" ]] || problem "$pages pages free: exit $RC and the directory mixes the new and the old tokenizer: $(diff <(echo "$old") <(echo "$now") | grep '^>' | tr '\n' ' ')"
  fi
  (( ${#PROBLEMS[@]} )) && break
done
verdict "tokenizer train over an existing tokenizer directory, 6 to 12 pages free" "${cmd[*]}"

# ---- report
rm -rf "${MNT:?}"/*; "$PTFT" report "$S/run" --out "$MNT/report.html" --no-samples > /dev/null 2>&1
old="$(sha1sum < "$MNT/report.html")"; fill 0; before="$(ls -A "$MNT")"
cmd=("$PTFT" report "$S/run" --out "$MNT/report.html" --no-samples --title again)
run_full x "${cmd[@]}"; expect_rc1; check_message; check_leftovers "$MNT" "$before"
[[ "$(sha1sum < "$MNT/report.html")" == "$old" ]] || problem "the earlier report.html changed"
verdict "report --out over an earlier report, 0 bytes free" "${cmd[*]}"

echo "full-disk-test: $PASSED passed, $FAILED failed (ptft $PTFT)"
(( FAILED == 0 ))
