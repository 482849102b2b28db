# scripts/lib/Gcide.pm — reads the GCIDE dictionary as dictd stores it (dict-gcide's
# /usr/share/dictd/gcide.dict.dz, decompressed on stdin) into plain-text entries. Shared by
# scripts/prepare-text-data.sh (the general corpus) and scripts/prepare-sft-data.sh (the medical
# SFT set).
#
#   zcat /usr/share/dictd/gcide.dict.dz | perl -CSE -Mutf8 -Iscripts/lib -MGcide -e '
#     for my $e (Gcide::read_entries(\*STDIN)) { print $e, "\n" }'
#
# An entry is its paragraphs, each a line ending in "\n": the headword line first
# ("Feel, v. t. [AS. fēlan ...]"), then numbered senses and quotations. Conversion:
#   headword lines "Feel \Feel\, v. t."      -> "Feel, v. t."   (pronunciation \...\ dropped)
#   source tags "[1913 Webster]", "[WordNet 1.5]", "[PJC]" -> dropped
#   "{bold phrases}"                         -> the phrase, braces dropped
#   accent codes "['e]" "[=a]" "[ae]" "[oe]" "[alpha]" ... -> é ā æ œ α ... (UTF-8)
#   usage labels "[Obs.]", "[R.]", "[Colloq.]" and field labels "(Med.)" -> kept
#   lines wrapped at ~65 columns              -> one line per paragraph; indentation and the
#                                                right-aligned spacing before "--Author." removed
#   the database preamble (licence, "00-database-*" entries) -> dropped
# Strings are Perl character strings (not NFC-normalised; callers normalise what they write).
package Gcide;
use strict;
use warnings;
use utf8;
use Encode qw(decode);

# Accent codes: [<mark><letters>] and [<letters>^] (breve), plus named characters.
my %mark = ("\x27" => "\x{301}", "`" => "\x{300}", "\"" => "\x{308}", "=" => "\x{304}",
            "~" => "\x{303}", "^" => "\x{302}", "." => "\x{307}", "," => "\x{327}",
            "-" => "", "*" => "");
my %named = (ae => "æ", AE => "Æ", oe => "œ", OE => "Œ", imac => "ī", aum => "ä", add => "a",
             asl => "a", udd => "u", ng => "ŋ", th => "th", eth => "ð", thorn => "þ",
             yogh => "ȝ", root => "√", cuberoot => "∛", deg => "°", sect => "§", para => "¶",
             pounds => "£", times => "×", divby => "÷", div => "÷", middot => "·",
             nbsp => " ", rarr => "→", ldqo => "“", rdqo => "”", prime => "′", bprime => "″",
             flat => "♭", sharp => "♯", dsdot => "d", zdot => "z", min => "′", sec => "″",
             crescent => "☾", hand => "☞", break => "", digamma => "ϝ");
my @greek = qw(alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi
               omicron pi rho sigma tau upsilon phi chi psi omega);
my $gl = "αβγδεζηθικλμνξοπρστυφχψω"; my $gu = "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ";
for my $i (0..$#greek) {
  $named{$greek[$i]} = substr($gl, $i, 1);
  $named{ucfirst $greek[$i]} = substr($gu, $i, 1);
}
sub accent { my ($m, $l) = @_; my $c = $mark{$m} // ""; return $c eq "" ? $l : substr($l, 0, 1) . $c . substr($l, 1); }

# One paragraph of dictd GCIDE text as plain text.
sub clean {
  my $s = shift;
  $s =~ s/\\[^\\]*\\//g;                                        # pronunciations
  $s =~ s/\[[^\[\]]*(?:Webster|WordNet|PJC)[^\[\]]*\]//g;      # source tags
  $s =~ s/[{}]//g;                                              # bold phrases
  $s =~ s/\[([\x27`"=~^.,*-])([A-Za-z]{1,2})\]/accent($1, $2)/ge;
  $s =~ s/\[([A-Za-z]{1,2})\^\]/$1\x{306}/g;                    # breve
  $s =~ s/\[([A-Za-z]+)\]/exists $named{$1} ? $named{$1} : "[$1]"/ge;
  $s =~ s/[ \t]{2,}/ /g;
  $s =~ s/ +([,;.])/$1/g if $s =~ /^\S/;                        # "Feel , n." -> "Feel, n."
  $s =~ s/^\s+|\s+$//g;
  return $s;
}

# All entries of the dictd text on filehandle $in (raw bytes), in dictionary order.
# Everything after the preamble is read: from the first column-0 line with a pronunciation.
sub read_entries {
  my ($in) = @_;
  my @entries; my $cur; my $started = 0; my $para = "";
  my $flush_para = sub { if ($para ne "") { my $c = clean($para); $cur .= "$c\n" if $c ne ""; $para = ""; } };
  my $prev_blank = 1;
  binmode $in, ":raw";
  while (my $raw = <$in>) {
    chomp $raw;
    # UTF-8, except for a few stray single-byte characters (cp1252 quotes, Latin-1).
    $raw =~ s/\xb9/\x92/g;
    my $line = eval { decode("UTF-8", $raw, Encode::FB_CROAK | Encode::LEAVE_SRC) } // decode("cp1252", $raw);
    if (!$started) { next unless $line =~ /^\S.*\\[^\\]+\\/; $started = 1; }
    if ($line =~ /^\s*$/) { $flush_para->(); $prev_blank = 1; next; }
    if ($prev_blank && $line =~ /^\S/) {                          # a new entry
      $flush_para->();
      push @entries, $cur if defined $cur && $cur ne "";
      $cur = "";
    }
    # A numbered sense or a quotation starts a new paragraph even without a blank line.
    $flush_para->() if $line =~ /^\s{1,5}(?:\d+\.|\([a-z]\))\s/;
    $para .= ($para eq "" ? "" : " ") . $line;
    $prev_blank = 0;
  }
  $flush_para->();
  push @entries, $cur if defined $cur && $cur ne "";
  return @entries;
}

1;
