#!/usr/bin/env bash
# Builds a small chat fine-tuning (SFT) data set for a medical dictionary assistant from the
# GCIDE dictionary (Debian's dict-gcide, installed by scripts/setup.sh):
#
#   OUT_DIR/train.jsonl   ~90% of the terms   {"prompt": "What does \"abdomen\" mean in anatomy?",
#   OUT_DIR/val.jsonl     ~10% of the terms    "response": "The belly, or that part of the body ..."}
#
#   scripts/prepare-sft-data.sh [OUT_DIR]        # default: data/sft/medical
#   ptft finetune --config configs/llama-tiny-medical-sft.yaml --from RUN/checkpoints/best \
#     --set data.train=data/sft/medical/train.jsonl --set data.val=data/sft/medical/val.jsonl
#
# Which entries. GCIDE labels the field of a sense in parentheses: "(Med.)", "(Anat.)",
# "(Physiol.)", "(Surg.)", "(Pharm.)", "(Pathol.)", also combined ("(Anat. & Zool.)"). Every sense
# that carries one of these becomes a definition of its headword (or of the phrase that
# introduces it inside an entry: "Abdominal ring (Anat.), a fancied ringlike opening ..."). The
# definition is the text after the label, without author citations ("--Dunglison."), editor
# marks ("AS", "[AS]"), trailing related forms ("-- A*ba"sic, a.") and the next sub-sense
# ("(b) (Zool.) ..."); "See X."-only senses are left out. Senses of one term in one field are joined into one answer ("1. ... 2. ...", at most
# 3), so that no prompt has two different answers.
#
# Prompts vary among a few phrasings, named after the field ("in anatomy", "the medical term"),
# chosen by a hash of the term. The train/val split is by a hash of the term too: stable across
# runs and machines, and no term is in both files. Markup goes through scripts/lib/Gcide.pm, the
# same reader as scripts/prepare-text-data.sh. Rows are in dictionary order; the files are
# replaced only when complete. data/ is git-ignored: the data set is generated, never committed.
set -euo pipefail

OUT="${1:-data/sft/medical}"
GCIDE=/usr/share/dictd/gcide.dict.dz
LIB="$(dirname "$0")/lib"  # Gcide.pm
VAL_PERCENT=10

command -v perl >/dev/null || { echo "prepare-sft-data: perl is needed" >&2; exit 1; }
if [[ ! -r "$GCIDE" ]]; then
  echo "prepare-sft-data: $GCIDE not found; install dict-gcide (sudo scripts/setup.sh)" >&2
  exit 1
fi
mkdir -p "$OUT"
TMP="$OUT/.tmp-$$"
trap 'rm -f "$TMP".train "$TMP".val' EXIT

