// ptft tokenizer train  --input P... --vocab-size N --type bpe|unigram --out DIR [--family NAME] [--max-sentences N]
// ptft tokenizer encode --tokenizer DIR [--input FILE|- | TEXT] [--json]   (else: standard input)
// ptft tokenizer decode --tokenizer DIR [--input FILE|- | IDS...] [--json]
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/models/model.h"
#include "ptft/tokenizer/sentencepiece_tokenizer.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft::cli {
namespace {

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + v[i];
  return s;
}

// Whether standard input is a pipe or a file (`... | ptft tokenizer decode`), not a terminal.
bool stdin_is_data() {
  struct stat st {};
  return ::fstat(0, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode));
}

std::string read_stdin() {
  std::ostringstream ss;
  ss << std::cin.rdbuf();
  return ss.str();
}

// The text given as --input FILE (- = standard input), as the positional words (joined by
// spaces), or else piped into standard input.
std::string input_or_args(const std::string& file, const std::vector<std::string>& args, const std::string& what) {
  if (!file.empty() && !args.empty())
    throw UserError("give the " + what + " either with --input FILE or on the command line, not both", "drop one of them");
  if (file == "-" || (file.empty() && args.empty() && stdin_is_data())) return read_stdin();
  if (file.empty() && args.empty())
    throw UserError("no " + what + " given", "pass --input FILE (- for standard input), pipe it in, or give the " +
                                                 what + " as arguments");
  return file.empty() ? join(args) : fs::read_file(file, "input file");
}

// Token ids from "1 2 3", "1,2,3", "[1, 2, 3]" or the {"ids": [...]} that `encode --json` prints.
std::vector<int32_t> parse_ids(const std::string& text, const std::string& origin) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text[first] == '{' || text[first] == '[')) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw UserError(origin + " is not valid JSON: " + e.what(), "give ids as 1 2 3, [1, 2, 3] or {\"ids\": [1, 2, 3]}");
    }
    if (j.is_object()) j = j.contains("ids") ? j["ids"] : nlohmann::json();
    if (!j.is_array()) throw UserError(origin + ": expected a list of ids or {\"ids\": [...]}", "give ids as 1 2 3");
    std::vector<int32_t> ids;
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_number_integer() || j[i].get<int64_t>() < INT32_MIN || j[i].get<int64_t>() > INT32_MAX)
        throw UserError(origin + ": item " + std::to_string(i + 1) + " (" + j[i].dump() + ") is not a token id",
                        "token ids are integers");
      ids.push_back(j[i].get<int32_t>());
    }
    return ids;
  }
  std::vector<int32_t> ids;
  std::size_t pos = 0;
  while (true) {
    pos = text.find_first_not_of(" \t\r\n,", pos);
    if (pos == std::string::npos) break;
    const std::size_t end = std::min(text.find_first_of(" \t\r\n,", pos), text.size());
    const std::string tok = text.substr(pos, end - pos);
    char* stop = nullptr;
    errno = 0;
    const long long v = std::strtoll(tok.c_str(), &stop, 10);
    if (stop != tok.c_str() + tok.size() || errno == ERANGE || v < INT32_MIN || v > INT32_MAX)
      throw UserError(origin + ": '" + tok + "' (item " + std::to_string(ids.size() + 1) + ") is not a token id",
                      "token ids are integers separated by spaces or commas");
    ids.push_back(static_cast<int32_t>(v));
    pos = end;
  }
  return ids;
}

// "gpt: <|endoftext|>; bert: [PAD] [UNK] ..." for the families that declare tokenizer specials.
std::string families_with_specials() {
  std::string s;
  for (const auto& f : model_families())
    if (!f.tokenizer_specials.empty()) s += (s.empty() ? "" : "; ") + f.name + ": " + join(f.tokenizer_specials);
  return s;
}

// The special tokens model family `name` declares for its tokenizers.
SpmSpecials family_specials(const std::string& name) {
  const ModelFamily& f = find_model_family(name, "--family");
  if (f.tokenizer_specials.empty())
    throw UserError("--family: the '" + name + "' model family reads no text (it declares no tokenizer special tokens)",
                    "use a text family (" + families_with_specials() + ")");
  return {f.tokenizer_specials, f.tokenizer_eot, f.tokenizer_unk, f.tokenizer_pad};
}

