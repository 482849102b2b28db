#!/usr/bin/env bash
# Builds a small topic-classification data set from Debian's fortune cookies (packages fortunes
# and fortunes-min, installed by scripts/setup.sh): each category file is a class.
#
#   OUT_DIR/train.jsonl   70% of each class   {"text": "Cheese -- milk's leap toward immortality. ...",
#   OUT_DIR/val.jsonl     10%                  "label": "food"}
#   OUT_DIR/test.jsonl    20%
#   OUT_DIR/stats.json    examples per class and split, what was dropped, the package versions
#
#   scripts/prepare-fortunes-data.sh [OUT_DIR]        # default: data/fortunes
#   ptft finetune --from BERT_CKPT --set data.train=data/fortunes/train.jsonl \
#     --set data.val=data/fortunes/val.jsonl
#
# Which classes. Ten categories whose fortunes are mostly about one clear topic and that hold
# 140-1000 entries: art, computers, education, food, law, literature, love, politics, science,
# sports. Left out: the offensive ones (off/, not installed here anyway); the big mixed bags
# (fortunes, cookie, definitions, miscellaneous, people, platitudes, wisdom, songs-poems, zippy,
# men-women, ...), which are not a topic; medicine (~70 entries: too few for a 20% test split);
# work, kids, drugs, startrek (topical, but ten classes are enough for a demo that trains in
# minutes on a CPU).
#
# Per fortune (entries are separated by lines holding only "%"): backspace overstrikes are
# applied ("____^H^H^H^HBODY" -> "BODY"), other control characters dropped, doubly encoded UTF-8
# repaired ("donâ€™t" -> "don’t"); lines are joined and runs of white space collapse to one space.
# Attributions ("-- Mark Twain") stay: they are part of the fortune. Dropped: entries shorter than
# 20 characters or that are only an attribution, longer than 1000 characters (long stories and
# ASCII tables), exact duplicates within a class (kept once) and texts that two categories both
# hold (dropped from both: their label is ambiguous). Each class is then capped at 300 fortunes
# (computers alone has ~990) so that no class dominates, chosen by a seeded hash of the text.
#
# The split is stratified: each class's fortunes are ordered by a seeded SHA-256 of the text and
# cut 70/10/20, so every class is in every split and a fortune's split does not depend on the
# other fortunes of its class beyond their order. Rows are shuffled the same way (a hash, not a
# random generator), so the files are byte-identical across runs, machines and Python versions.
# Files are written to OUT_DIR/.tmp-PID/ and renamed into OUT_DIR one by one, stats.json last:
# a run that fails leaves the previous files as they were. data/ is git-ignored: the data set is
# generated, never committed.
set -euo pipefail

OUT="${1:-data/fortunes}"
SRC=/usr/share/games/fortunes

command -v python3 >/dev/null || { echo "prepare-fortunes-data: python3 is needed" >&2; exit 1; }
if [[ ! -r "$SRC/computers" || ! -r "$SRC/literature" ]]; then
  echo "prepare-fortunes-data: $SRC/computers or $SRC/literature not found; install fortunes and" \
       "fortunes-min (sudo scripts/setup.sh)" >&2
  exit 1
fi
version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }

mkdir -p "$OUT"
TMP="$OUT/.tmp-$$"
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP"

SRC="$SRC" TMP="$TMP" FORTUNES_VERSION="$(version fortunes)" FORTUNES_MIN_VERSION="$(version fortunes-min)" \
    python3 - <<'PY'
import hashlib, json, os, re, sys

CLASSES = ["art", "computers", "education", "food", "law", "literature", "love", "politics", "science", "sports"]
MIN_CHARS, MAX_CHARS = 20, 1000
CAP = 300                       # fortunes per class at most
SPLITS = [("train", 70), ("val", 10), ("test", 20)]  # percent of each class
SEED = "ptft-fortunes-1"
src, tmp = os.environ["SRC"], os.environ["TMP"]


def key(*parts):
    return hashlib.sha256("\x00".join((SEED,) + parts).encode("utf-8")).hexdigest()


def repair_mojibake(t):
    # UTF-8 read as Latin-1 and written again as UTF-8, up to three times over ("â€™" for "’").
    for _ in range(3):
        if not re.search("[\u0080-\u00ff]", t):
            break
        try:
            fixed = t.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            break
        t = fixed
    return t