# dictzip files are gzip files: zcat reads them.
zcat "$GCIDE" | TRAIN="$TMP.train" VAL="$TMP.val" VAL_PERCENT="$VAL_PERCENT" \
    perl -CSE -Mutf8 -I"$LIB" -MGcide -e '
  use strict; use warnings;
  use Digest::MD5 qw(md5); use Encode qw(encode_utf8); use JSON::PP; use Unicode::Normalize qw(NFC);

  # Field labels kept, with the words the prompts use for them.
  my %field = (Med => "medicine", Pharm => "medicine", Pathol => "medicine", Surg => "surgery",
               Anat => "anatomy", Physiol => "physiology");
  my %adjective = (medicine => "medical", surgery => "surgical", anatomy => "anatomical",
                   physiology => "physiological");
  my @phrasings = (q{What does "{w}" mean in {f}?}, q{In {f}, what is meant by "{w}"?},
                   q{Define the {a} term "{w}".}, q{Explain "{w}" as used in {f}.},
                   q{What is the {a} meaning of "{w}"?});
  my $label = qr/\(([A-Z][a-z]+\.(?: & [A-Z][a-z]+\.)*)\)/;  # "(Med.)", "(Anat. & Zool.)"

  sub hash32 { return unpack("N", md5(encode_utf8(lc shift))); }

  # The definition after a field label, as an answer ("" when nothing usable is left).
  sub definition {
    my $d = shift;
    $d =~ s/^[\s,;:]+//;
    $d =~ s/^\([a-z]\)\s*//;                           # "(a) " of a sub-sense
    $d =~ s/\s+\([b-z]\)\s.*$//;                       # the next sub-sense "(b) (Physiol.) ..." (another field)
    $d =~ s/\s*--\s*(?=called\b)/ /g;                  # "; -- called also X" -> "; called also X"
    $d =~ s/\s*--.*$//;                                # citations "--Coxe.", related forms "-- A*ba..."
    $d =~ s/\s*\[AS\]|\s+AS(?=[\s.]|$)//g;             # editor marks
    $d =~ s/[\s,;:]+$//;
    return "" if $d =~ /^(?:See|Same as)\b/ || $d =~ /\w\*\w/ || $d !~ /\p{L}{3}/;
    return "" if length($d) < 12 || length($d) > 700;
    $d = ucfirst $d;
    $d .= "." unless $d =~ /[.!?)\]]$/;
    return $d;
  }

  # Dictionary form of a term: "Abdomen" -> "abdomen", "Abdominal ring" -> "abdominal ring".
  sub term {
    my $t = shift;
    $t =~ s/^\s+|\s+$//g;
    return "" unless $t =~ /^\p{L}[\p{L}\x27 -]{1,39}$/;
    $t = lcfirst $t if $t =~ /^\p{Lu}[\p{Ll}\x27 -]*$/;
    return $t;
  }

  my (%answers, @order);  # "term\tfield" -> [definitions]; keys in dictionary order
  my ($entries, $senses) = (0, 0);
  for my $entry (Gcide::read_entries(\*STDIN)) {
    $entries++;
    my @paras = split /\n/, $entry;
    my ($head) = $paras[0] =~ /^([^,(\[]+)/;
    my $headword = term($head // "");
    for my $i (0 .. $#paras) {
      my $p = $paras[$i];
      while ($p =~ /$label/g) {
        my ($f) = grep { defined } map { s/\.$//r } grep { exists $field{s/\.$//r} } split / & /, $1;
        next unless defined $f;
        my ($before, $after) = (substr($p, 0, $-[0]), substr($p, $+[0]));
        # "Abdominal ring (Anat.), a fancied ..." inside an entry defines the phrase.
        my ($phrase) = $before =~ /^(\p{Lu}[\p{L}\x27 -]+?)\s*$/;
        my $t = $i > 0 && defined $phrase && $after =~ /^,/ ? term($phrase) : $headword;
        my $d = definition($after);
        last if $t eq "" || $d eq "";
        my $key = "$t\t$field{$f}";
        push @order, $key unless exists $answers{$key};
        push @{$answers{$key}}, $d unless grep { $_ eq $d } @{$answers{$key} // []};
        $senses++;
        last;
      }
    }
  }

  my $json = JSON::PP->new->canonical(1);
  open(my $train, ">:encoding(UTF-8)", $ENV{TRAIN}) or die "$ENV{TRAIN}: $!";
  open(my $val, ">:encoding(UTF-8)", $ENV{VAL}) or die "$ENV{VAL}: $!";
  my ($n_train, $n_val) = (0, 0);
  for my $key (@order) {
    my ($t, $f) = split /\t/, $key;
    my @defs = @{$answers{$key}};
    @defs = @defs[0 .. 2] if @defs > 3;
    my $response = @defs == 1 ? $defs[0] : join("\n", map { ($_ + 1) . ". " . $defs[$_] } 0 .. $#defs);
    my $h = hash32($t);
    my $prompt = $phrasings[($h >> 8) % @phrasings] =~ s/\{w\}/$t/r =~ s/\{f\}/$f/r =~ s/\{a\}/$adjective{$f}/r;
    my $row = $json->encode({prompt => NFC($prompt), response => NFC($response)});
    if ($h % 100 < $ENV{VAL_PERCENT}) { print $val "$row\n"; $n_val++ } else { print $train "$row\n"; $n_train++ }
  }
  close $train or die "$ENV{TRAIN}: $!";
  close $val or die "$ENV{VAL}: $!";
  printf STDERR "medical: %d GCIDE entries, %d medical senses, %d terms -> %d train, %d val rows\n",
                $entries, $senses, scalar(@order), $n_train, $n_val;
'
mv "$TMP.train" "$OUT/train.jsonl"
mv "$TMP.val" "$OUT/val.jsonl"
echo "medical SFT: $(wc -l < "$OUT/train.jsonl") train, $(wc -l < "$OUT/val.jsonl") val rows -> $OUT"
