#!/usr/bin/env bash
# Kill campaign (issue 21, item 3): SIGKILL ptft's writers at random moments and check that
# nothing is ever left half-written.
#
#   scripts/kill-test.sh [N=100]            # PTFT=path/to/ptft (default build/ptft)
#   KILL_SEED=S scripts/kill-test.sh 10     # the same kill schedule again
#
# 1. Training: N SIGKILLs of `ptft pretrain` (configs/mlp-spirals.yaml, 2000 steps,
#    train.save_every=10, --threads 1). Each kill lands at one of three kinds of moment:
#      delay   a random delay from start (startup, training, evaluation, checkpoint writes);
#      writing just after a checkpoint's temporary step-*.tmp-* directory appears (mid-write);
#      renamed just after the new step-* directory appears (before `last` moves, or during pruning).
#    After each kill every step-* directory must be complete and `last` must point to one (or
#    not exist yet: a kill just after the first rename); then `--resume` continues. A run takes 1 to 8 kills; when it finishes, its
#    checkpoints/last/model.safetensors and optimizer.safetensors must equal (cmp) those of an
#    uninterrupted run, `best` must point to the same step, and the run's report must read its
#    metrics.jsonl (no torn line left in the middle).
# 2. `ptft data prepare` (N/5 kills, at least 1) and 3. `ptft export` (N/5 kills, --format hf
#    and gguf in turn): after each kill the output is absent or equal (diff -r / cmp) to an
#    uninterrupted run's. Then, if absent, the same command must succeed and give that output;
#    if whole, the same command must refuse (exit 1) and leave it as it is. Every third data
#    prepare run replaces an existing output with --force.
#
# Prints what differed, then one summary line; exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
N="${1:-100}"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/kill-test.sh [N>=1]" >&2; exit 2; }
PTFT="${PTFT:-build/ptft}"
[[ -x "$PTFT" ]] || { echo "kill-test: no ptft binary at '$PTFT' (set PTFT=...)" >&2; exit 2; }
PTFT="$(realpath "$PTFT")"
SEED="${KILL_SEED:-$$}"
RANDOM="$SEED"
M=$(( N / 5 > 0 ? N / 5 : 1 ))

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ptft-kill-test.XXXXXX")"
BG=""  # the ptft process in flight
cleanup() { [[ -n "$BG" ]] && kill -9 "$BG" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
FAILURES=0
fail() { echo "FAIL: $*" >&2; FAILURES=$((FAILURES + 1)); }
say() { echo "kill-test: $*" >&2; }

rand() { echo $(( (RANDOM * 32768 + RANDOM) % $1 )); }  # 0 .. $1-1
now_ms() { local t="${EPOCHREALTIME/./}"; echo $(( t / 1000 )); }
sleep_ms() { sleep "$(printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )))"; }

# Waits until a path matching glob $1 exists while $BG runs (polls every 0.5 ms without forks:
# `read -t` on a pipe nobody writes); 1 if BG ended first.
exec {NAP}<> <(:)
wait_glob() {
  while kill -0 "$BG" 2>/dev/null; do
    compgen -G "$1" > /dev/null && return 0
    read -r -t 0.0005 -u "$NAP"
  done
  return 1
}
# SIGKILLs $BG; KILL_ST: its status (137 when the kill ended it).
kill_bg() {
  kill -9 "$BG" 2>/dev/null
  { wait "$BG"; KILL_ST=$?; } 2>/dev/null  # without bash's "Killed" line
  BG=""
}
# Starts "$@" in the background (stdout/stderr to $WORK/bg.log) and records its start time.
start_bg() {
  "$@" > "$WORK/bg.log" 2>&1 &
  BG=$!
  T0="$(now_ms)"
}
# Kills $BG after a random delay below $1 ms (from its start), or when glob $2 appears.
kill_at() {
  local max="$1" glob="${2:-}"
  if [[ -n "$glob" ]]; then
    wait_glob "$glob"
  else
    local left=$(( T0 + $(rand "$max") - $(now_ms) ))
    (( left > 0 )) && sleep_ms "$left"
  fi
  kill_bg
}

# ---------------------------------------------------------------- 1. training
CONFIG=configs/mlp-spirals.yaml
train_cmd() {  # train_cmd RUN [--resume]: sets CMD
  CMD=("$PTFT" pretrain --config "$CONFIG" --out "$1" --threads 1 --quiet
       --set train.steps=2000 --set train.save_every=10 --set train.eval_every=100
       --set train.overfit_patience=0 "${@:2}")
}
# Every step-* directory complete, `last` pointing to one, its state at its step.
check_checkpoints() {
  local ck="$1/checkpoints" d f n
  [[ -e "$ck" ]] || return 0  # killed before the first checkpoint
  for d in "$ck"/step-*; do
    [[ -e "$d" ]] || continue
    [[ "$d" == *.tmp-* ]] && continue  # a writer's temporary: never read, removed on resume
    for f in config.json model.safetensors optimizer.safetensors trainer_state.json; do
      [[ -s "$d/$f" ]] || { fail "$d has no $f after a kill"; return 1; }
    done
    n="$(grep -o '^  "step": [0-9]*' "$d/trainer_state.json" | grep -o '[0-9]*$')"
    [[ "$d" == */step-$(printf '%08d' "${n:-0}") ]] || { fail "$d/trainer_state.json says step '${n}'"; return 1; }
  done
  if [[ -L "$ck/last" ]]; then
    local t; t="$(readlink "$ck/last")"
    [[ "$t" != *.tmp-* && -s "$ck/$t/model.safetensors" ]] || { fail "$ck/last -> '$t' is not a complete checkpoint"; return 1; }
  elif compgen -G "$ck/step-*" | grep -qv '\.tmp-'; then
    # Killed between the first checkpoint's rename and the creation of `last`: the directory is
    # complete (checked above) but not yet the run's; --resume starts over and reuses it.
    NO_LAST=$((NO_LAST + 1))
  fi
}
last_step() {  # the step `last` points to, or 0
  local t; t="$(readlink "$1/checkpoints/last" 2>/dev/null)" || { echo 0; return; }
  t="${t#step-}"; echo $(( 10#$t ))
}

say "seed $SEED, $N training kills, $M data prepare kills, $M export kills, ptft $PTFT"
started="$(now_ms)"
REF="$WORK/reference"
t="$(now_ms)"
train_cmd "$REF"
"${CMD[@]}" > "$WORK/ref.log" 2>&1 || { cat "$WORK/ref.log" >&2; echo "kill-test: the reference run failed" >&2; exit 1; }
REF_MS=$(( $(now_ms) - t ))
train_cmd "$WORK/startup" --set train.steps=10
t="$(now_ms)"
"${CMD[@]}" > "$WORK/ref.log" 2>&1 || { cat "$WORK/ref.log" >&2; exit 1; }
START_MS=$(( $(now_ms) - t ))
say "uninterrupted run: ${REF_MS} ms (a 10-step run: ${START_MS} ms)"

kills=0 good=0 runs=0 mode_count=(0 0 0) NO_LAST=0
while (( kills < N )); do
  runs=$((runs + 1))
  run="$WORK/run-$runs"
  budget=$(( 1 + $(rand 8) ))
  in_run=0 resume=()
  while (( in_run < budget && kills < N )); do
    step="$(last_step "$run")"
    next=$(( step + 10 ))
    while [[ -e "$run/checkpoints/step-$(printf '%08d' "$next")" ]]; do next=$(( next + 10 )); done
    next="$(printf '%08d' "$next")"
    train_cmd "$run" "${resume[@]}"
    start_bg "${CMD[@]}"
    mode=$(rand 3)
    case $mode in
      0) kill_at $(( START_MS + (REF_MS - START_MS) * (2000 - step) / 2000 )) ;;  # what is left of the run
      1) kill_at 0 "$run/checkpoints/step-*.tmp-$BG-*" ;;
      2) kill_at 0 "$run/checkpoints/step-$next" ;;
    esac
    resume=(--resume)
    if (( KILL_ST != 137 )); then  # it ended before the kill
      (( KILL_ST == 0 )) || { fail "run $runs exited $KILL_ST without a kill:"; cat "$WORK/bg.log" >&2; }
      break
    fi
    kills=$((kills + 1)) in_run=$((in_run + 1)) mode_count[mode]=$(( mode_count[mode] + 1 ))
    check_checkpoints "$run" || { ls -la "$run/checkpoints" >&2; }
  done
  # Finish the run (a resume of a finished run changes nothing).
  train_cmd "$run" --resume
  if ! "${CMD[@]}" > "$WORK/resume.log" 2>&1; then
    fail "run $runs: --resume failed after $in_run kill(s):"; cat "$WORK/resume.log" >&2; continue
  fi
  ok=1
  for f in model.safetensors optimizer.safetensors; do
    cmp "$REF/checkpoints/last/$f" "$run/checkpoints/last/$f" >&2 || { fail "run $runs ($in_run kills): checkpoints/last/$f differs from the uninterrupted run's"; ok=0; }
  done
  [[ "$(readlink "$REF/checkpoints/best")" == "$(readlink "$run/checkpoints/best")" ]] ||
    { fail "run $runs: best -> $(readlink "$run/checkpoints/best"), uninterrupted: $(readlink "$REF/checkpoints/best")"; ok=0; }
  # The run's own report.html reads every line of metrics.jsonl: a line torn by a kill and then
  # extended by the resumed run would make it fail (a warning, the run still succeeds).
  if grep -q "could not write the run report" "$WORK/resume.log"; then
    fail "run $runs: $(grep -m1 "could not write the run report" "$WORK/resume.log")"; ok=0
  fi
  if compgen -G "$run/checkpoints/*.tmp-*" > /dev/null; then
    fail "run $runs: temporaries left after the resumed run finished: $(ls "$run/checkpoints" | grep tmp | tr '\n' ' ')"; ok=0
  fi
  (( ok )) && good=$((good + in_run))
  rm -rf "$run"
