// The components of tokenizer.json (src/tokenizer/hf_*.h), each on its JSON as tokenizer.json
// spells it, against results worked out by hand from Hugging Face tokenizers' rules:
// normalizers, pre-tokenizers (every Split behaviour, invert), decoders, and their errors.
// Whole tokenizers (model flags, added tokens, post-processors) are in hf_tokenizer_test.cpp.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../../src/tokenizer/hf_decoder.h"
#include "../../src/tokenizer/hf_json.h"
#include "../../src/tokenizer/hf_normalizer.h"
#include "../../src/tokenizer/hf_pre_tokenizer.h"
#include "../common/user_error.h"
#include "ptft/core/error.h"

namespace ptft::hf {
namespace {

using Strings = std::vector<std::string>;

const JsonAt kAt{"t/tokenizer.json", "x"};

std::string normalize(const std::string& j, std::string text) {
  const auto n = make_normalizer(Json::parse(j), kAt);
  n->normalize(&text);
  return text;
}

// The pieces, as text (raw bytes where a final ByteLevel leaves the mapping to the model).
Strings pre_tokenize(const std::string& j, const std::string& text, bool at_start = true, bool* byte_level = nullptr) {
  bool bl = false;
  const auto p = make_pre_tokenizer(Json::parse(j), kAt, &bl);
  if (byte_level) *byte_level = bl;
  Pieces pieces;
  pieces.reset(text, at_start);
  p->apply(&pieces);
  Strings out;
  for (const Piece& piece : pieces.list) out.emplace_back(pieces.view(piece));
  return out;
}

Strings decode(const std::string& j, const std::vector<DecodePiece>& tokens) {
  const auto d = make_decoder(Json::parse(j), kAt);
  std::vector<DecodePiece> t = tokens;
  d->decode_chain(&t);
  Strings out;
  for (const auto& p : t) out.push_back(p.text);
  return out;
}

std::vector<DecodePiece> plain(const Strings& tokens) {
  std::vector<DecodePiece> out;
  for (const auto& t : tokens) out.push_back({t, false});
  return out;
}

// ---------------------------------------------------------------------------------------------
// Normalizers

TEST(HfTokenizerNormalizer, UnicodeForms) {
  EXPECT_EQ(normalize(R"({"type": "NFC"})", "cafe\u0301 A\u030a"), "caf\u00e9 \u00c5");
  EXPECT_EQ(normalize(R"({"type": "NFD"})", "caf\u00e9"), "cafe\u0301");
  EXPECT_EQ(normalize(R"({"type": "NFKC"})", "\ufb01x\u00b2 \uff21"), "fix2 A");
  EXPECT_EQ(normalize(R"({"type": "NFKD"})", "\u00e9\ufb01"), "e\u0301fi");
  EXPECT_EQ(normalize(R"({"type": "NFC"})", "plain ascii"), "plain ascii");
}

TEST(HfTokenizerNormalizer, LowercaseIsFullUnicodeWithFinalSigma) {
  EXPECT_EQ(normalize(R"({"type": "Lowercase"})", "\u00c0B\u00c7 \u03a3\u0391\u03a3 X"),
            "\u00e0b\u00e7 \u03c3\u03b1\u03c2 x");
}

TEST(HfTokenizerNormalizer, PrependReplaceStrip) {
  EXPECT_EQ(normalize(R"({"type": "Prepend", "prepend": "\u2581"})", "ab"), "\u2581ab");
  EXPECT_EQ(normalize(R"({"type": "Prepend", "prepend": "\u2581"})", ""), "");
  EXPECT_EQ(normalize(R"({"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"})", "a b  c"),
            "a\u2581b\u2581\u2581c");
  EXPECT_EQ(normalize(R"({"type": "Replace", "pattern": {"String": "."}, "content": "!"})", "a.b"), "a!b");
  EXPECT_EQ(normalize(R"({"type": "Replace", "pattern": {"Regex": " +"}, "content": "_"})", "a  b c "), "a_b_c_");
  EXPECT_EQ(normalize(R"({"type": "Strip", "strip_left": true, "strip_right": true})", " \t a b \u3000"), "a b");
  EXPECT_EQ(normalize(R"({"type": "Strip", "strip_left": true, "strip_right": false})", "  a  "), "a  ");
  EXPECT_EQ(normalize(R"({"type": "Strip", "strip_left": false, "strip_right": true})", "  a  "), "  a");
}

TEST(HfTokenizerNormalizer, SequenceAndStripAccents) {
  EXPECT_EQ(normalize(R"({"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"}]})",
                      "caf\u00e9 na\u00efve"),
            "cafe naive");
  // Llama-2's: a "▁" in front, spaces as "▁".
  EXPECT_EQ(normalize(R"({"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                          {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]})",
                      "a b"),
            "\u2581a\u2581b");
}