Action add_train_cmd(CLI::App& parent) {
  auto* sub = parent.add_subcommand("train", "Train a SentencePiece BPE/unigram vocabulary (lossless, byte fallback)");
  auto o = std::make_shared<SpmTrainOptions>();
  auto json = std::make_shared<bool>(false);
  auto family = std::make_shared<std::string>("gpt");
  sub->add_option("--input", o->inputs, "text files, directories (recursive), globs; .gz is decompressed")->required();
  sub->add_option("--vocab-size", o->vocab_size, "vocabulary size, special and byte pieces included")->required();
  sub->add_option("--type", o->model_type, "bpe | unigram")->capture_default_str();
  sub->add_option("--out", o->out_dir, "output directory (spm.model, spm.vocab, tokenizer_config.json)")->required();
  sub->add_option("--family", *family, "the model family whose special tokens come first (" + families_with_specials() + ")")
      ->capture_default_str();
  sub->add_option("--max-sentences", o->max_sentences, "lines sampled for training (0 = all)")->capture_default_str();
  sub->add_option("--seed", o->seed, "seed of the sampling")->capture_default_str();
  sub->add_option("--threads", o->num_threads, "training threads (0 = all cores)")->capture_default_str();
  sub->add_flag("--verbose", o->verbose, "show SentencePiece's own log");
  sub->add_flag("--json", *json, "print a JSON summary on stdout");
  return [o, json, family] {
    o->specials = family_specials(*family);
    const SpmTrainSummary s = train_sentencepiece(*o);
    std::cerr << "wrote " << s.out_dir << ": " << s.vocab_size << " pieces (" << o->model_type << ", " << *family
              << " family) from " << s.lines << " lines, " << s.bytes << " bytes, " << s.files << " file(s)\n";
    if (s.skipped_files > 0) {
      std::cerr << "skipped " << s.skipped_files << " file(s) that are not text, e.g.:\n";
      for (const auto& e : s.skipped_examples) std::cerr << "  " << e << "\n";
    }
    if (s.skipped_lines > 0) std::cerr << "skipped " << s.skipped_lines << " line(s) of invalid UTF-8\n";
    if (*json)
      std::cout << dump({{"out", s.out_dir},
                         {"vocab_size", s.vocab_size},
                         {"type", o->model_type},
                         {"family", *family},
                         {"files", s.files},
                         {"skipped_files", s.skipped_files},
                         {"lines", s.lines},
                         {"skipped_lines", s.skipped_lines},
                         {"split_lines", s.split_lines},
                         {"bytes", s.bytes}})
                << std::endl;
    return 0;
  };
}

Action add_encode_cmd(CLI::App& parent) {
  auto* sub = parent.add_subcommand("encode", "Print the token ids of a text");
  auto dir = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto text_arg = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  sub->add_option("--tokenizer", *dir, "tokenizer directory (ptft; a run or checkpoint directory; Hugging Face: tokenizer.json, vocab.json+merges.txt, vocab.txt)")
      ->required();
  sub->add_option("--input", *file, "encode this file (as is, byte for byte; - = standard input, also read when piped)");
  // One string, not a vector: CLI11 would read a vector element such as "[CLS] a, b [SEP]" as a
  // bracketed list and split it at the commas.
  auto* text_opt = sub->add_option("text", *text_arg, "text to encode (quote it; put text that starts with - after --)");
  sub->add_flag("--json", *json, "print {\"ids\": [...], \"tokens\": [...], \"count\": N}");
  return [=] {
    std::vector<std::string> words;
    if (text_opt->count() > 0) words.push_back(*text_arg);
    const std::string text = input_or_args(*file, words, "text");
    TokenizerPtr tok = load_tokenizer(*dir);
    std::vector<int32_t> ids;
    try {
      ids = tok->encode(text);
    } catch (const UserError& e) {
      throw e.with_context(file->empty() ? std::string("encoding the text") : "encoding '" + *file + "'");
    }
    if (*json) {
      nlohmann::json tokens = nlohmann::json::array();
      for (int32_t id : ids) tokens.push_back(tok->id_to_token(id));
      std::cout << dump({{"ids", ids}, {"tokens", tokens}, {"count", ids.size()}}) << std::endl;
    } else {
      std::string line;
      for (std::size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
      std::cout << line << std::endl;
    }
    return 0;
  };
}

Action add_decode_cmd(CLI::App& parent) {
  auto* sub = parent.add_subcommand("decode", "Print the text of token ids");
  auto dir = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto args = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  sub->add_option("--tokenizer", *dir, "tokenizer directory (ptft; a run or checkpoint directory; Hugging Face: tokenizer.json, vocab.json+merges.txt, vocab.txt)")
      ->required();
  sub->add_option("--input", *file, "file of ids: 1 2 3, [1, 2, 3] or the output of `encode --json` (- = standard input, also read when piped)");
  sub->add_option("ids", *args, "token ids (spaces or commas between them)");
  sub->add_flag("--json", *json, "print {\"text\": ..., \"count\": N}");
  return [=] {
    const std::string text = input_or_args(*file, *args, "ids");
    const std::vector<int32_t> ids = parse_ids(text, file->empty() || *file == "-" ? std::string("ids") : "'" + *file + "'");
    TokenizerPtr tok = load_tokenizer(*dir);
    const std::string out = tok->decode(ids);
    if (*json) {
      std::cout << dump({{"text", out}, {"count", ids.size()}}) << std::endl;
    } else {
      // Exactly the decoded bytes (so that decode > file reproduces the encoded file); a
      // newline only for a person at a terminal.
      std::cout << out;
      if (::isatty(1)) std::cout << '\n';
      std::cout.flush();
    }
    return 0;
  };
}

}  // namespace

Action add_tokenizer(CLI::App& app) {
  auto* sub = app.add_subcommand("tokenizer", "Train a tokenizer; encode text to ids and decode ids to text");
  sub->require_subcommand(1);
  const Action train = add_train_cmd(*sub), encode = add_encode_cmd(*sub), decode = add_decode_cmd(*sub);
  return [sub, train, encode, decode] {
    if (sub->get_subcommand("train")->parsed()) return train();
    if (sub->get_subcommand("encode")->parsed()) return encode();
    return decode();
  };
}

}  // namespace ptft::cli
