// WordPiece against hand-computed references: the BERT paper / Hugging Face docs examples,
// BERT's BasicTokenizer rules (clean text, CJK, lower-case + accent stripping, punctuation).
#include "ptft/tokenizer/wordpiece.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ptft/core/error.h"

namespace ptft {
namespace {

namespace sfs = std::filesystem;
using Strings = std::vector<std::string>;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (sfs::temp_directory_path() / "ptft-wordpiece-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    sfs::remove_all(path_, ec);
  }
  std::string file(const std::string& name, const std::string& text) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A small vocabulary: specials, then words and pieces used below. Ids are line numbers.
const Strings kVocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",            // 0-4
                        "un", "##aff", "##able", "hello", ",",                     // 5-9
                        "world", "!", "Hello", "World", "中",                      // 10-14
                        "文", "a", "##b", "ab", "the",                             // 15-19
                        "##s", "cl", "[", "]", "$",                                // 20-24
                        "5", ".", "00", "don", "'",                                // 25-29
                        "t", "οδος", "σα", "i", "\u1112\u1161\u11AB",              // 30-34
                        "H\u00E9llo", "e", "##e", "aaaaaaaaaa", "##aaaaaaaaaa"};   // 35-39

std::shared_ptr<WordPiece> uncased() { return std::make_shared<WordPiece>(kVocab, WordPieceOptions{}); }
std::shared_ptr<WordPiece> cased() {
  WordPieceOptions o;
  o.do_lower_case = false;
  return std::make_shared<WordPiece>(kVocab, o);
}

TEST(WordPiece, GreedyLongestMatchFirstWithContinuationPieces) {
  // The Hugging Face / BERT docs example.
  EXPECT_EQ(uncased()->tokenize("unaffable"), (Strings{"un", "##aff", "##able"}));
  EXPECT_EQ(uncased()->encode("unaffable"), (std::vector<int32_t>{5, 6, 7}));
  // "ab" is a whole word in the vocabulary: longest match first beats "a" + "##b".
  EXPECT_EQ(uncased()->tokenize("ab"), (Strings{"ab"}));
  EXPECT_EQ(uncased()->tokenize("abb"), (Strings{"ab", "##b"}));
  // A word that cannot be covered is one [UNK], not a partial split.
  EXPECT_EQ(uncased()->tokenize("unaffablex"), (Strings{"[UNK]"}));
  EXPECT_EQ(uncased()->tokenize("the xyz the"), (Strings{"the", "[UNK]", "the"}));
}

TEST(WordPiece, UncasedLowerCasesAndStripsAccentsThenSplitsPunctuation) {
  EXPECT_EQ(bert_basic_tokenize("H\u00E9llo, World!", WordPieceOptions{}), (Strings{"hello", ",", "world", "!"}));
  EXPECT_EQ(uncased()->encode("H\u00E9llo, World!"), (std::vector<int32_t>{8, 9, 10, 11}));
  // Decomposed input (e + U+0301) strips the same way.
  EXPECT_EQ(bert_basic_tokenize("He\u0301llo", WordPieceOptions{}), (Strings{"hello"}));
  // ASCII symbols are punctuation too (BERT), as are Unicode P* marks.
  EXPECT_EQ(bert_basic_tokenize("$5.00 don't a-b \u00ABx\u00BB", WordPieceOptions{}),
            (Strings{"$", "5", ".", "00", "don", "'", "t", "a", "-", "b", "\u00AB", "x", "\u00BB"}));
  EXPECT_EQ(uncased()->tokenize("$5.00 don't"), (Strings{"$", "5", ".", "00", "don", "'", "t"}));
}

TEST(WordPiece, CasedKeepsCaseAndAccents) {
  EXPECT_EQ(bert_basic_tokenize("H\u00E9llo, World!", WordPieceOptions{false, {}, true, 100}),
            (Strings{"H\u00E9llo", ",", "World", "!"}));
  EXPECT_EQ(cased()->encode("H\u00E9llo, World!"), (std::vector<int32_t>{35, 9, 13, 11}));
  // strip_accents=true without lower-casing (Hugging Face's option).
  WordPieceOptions o;
  o.do_lower_case = false;
  o.strip_accents = true;
  EXPECT_EQ(bert_basic_tokenize("H\u00E9llo", o), (Strings{"Hello"}));
  // Lower-casing without stripping.
  WordPieceOptions l;
  l.strip_accents = false;
  EXPECT_EQ(bert_basic_tokenize("H\u00C9LLO", l), (Strings{"h\u00E9llo"}));
}

TEST(WordPiece, CjkIdeographsAreSplitIntoSingleCharacters) {
  EXPECT_EQ(bert_basic_tokenize("ab\u4E2D\u6587the", WordPieceOptions{}), (Strings{"ab", "\u4E2D", "\u6587", "the"}));
  EXPECT_EQ(uncased()->encode("\u4E2D\u6587"), (std::vector<int32_t>{14, 15}));
  // Kana are not CJK ideographs: they stay in one word. (Uncased, NFD splits the voicing mark
  // off \u304C and strips it, as BERT uncased does.)
  EXPECT_EQ(bert_basic_tokenize("\u3072\u3089\u304C\u306A", WordPieceOptions{false, {}, true, 100}),
            (Strings{"\u3072\u3089\u304C\u306A"}));
  EXPECT_EQ(bert_basic_tokenize("\u3072\u3089\u304C\u306A", WordPieceOptions{}), (Strings{"\u3072\u3089\u304B\u306A"}));
  WordPieceOptions off;
  off.tokenize_chinese_chars = false;
  EXPECT_EQ(bert_basic_tokenize("ab\u4E2D\u6587", off), (Strings{"ab\u4E2D\u6587"}));
}

TEST(WordPiece, CleanTextDropsControlCharactersAndNormalisesWhitespace) {
  // U+0000, U+FFFD, C0 controls, U+200B (Cf) and U+E000 (Co) are removed, joining the pieces.
  EXPECT_EQ(bert_basic_tokenize(std::string("a\x01" "b\0b", 5), WordPieceOptions{}), (Strings{"abb"}));
  EXPECT_EQ(bert_basic_tokenize("a\uFFFDb\u200Bb\uE000", WordPieceOptions{}), (Strings{"abb"}));
  // Tabs, newlines, CR and Zs spaces (U+3000, U+00A0) separate words; U+2028 too (Python split()).
  EXPECT_EQ(bert_basic_tokenize("\t the\r\nthe\u3000the\u00A0the\u2028the  ", WordPieceOptions{}),
            (Strings{"the", "the", "the", "the", "the"}));
  EXPECT_EQ(bert_basic_tokenize(" \n\t ", WordPieceOptions{}), Strings{});
  EXPECT_EQ(uncased()->encode(""), std::vector<int32_t>{});
}

TEST(WordPiece, UnicodeLowerCasingAsPython) {
  // Final sigma: ς at the end of a word, σ elsewhere; accents stripped after NFD.
  EXPECT_EQ(bert_basic_tokenize("\u039F\u0394\u039F\u03A3 \u03A3\u0391", WordPieceOptions{}),
            (Strings{"\u03BF\u03B4\u03BF\u03C2", "\u03C3\u03B1"}));
  EXPECT_EQ(bert_basic_tokenize("\u038C\u0394\u039F\u03A3.", WordPieceOptions{}),  // Ό: accent stripped
            (Strings{"\u03BF\u03B4\u03BF\u03C2", "."}));
  // İ lower-cases to i + U+0307, and the dot is then stripped.
  EXPECT_EQ(uncased()->tokenize("\u0130"), (Strings{"i"}));
  // Hangul syllables decompose into conjoining jamo under NFD (BERT uncased does this).
  EXPECT_EQ(uncased()->tokenize("\uD55C"), (Strings{"\u1112\u1161\u11AB"}));
  // Full-width letters lower-case.
  EXPECT_EQ(bert_basic_tokenize("\uFF21\uFF22", WordPieceOptions{}), (Strings{"\uFF41\uFF42"}));
}

TEST(WordPiece, WordsLongerThanMaxInputCharsBecomeUnk) {
  // 100 characters: covered by aaaaaaaaaa + 9 x ##aaaaaaaaaa. 101: [UNK].
  const std::string w100(100, 'a');
  const auto t100 = uncased()->tokenize(w100);
  ASSERT_EQ(t100.size(), 10u);
  EXPECT_EQ(t100[0], "aaaaaaaaaa");
  EXPECT_EQ(t100[9], "##aaaaaaaaaa");
  EXPECT_EQ(uncased()->tokenize(w100 + "a"), (Strings{"[UNK]"}));
  // Characters, not bytes: 60 two-byte letters are 60 characters.
  std::string e60;
  for (int i = 0; i < 60; ++i) e60 += "\u00E9";
  EXPECT_EQ(cased()->tokenize(e60), (Strings{"[UNK]"}));  // not coverable, but not for length
}

TEST(WordPiece, SpecialTokensInTextMapToTheirIds) {
  EXPECT_EQ(uncased()->encode("[CLS] hello[SEP]world [MASK]"), (std::vector<int32_t>{2, 8, 3, 10, 4}));
  // Exact case only: "[cls]" is ordinary text (punctuation split).
  EXPECT_EQ(uncased()->tokenize("[cls]"), (Strings{"[", "cl", "##s", "]"}));
  EXPECT_EQ(uncased()->special_tokens(), (Strings{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}));
  EXPECT_EQ(uncased()->eot_id(), 3);
  EXPECT_EQ(uncased()->token_to_id("##aff"), 6);
  EXPECT_EQ(uncased()->token_to_id("nope"), std::nullopt);
  EXPECT_EQ(uncased()->id_to_token(7), "##able");
  EXPECT_EQ(uncased()->vocab_size(), static_cast<int32_t>(kVocab.size()));
}

TEST(WordPiece, DecodeJoinsWithSpacesAndGluesContinuations) {
  auto wp = uncased();
  EXPECT_EQ(wp->decode({5, 6, 7}), "unaffable");
  EXPECT_EQ(wp->decode(wp->encode("H\u00E9llo, World!")), "hello , world !");
  EXPECT_EQ(wp->decode({0, 2, 8, 3, 0, 0}), "[CLS] hello [SEP]");  // [PAD] skipped
  EXPECT_EQ(wp->decode({}), "");
  EXPECT_THROW(wp->decode({static_cast<int32_t>(kVocab.size())}), UserError);
  EXPECT_THROW(wp->decode({-1}), UserError);
}

TEST(WordPiece, InvalidUtf8IsAUserErrorNamingTheOffset) {
  try {
    uncased()->encode("ab\xff");
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("offset 2"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("0xFF"), std::string::npos) << e.message();
  }
  EXPECT_THROW(uncased()->encode("\xed\xa0\x80"), UserError);  // a UTF-8 encoded surrogate
  EXPECT_THROW(uncased()->encode("\xc0\xaf"), UserError);      // overlong
}

TEST(WordPiece, VocabFileErrorsNameTheFileAndLine) {
  TempDir tmp;
  auto message_of = [](auto&& fn) {
    try {
      fn();
    } catch (const UserError& e) {
      return e.message();
    }
    return std::string("no error");
  };
  const std::string missing = tmp.path() + "/nope.txt";
  EXPECT_NE(message_of([&] { WordPiece::from_vocab_file(missing); }).find("nope.txt"), std::string::npos);
  const std::string empty = tmp.file("empty.txt", "");
  EXPECT_NE(message_of([&] { WordPiece::from_vocab_file(empty); }).find("is empty"), std::string::npos);
  const std::string no_unk = tmp.file("no_unk.txt", "[PAD]\nhello\n");
  EXPECT_NE(message_of([&] { WordPiece::from_vocab_file(no_unk); }).find("no [UNK]"), std::string::npos);
  const std::string bad = tmp.file("bad.txt", "[UNK]\nok\nbad\xff\n");
  EXPECT_NE(message_of([&] { WordPiece::from_vocab_file(bad); }).find("line 3"), std::string::npos);
  const std::string binary = tmp.file("bin.txt", std::string("[UNK]\n\0\x01\x02", 9));
  EXPECT_NE(message_of([&] { WordPiece::from_vocab_file(binary); }).find("NUL"), std::string::npos);
}

TEST(WordPiece, ReadsCrlfVocabAndHuggingFaceConfig) {
  TempDir tmp;
  tmp.file("vocab.txt", "[PAD]\r\n[UNK]\r\nHello\r\nhello\r\n");
  auto wp = WordPiece::from_dir(tmp.path());
  EXPECT_TRUE(wp->options().do_lower_case);  // default when no config
  EXPECT_EQ(wp->encode("Hello"), (std::vector<int32_t>{3}));
  tmp.file("tokenizer_config.json", R"({"do_lower_case": false, "tokenizer_class": "BertTokenizer", "strip_accents": null})");
  wp = WordPiece::from_dir(tmp.path());
  EXPECT_FALSE(wp->options().do_lower_case);
  EXPECT_EQ(wp->encode("Hello"), (std::vector<int32_t>{2}));
  tmp.file("tokenizer_config.json", R"({"do_lower_case": "yes"})");
  EXPECT_THROW(WordPiece::from_dir(tmp.path()), UserError);
}

TEST(WordPiece, SaveAndReloadKeepIdsAndHash) {
  TempDir tmp;
  auto wp = cased();
  wp->save(tmp.path() + "/tok");
  auto back = WordPiece::from_dir(tmp.path() + "/tok");
  EXPECT_FALSE(back->options().do_lower_case);
  const std::string text = "H\u00E9llo, World! unaffable \u4E2D";
  EXPECT_EQ(back->encode(text), wp->encode(text));
  EXPECT_EQ(back->content_hash(), wp->content_hash());
  EXPECT_EQ(wp->content_hash().size(), 16u);
  // Lower-casing changes the ids, so it changes the hash.
  EXPECT_NE(uncased()->content_hash(), cased()->content_hash());
}

}  // namespace
}  // namespace ptft