// ---------------------------------------------------------------------------------------------
// Pre-tokenizers

TEST(HfTokenizerPreTokenizer, SplitBehaviours) {
  auto split = [](const std::string& pattern, const std::string& behavior, const std::string& text,
                  bool invert = false) {
    return pre_tokenize(R"({"type": "Split", "pattern": )" + pattern + R"(, "behavior": ")" + behavior +
                            R"(", "invert": )" + (invert ? "true" : "false") + "}",
                        text);
  };
  const std::string ws = R"({"Regex": "\\s+"})";
  EXPECT_EQ(split(ws, "Removed", "a  b c"), (Strings{"a", "b", "c"}));
  EXPECT_EQ(split(ws, "Isolated", "a  b c"), (Strings{"a", "  ", "b", " ", "c"}));
  EXPECT_EQ(split(ws, "MergedWithPrevious", "a  b c"), (Strings{"a  ", "b ", "c"}));
  EXPECT_EQ(split(ws, "MergedWithNext", "a  b c"), (Strings{"a", "  b", " c"}));
  // Adjacent matches: "a--b-" has matches at 1, 2 and 4.
  const std::string dash = R"({"String": "-"})";
  EXPECT_EQ(split(dash, "Isolated", "a--b-"), (Strings{"a", "-", "-", "b", "-"}));
  EXPECT_EQ(split(dash, "Contiguous", "a--b-"), (Strings{"a", "--", "b", "-"}));
  EXPECT_EQ(split(dash, "MergedWithPrevious", "a--b-"), (Strings{"a-", "-", "b-"}));
  EXPECT_EQ(split(dash, "MergedWithNext", "a--b-"), (Strings{"a", "-", "-b", "-"}));
  EXPECT_EQ(split(dash, "Removed", "a--b-"), (Strings{"a", "b"}));
  // invert: the matches are the pieces, the gaps the delimiters.
  const std::string word = R"({"Regex": "[a-z]+"})";
  EXPECT_EQ(split(word, "Removed", "ab, cd", true), (Strings{"ab", "cd"}));
  EXPECT_EQ(split(word, "Isolated", "ab, cd", true), (Strings{"ab", ", ", "cd"}));
  // A String pattern is literal.
  EXPECT_EQ(split(R"({"String": "."})", "Removed", "a.b"), (Strings{"a", "b"}));
}