done
TRAIN_LINE="$good/$kills training kills resumed byte-identical ($runs runs; moments: ${mode_count[0]} random delay, ${mode_count[1]} mid-checkpoint-write, ${mode_count[2]} just after a step-* rename)"
say "$TRAIN_LINE"
(( NO_LAST )) && say "$NO_LAST kill(s) left a complete first checkpoint before \`last\` existed (resume started over)"

# ---------------------------------------------------------------- shared: whole or absent
# check_whole_or_absent OUT REF: 0 absent, 1 whole; a failure otherwise.
check_whole_or_absent() {
  local out="$1" ref="$2"
  if [[ ! -e "$out" ]]; then return 0; fi
  if [[ -d "$ref" ]]; then
    diff -r "$ref" "$out" > "$WORK/diff" 2>&1 && return 1
  else
    cmp "$ref" "$out" > "$WORK/diff" 2>&1 && return 1
  fi
  fail "$out is neither absent nor whole after a kill:"; head -20 "$WORK/diff" >&2
  return 2
}
# after_kill NAME OUT REF CMD...: checks the output, then re-runs CMD (see the header).
after_kill() {
  local name="$1" out="$2" ref="$3"; shift 3
  check_whole_or_absent "$out" "$ref"
  local state=$?
  (( state == 2 )) && return 1
  "$@" > "$WORK/rerun.log" 2>&1
  local rc=$?
  if (( state == 0 )); then
    (( rc == 0 )) || { fail "$name: the re-run after a kill failed (exit $rc):"; cat "$WORK/rerun.log" >&2; return 1; }
    check_whole_or_absent "$out" "$ref"
    (( $? == 1 )) || { fail "$name: the re-run's output differs from the uninterrupted one"; return 1; }
  else
    (( rc == 1 )) || { fail "$name: a re-run onto the whole output exited $rc (expected 1, a refusal):"; cat "$WORK/rerun.log" >&2; return 1; }
    check_whole_or_absent "$out" "$ref"
    (( $? == 1 )) || { fail "$name: the refused re-run changed the output"; return 1; }
  fi
}
# A temporary left by a kill must be named as one.
check_leftovers() {
  local dir="$1" keep="$2" e
  for e in "$dir"/*; do
    [[ -e "$e" ]] || continue
    case "$e" in *.tmp-*) LEFTOVERS=$((LEFTOVERS + 1)) ;; "$keep") ;; *) fail "unexpected entry after a kill: $e" ;; esac
  done
}

# ---------------------------------------------------------------- 2. data prepare
D="$WORK/data"
mkdir -p "$D/in"
for i in 1 2 3 4; do  # ~1 MB of licence texts, 68 documents
  for f in /usr/share/common-licenses/*; do [[ -f "$f" ]] && cp "$f" "$D/in/$(basename "$f")-$i.txt"; done
done
"$PTFT" tokenizer train --input /usr/share/common-licenses --vocab-size 500 --type bpe --out "$D/tok" --threads 1 \
  > "$WORK/tok.log" 2>&1 || { cat "$WORK/tok.log" >&2; echo "kill-test: tokenizer train failed" >&2; exit 1; }
prep_cmd() {  # prep_cmd OUT [--force]: sets CMD
  CMD=("$PTFT" data prepare --tokenizer "$D/tok" --input "$D/in" --out "$1" --threads 1 --shard-tokens 20000 --quiet "${@:2}")
}
prep_cmd "$D/ref"
t="$(now_ms)"
"${CMD[@]}" > "$WORK/prep.log" 2>&1 || { cat "$WORK/prep.log" >&2; echo "kill-test: data prepare failed" >&2; exit 1; }
PREP_MS=$(( $(now_ms) - t ))
LEFTOVERS=0 prep_good=0 prep_kills=0 prep_whole=0
while (( prep_kills < M )); do
  out="$D/outs/shards"
  rm -rf "$D/outs"; mkdir -p "$D/outs"
  force=()
  if (( prep_kills % 3 == 2 )); then cp -r "$D/ref" "$out"; force=(--force); fi
  prep_cmd "$out" "${force[@]}"
  start_bg "${CMD[@]}"
  case $(rand 3) in
    0) kill_at "$PREP_MS" ;;
    1) kill_at 0 "$out.tmp-$BG-*/train-0000[1-9].bin" ;;  # mid-way through the shards
    2) if (( ${#force[@]} )); then kill_at 0 "$out.tmp-$BG-*/meta.json"  # around the renames
       else kill_at 0 "$out/meta.json"; fi ;;                              # just after the rename
  esac
  (( KILL_ST == 137 )) || { (( KILL_ST == 0 )) || { fail "data prepare exited $KILL_ST:"; cat "$WORK/bg.log" >&2; }; continue; }
  prep_kills=$((prep_kills + 1))
  if (( ${#force[@]} )); then
    # An interrupted --force leaves the old output or the new one (or, between its two renames, none).
    check_whole_or_absent "$out" "$D/ref"; st=$?
    (( st != 2 )) && { (( st == 1 )) && prep_whole=$((prep_whole + 1)); check_leftovers "$D/outs" "$out"; prep_good=$((prep_good + 1)); }
    continue
  fi
  check_whole_or_absent "$out" "$D/ref"; (( $? == 1 )) && prep_whole=$((prep_whole + 1))
  check_leftovers "$D/outs" "$out"
  prep_cmd "$out"
  after_kill "data prepare" "$out" "$D/ref" "${CMD[@]}" && prep_good=$((prep_good + 1))
done
say "data prepare: $prep_good/$prep_kills ($prep_whole whole, the rest absent; uninterrupted ${PREP_MS} ms)"

# ---------------------------------------------------------------- 3. export
E="$WORK/export"
mkdir -p "$E"
cat > "$E/gpt.yaml" <<EOF
model: {family: gpt, vocab_size: 500, n_positions: 64, n_embd: 256, n_layer: 4, n_head: 4}
data: {train: $D/ref, val: $D/ref}
train: {steps: 1, batch_size: 2, eval_every: 0, eval_batches: 1, save_every: 1, overfit_patience: 0}
EOF
"$PTFT" pretrain --config "$E/gpt.yaml" --out "$E/run" --threads 1 --quiet > "$WORK/gpt.log" 2>&1 ||
  { cat "$WORK/gpt.log" >&2; echo "kill-test: the GPT run to export failed" >&2; exit 1; }
export_cmd() {  # export_cmd hf|gguf OUT: sets CMD
  CMD=("$PTFT" export --model "$E/run" --format "$1" --out "$2")
}
declare -A EXP_MS
for fmt in hf gguf; do
  t="$(now_ms)"
  export_cmd "$fmt" "$E/ref-$fmt"
  "${CMD[@]}" > "$WORK/export.log" 2>&1 || { cat "$WORK/export.log" >&2; echo "kill-test: export $fmt failed" >&2; exit 1; }
  EXP_MS[$fmt]=$(( $(now_ms) - t ))
done
exp_good=0 exp_kills=0 exp_whole=0
while (( exp_kills < M )); do
  fmt=hf; (( exp_kills % 2 )) && fmt=gguf
  out="$E/outs/model"; [[ $fmt == gguf ]] && out="$E/outs/model.gguf"
  rm -rf "$E/outs"; mkdir -p "$E/outs"
  export_cmd "$fmt" "$out"
  start_bg "${CMD[@]}"
  case $(rand 3) in
    0) kill_at "${EXP_MS[$fmt]}" ;;
    1) kill_at 0 "$out.tmp-$BG-*" ;;  # while the temporary is written
    2) kill_at 0 "$out" ;;            # just after the rename
  esac
  (( KILL_ST == 137 )) || { (( KILL_ST == 0 )) || { fail "export exited $KILL_ST:"; cat "$WORK/bg.log" >&2; }; continue; }
  exp_kills=$((exp_kills + 1))
  check_whole_or_absent "$out" "$E/ref-$fmt"; (( $? == 1 )) && exp_whole=$((exp_whole + 1))
  check_leftovers "$E/outs" "$out"
  export_cmd "$fmt" "$out"
  after_kill "export $fmt" "$out" "$E/ref-$fmt" "${CMD[@]}" && exp_good=$((exp_good + 1))
done
say "export: $exp_good/$exp_kills ($exp_whole whole, the rest absent; uninterrupted hf ${EXP_MS[hf]} ms, gguf ${EXP_MS[gguf]} ms)"
say "temporaries (*.tmp-*) left next to data prepare / export outputs by kills: $LEFTOVERS (not removed by the re-run)"

secs=$(( ($(now_ms) - started) / 1000 ))
echo "kill-test: $good/$kills training kills resumed byte-identical; data prepare $prep_good/$prep_kills; export $exp_good/$exp_kills; ${secs} s, seed $SEED"
(( FAILURES == 0 && good == kills && prep_good == prep_kills && exp_good == exp_kills )) || exit 1