def clean(entry):
    out = []
    for ch in entry:
        if ch == "\b":  # overstrike: the next character replaces the previous one
            if out:
                out.pop()
        elif ch in "\n\t" or not (ord(ch) < 32 or ord(ch) == 127):
            out.append(ch)
    return " ".join(repair_mojibake("".join(out)).split())


dropped = {"short": 0, "attribution_only": 0, "long": 0, "duplicate": 0, "in_two_categories": 0, "over_cap": 0}
entries, texts = {}, {}  # class -> entries read; class -> distinct kept texts
for c in CLASSES:
    with open(os.path.join(src, c), encoding="utf-8") as f:
        raw = f.read()
    parts = re.split(r"^%[ \t]*\n", raw, flags=re.M)
    entries[c] = 0
    kept = {}
    for part in parts:
        if not part.strip():
            continue
        entries[c] += 1
        t = clean(part)
        if len(t) < MIN_CHARS:
            dropped["short"] += 1
        elif t.startswith("--"):
            dropped["attribution_only"] += 1
        elif len(t) > MAX_CHARS:
            dropped["long"] += 1
        elif t in kept:
            dropped["duplicate"] += 1
        else:
            kept[t] = True
    texts[c] = list(kept)

owners = {}
for c in CLASSES:
    for t in texts[c]:
        owners.setdefault(t, []).append(c)
stats = {}
rows = {name: [] for name, _ in SPLITS}
for c in CLASSES:
    unique = [t for t in texts[c] if len(owners[t]) == 1]
    dropped["in_two_categories"] += len(texts[c]) - len(unique)
    unique.sort(key=lambda t: key("order", c, t))
    available = len(unique)
    if len(unique) > CAP:
        dropped["over_cap"] += len(unique) - CAP
        unique = unique[:CAP]
    n = len(unique)
    counts, begin = {}, 0
    for i, (name, percent) in enumerate(SPLITS):
        end = n if i == len(SPLITS) - 1 else begin + round(n * percent / 100)
        rows[name] += [(t, c) for t in unique[begin:end]]
        counts[name] = end - begin
        begin = end
    if min(counts.values()) == 0:
        sys.exit(f"prepare-fortunes-data: class {c} has only {n} fortunes: too few to split")
    stats[c] = {"entries": entries[c], "kept": available, **counts, "total": n}

for name, _ in SPLITS:
    rs = sorted(rows[name], key=lambda r: key("shuffle", name, r[0]))
    with open(os.path.join(tmp, name + ".jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for t, c in rs:
            f.write(json.dumps({"text": t, "label": c}, ensure_ascii=False) + "\n")

summary = {
    "source": {"packages": {"fortunes": os.environ["FORTUNES_VERSION"],
                            "fortunes-min": os.environ["FORTUNES_MIN_VERSION"]},
               "directory": src},
    "classes": CLASSES,
    "rules": {"min_chars": MIN_CHARS, "max_chars": MAX_CHARS, "cap_per_class": CAP,
              "split_percent": {name: p for name, p in SPLITS}, "seed": SEED},
    "per_class": stats,
    "splits": {name: len(rows[name]) for name, _ in SPLITS},
    "dropped": dropped,
}
with open(os.path.join(tmp, "stats.json"), "w", encoding="utf-8", newline="\n") as f:
    f.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")

w = max(len(c) for c in CLASSES)
print(f"{'class':<{w}}  {'train':>5} {'val':>4} {'test':>4}  (of entries)", file=sys.stderr)
for c in CLASSES:
    s = stats[c]
    print(f"{c:<{w}}  {s['train']:>5} {s['val']:>4} {s['test']:>4}  ({s['entries']})", file=sys.stderr)
print(f"{'all':<{w}}  {len(rows['train']):>5} {len(rows['val']):>4} {len(rows['test']):>4}", file=sys.stderr)
print("dropped: " + ", ".join(f"{k} {v}" for k, v in dropped.items()), file=sys.stderr)
PY

for f in train.jsonl val.jsonl test.jsonl stats.json; do mv -f "$TMP/$f" "$OUT/$f"; done
echo "fortunes: $(wc -l < "$OUT/train.jsonl") train, $(wc -l < "$OUT/val.jsonl") val, $(wc -l < "$OUT/test.jsonl") test rows -> $OUT"