TEST(HfTokenizerPreTokenizer, RegexWhitespaceAndCaseAreOniguruma) {
  // \s is Unicode's White_Space: U+0085 is whitespace, U+FEFF and U+180E are not.
  const std::string j = R"({"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": false})";
  EXPECT_EQ(pre_tokenize(j, "a\u0085b\ufeffc\u180ed"), (Strings{"a", "b\ufeffc\u180ed"}));
  // (?i:'s) matches 'ſ (U+017F folds to s), as in Oniguruma.
  const std::string c = R"j({"type": "Split", "pattern": {"Regex": "(?i:'s)"}, "behavior": "Isolated", "invert": false})j";
  EXPECT_EQ(pre_tokenize(c, "it'S x'\u017f"), (Strings{"it", "'S", " x", "'\u017f"}));
}

TEST(HfTokenizerPreTokenizer, ByteLevel) {
  // GPT-2's regex after a prefix space; in a sequence the bytes are spelled in the alphabet.
  const std::string bl = R"({"type": "ByteLevel", "add_prefix_space": true, "use_regex": true})";
  const std::string never = R"({"type": "Split", "pattern": {"String": "\u0000"}, "behavior": "Isolated"})";
  EXPECT_EQ(pre_tokenize(R"({"type": "Sequence", "pretokenizers": [)" + bl + "," + never + "]}", "Hello  world"),
            (Strings{"\u0120Hello", "\u0120", "\u0120world"}));
  // Last: the bytes stay, and the model is told.
  bool byte_level = false;
  EXPECT_EQ(pre_tokenize(bl, "Hello  world", true, &byte_level), (Strings{" Hello", " ", " world"}));
  EXPECT_TRUE(byte_level);
  EXPECT_EQ(pre_tokenize(R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": false})", "a b\n", true,
                         &byte_level),
            (Strings{"a b\n"}));
}

TEST(HfTokenizerPreTokenizer, Metaspace) {
  const auto meta = [](const std::string& scheme, bool split) {
    return R"({"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": ")" + scheme + R"(", "split": )" +
           (split ? "true" : "false") + "}";
  };
  EXPECT_EQ(pre_tokenize(meta("always", true), "Hey friend"), (Strings{"\u2581Hey", "\u2581friend"}));
  EXPECT_EQ(pre_tokenize(meta("always", false), "Hey friend"), (Strings{"\u2581Hey\u2581friend"}));
  EXPECT_EQ(pre_tokenize(meta("always", true), " Hey"), (Strings{"\u2581Hey"}));
  EXPECT_EQ(pre_tokenize(meta("first", true), "a b", true), (Strings{"\u2581a", "\u2581b"}));
  EXPECT_EQ(pre_tokenize(meta("first", true), "a b", false), (Strings{"a", "\u2581b"}));
  EXPECT_EQ(pre_tokenize(meta("never", true), "a b"), (Strings{"a", "\u2581b"}));
  // The older spelling: add_prefix_space instead of prepend_scheme.
  EXPECT_EQ(pre_tokenize(R"({"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": false})", "a b"),
            (Strings{"a", "\u2581b"}));
}

TEST(HfTokenizerPreTokenizer, DigitsWhitespacePunctuationSequence) {
  EXPECT_EQ(pre_tokenize(R"({"type": "Digits", "individual_digits": true})", "a123b\u0664\u0665"),
            (Strings{"a", "1", "2", "3", "b", "\u0664", "\u0665"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "Digits", "individual_digits": false})", "a123b45"),
            (Strings{"a", "123", "b", "45"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "Whitespace"})", "Hello, world!  ok_1"),
            (Strings{"Hello", ",", "world", "!", "ok_1"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "WhitespaceSplit"})", " a\tb  c\n"), (Strings{"a", "b", "c"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "Punctuation", "behavior": "Isolated"})", "Hey!! you?"),
            (Strings{"Hey", "!", "!", " you", "?"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "Punctuation", "behavior": "Contiguous"})", "Hey!! you?"),
            (Strings{"Hey", "!!", " you", "?"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "CharDelimiterSplit", "delimiter": "|"})", "a|b||c"), (Strings{"a", "b", "c"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"},
                             {"type": "Digits", "individual_digits": true}]})",
                         "ab12 c3"),
            (Strings{"ab", "1", "2", "c", "3"}));
}

// ---------------------------------------------------------------------------------------------
// Decoders

TEST(HfTokenizerDecoder, ByteLevelKeepsAddedTokensAsTheyAre) {
  EXPECT_EQ(decode(R"({"type": "ByteLevel"})", plain({"Hello", "\u0120world", "\u010a"})),
            (Strings{"Hello world\n"}));
  EXPECT_EQ(decode(R"({"type": "ByteLevel"})", {{"<|x|>", true}, {"\u0120a", false}}), (Strings{"<|x|>", " a"}));
  // Half a character: the byte stays (no U+FFFD), so that a stream can wait for the rest.
  EXPECT_EQ(decode(R"({"type": "ByteLevel"})", plain({"\u00c3"})), (Strings{"\xC3"}));
}

TEST(HfTokenizerDecoder, Metaspace) {
  EXPECT_EQ(decode(R"({"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always"})",
                   plain({"\u2581Hey", "\u2581friend"})),
            (Strings{"Hey", " friend"}));
  EXPECT_EQ(decode(R"({"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "never"})",
                   plain({"\u2581Hey"})),
            (Strings{" Hey"}));
}

TEST(HfTokenizerDecoder, Llama2Sequence) {
  const std::string j = R"({"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
      {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})";
  EXPECT_EQ(decode(j, plain({"\u2581Hi", "<0xE2>", "<0x82>", "<0xAC>", "\u2581x"})), (Strings{"Hi\u20ac x"}));
  EXPECT_EQ(decode(R"({"type": "ByteFallback"})", plain({"a", "<0xE2>", "<0x82>", "b", "<0x4"})),
            (Strings{"a", "\xE2\x82", "b", "<0x4"}));
}

TEST(HfTokenizerDecoder, StripFuseBpeSuffix) {
  EXPECT_EQ(decode(R"({"type": "Strip", "content": "x", "start": 2, "stop": 1})", plain({"xxxaxx", "ax"})),
            (Strings{"xax", "a"}));
  EXPECT_EQ(decode(R"({"type": "Fuse"})", plain({"a", "b", "c"})), (Strings{"abc"}));
  EXPECT_EQ(decode(R"({"type": "BPEDecoder", "suffix": "</w>"})", plain({"hel", "lo</w>", "wor", "ld</w>"})),
            (Strings{"hel", "lo ", "wor", "ld"}));
  EXPECT_EQ(decode(R"({"type": "Replace", "pattern": {"Regex": "_+"}, "content": " "})", plain({"a__b_c"})),
            (Strings{"a b c"}));
}

TEST(HfTokenizerDecoder, CleanUpTokenization) {
  EXPECT_EQ(clean_up_tokenization("Hi , you . I 'm sure they 're not ! Do n't ?"),
            "Hi, you. I'm sure they're not! Don't?");
}

// ---------------------------------------------------------------------------------------------
// Errors: file, key path, value, and a fix.

TEST(HfTokenizerComponentErrors, UnknownTypesAreNamed) {
  std::string e = test::user_error_of([] { make_normalizer(Json::parse(R"({"type": "Precompiled"})"), kAt); });
  EXPECT_NE(e.find("'t/tokenizer.json': x.type is \"Precompiled\", which ptft does not read"), std::string::npos) << e;
  EXPECT_NE(e.find("ptft reads NFC, NFD, NFKC"), std::string::npos) << e;
  EXPECT_NE(e.find("would give different ids"), std::string::npos) << e;
  bool bl = false;
  e = test::user_error_of([&] {
    make_pre_tokenizer(Json::parse(R"({"type": "Sequence", "pretokenizers": [{"type": "Digits"}, {"type": "ByteLevl"}]})"),
                       kAt, &bl);
  });
  EXPECT_NE(e.find("x.pretokenizers[1].type is \"ByteLevl\", which ptft does not read"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean \"ByteLevel\"?"), std::string::npos) << e;
  e = test::user_error_of([] { make_decoder(Json::parse(R"({"type": "CTC"})"), kAt); });
  EXPECT_NE(e.find("x.type is \"CTC\", which ptft does not read"), std::string::npos) << e;
}

TEST(HfTokenizerComponentErrors, SplitBehaviorAndRegex) {
  bool bl = false;
  std::string e = test::user_error_of([&] {
    make_pre_tokenizer(Json::parse(R"({"type": "Split", "pattern": {"String": " "}, "behavior": "Merged"})"), kAt, &bl);
  });
  EXPECT_NE(e.find("x.behavior is \"Merged\", which ptft does not read"), std::string::npos) << e;
  EXPECT_NE(e.find("Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous"), std::string::npos) << e;
  e = test::user_error_of([&] {
    make_pre_tokenizer(Json::parse(R"j({"type": "Split", "pattern": {"Regex": "a(b"}, "behavior": "Isolated"})j"), kAt,
                       &bl);
  });
  EXPECT_NE(e.find("x.pattern.Regex is \"a(b\": not a regex PCRE2 can compile: missing closing parenthesis at offset 3"),
            std::string::npos)
      << e;
  e = test::user_error_of([&] { make_normalizer(Json::parse(R"({"type": "Replace", "pattern": {"Glob": "*"}, "content": ""})"), kAt); });
  EXPECT_NE(e.find("x.pattern is {\"Glob\":\"*\"}: expected {\"String\": \"...\"} or {\"Regex\": \"...\"}"),
            std::string::npos)
      << e;
  e = test::user_error_of([&] { make_normalizer(Json::parse(R"({"type": "Prepend"})"), kAt); });
  EXPECT_NE(e.find("x.prepend: is missing"), std::string::npos) << e;
}

}  // namespace
}  // namespace ptft::hf
