#include "ptft/tokenizer/sentencepiece_tokenizer.h"

#include <dlfcn.h>
#include <sentencepiece_processor.h>  // sizeof(SentencePieceProcessor) only: nothing of it is called directly
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/hash.h"
#include "ptft/core/log.h"
#include "ptft/data/text_inputs.h"
#include "special_split.h"
#include "spm_model_check.h"
#include "utf8_check.h"

namespace ptft {
namespace {

namespace sfs = std::filesystem;

// SentencePiece's default max_sentence_length (bytes); longer lines are cut into parts of at
// most this size (at a space when there is one) instead of being dropped by the trainer.
constexpr std::size_t kMaxLineBytes = 4192;
constexpr std::size_t kReadChunk = 1 << 16;
constexpr std::size_t kSniffBytes = 8192;
constexpr const char* kSpaceSymbol = "\xE2\x96\x81";  // U+2581, SentencePiece's space

constexpr const char* kExtraUnk = "<unk>";  // SentencePiece's unknown piece when no special plays it

// The id of the first special: 1 after an extra <unk>, else 0.
int32_t first_special_id(const SpmSpecials& sp) { return sp.unk.empty() ? 1 : 0; }

// Pieces before the learned ones: the specials (and the extra <unk>) and the 256 bytes.
int32_t reserved_pieces(const SpmSpecials& sp) {
  return static_cast<int32_t>(sp.tokens.size()) + first_special_id(sp) + 256;
}

// --- libsentencepiece, opened privately ------------------------------------------------------
//
// libsentencepiece.so.0 (Debian) carries its own protobuf-lite with exported symbols. Linked
// into a program that also loads libprotobuf.so (libtorch's dependency), one copy interposes
// the other and the program crashes at start-up (in libprotobuf's static initialisers). So it
// is never linked: it is dlopen()ed with RTLD_LOCAL (its symbols stay out of the global scope)
// and RTLD_DEEPBIND (it binds to its own copies first), and its C++ entry points are called
// through dlsym() by their Itanium-mangled names. This file must not call SentencePiece
// functions directly: a single direct call makes the linker add the library back.

// ABI twin of sentencepiece::util::Status: one owning pointer (null = OK); non-trivial, so it is
// returned through a hidden pointer exactly as the real one is.
struct SpStatus {
  void* rep = nullptr;
  SpStatus() = default;
  SpStatus(const SpStatus&) = delete;
  SpStatus& operator=(const SpStatus&) = delete;
  ~SpStatus();
  bool ok() const { return rep == nullptr; }
  std::string message() const;
};

// ABI twin of sentencepiece::SentenceIterator: the same virtual functions in the same order.
class SpSentenceSource {
 public:
  virtual ~SpSentenceSource() = default;
  virtual bool done() const = 0;
  virtual void Next() = 0;
  virtual const std::string& value() const = 0;
  virtual SpStatus status() const = 0;
};

using SpKwargs = std::unordered_map<std::string, std::string>;

struct SpLib {
  void* handle = nullptr;
  void (*processor_ctor)(void* self) = nullptr;
  void (*processor_dtor)(void* self) = nullptr;
  SpStatus (*load_from_serialized_proto)(void* self, std::string_view bytes) = nullptr;
  SpStatus (*encode_ids)(const void* self, std::string_view text, std::vector<int>* ids) = nullptr;
  SpStatus (*decode_ids)(const void* self, const std::vector<int>& ids, std::string* text) = nullptr;
  int (*get_piece_size)(const void* self) = nullptr;
  int (*piece_to_id)(const void* self, std::string_view piece) = nullptr;
  const std::string& (*id_to_piece)(const void* self, int id) = nullptr;
  float (*get_score)(const void* self, int id) = nullptr;
  bool (*is_byte)(const void* self, int id) = nullptr;
  SpStatus (*train)(const SpKwargs& kwargs, SpSentenceSource* sentences, std::string* model) = nullptr;
  void (*set_random_seed)(unsigned seed) = nullptr;
  void (*status_dtor)(SpStatus* self) = nullptr;
  const char* (*status_message)(const SpStatus* self) = nullptr;
};

constexpr const char* kSpLibrary = "libsentencepiece_train.so.0";  // pulls in libsentencepiece.so.0

// Sanitizer runtimes refuse RTLD_DEEPBIND; sanitized builds (fuzzers, tests) do not load libtorch,
// so RTLD_LOCAL alone keeps SentencePiece apart there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kSpDeepBind = 0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
constexpr int kSpDeepBind = 0;
#else
constexpr int kSpDeepBind = RTLD_DEEPBIND;
#endif
#else
constexpr int kSpDeepBind = RTLD_DEEPBIND;
#endif

const SpLib& sp_lib() {
  static const SpLib lib = [] {
    SpLib l;
    l.handle = ::dlopen(kSpLibrary, RTLD_NOW | RTLD_LOCAL | kSpDeepBind);
    if (l.handle == nullptr) {
      const char* err = ::dlerror();
      throw UserError(std::string("cannot load SentencePiece (") + kSpLibrary + "): " + (err ? err : "unknown error"),
                      "install it: apt-get install libsentencepiece0");
    }
    auto bind = [&](auto& fn, const char* symbol) {
      void* p = ::dlsym(l.handle, symbol);
      if (p == nullptr)
        throw UserError(std::string("SentencePiece (") + kSpLibrary + ") lacks " + symbol,
                        "ptft expects the C++ ABI of SentencePiece 0.1.9x (Debian libsentencepiece0)");
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    bind(l.processor_ctor, "_ZN13sentencepiece22SentencePieceProcessorC1Ev");
    bind(l.processor_dtor, "_ZN13sentencepiece22SentencePieceProcessorD1Ev");
    bind(l.load_from_serialized_proto,
         "_ZN13sentencepiece22SentencePieceProcessor23LoadFromSerializedProtoESt17basic_string_viewIcSt11char_traitsIcEE");
    bind(l.encode_ids,
         "_ZNK13sentencepiece22SentencePieceProcessor6EncodeESt17basic_string_viewIcSt11char_traitsIcEEPSt6vectorIiSaIiEE");
    bind(l.decode_ids,
         "_ZNK13sentencepiece22SentencePieceProcessor6DecodeERKSt6vectorIiSaIiEEPNSt7__cxx1112basic_stringIcSt11char_"
         "traitsIcESaIcEEE");
    bind(l.get_piece_size, "_ZNK13sentencepiece22SentencePieceProcessor12GetPieceSizeEv");
    bind(l.piece_to_id,
         "_ZNK13sentencepiece22SentencePieceProcessor9PieceToIdESt17basic_string_viewIcSt11char_traitsIcEE");
    bind(l.id_to_piece, "_ZNK13sentencepiece22SentencePieceProcessor9IdToPieceB5cxx11Ei");
    bind(l.get_score, "_ZNK13sentencepiece22SentencePieceProcessor8GetScoreEi");
    bind(l.is_byte, "_ZNK13sentencepiece22SentencePieceProcessor6IsByteEi");
    bind(l.train,
         "_ZN13sentencepiece20SentencePieceTrainer5TrainERKSt13unordered_mapINSt7__cxx1112basic_stringIcSt11char_"
         "traitsIcESaIcEEES7_St4hashIS7_ESt8equal_toIS7_ESaISt4pairIKS7_S7_EEEPNS_16SentenceIteratorEPS7_");
    bind(l.set_random_seed, "_ZN13sentencepiece22SetRandomGeneratorSeedEj");
    bind(l.status_dtor, "_ZN13sentencepiece4util6StatusD1Ev");
    bind(l.status_message, "_ZNK13sentencepiece4util6Status13error_messageEv");
    return l;
  }();
  return lib;
}

SpStatus::~SpStatus() {
  if (rep != nullptr) sp_lib().status_dtor(this);
}

std::string SpStatus::message() const { return ok() ? std::string() : std::string(sp_lib().status_message(this)); }

}  // namespace

// A sentencepiece::SentencePieceProcessor, built and used through sp_lib().
class SpProcessor {
 public:
  SpProcessor() : obj_(::operator new(kSize)) {
    try {
      sp_lib().processor_ctor(obj_);
    } catch (...) {
      ::operator delete(obj_);
      throw;
    }
  }
  ~SpProcessor() {
    sp_lib().processor_dtor(obj_);
    ::operator delete(obj_);
  }
  SpProcessor(const SpProcessor&) = delete;
  SpProcessor& operator=(const SpProcessor&) = delete;

  SpStatus load(std::string_view model) { return sp_lib().load_from_serialized_proto(obj_, model); }
  SpStatus encode(std::string_view text, std::vector<int>* ids) const { return sp_lib().encode_ids(obj_, text, ids); }
  SpStatus decode(const std::vector<int>& ids, std::string* text) const { return sp_lib().decode_ids(obj_, ids, text); }
  int size() const { return sp_lib().get_piece_size(obj_); }
  int piece_to_id(std::string_view piece) const { return sp_lib().piece_to_id(obj_, piece); }
  const std::string& id_to_piece(int id) const { return sp_lib().id_to_piece(obj_, id); }
  float score(int id) const { return sp_lib().get_score(obj_, id); }
  bool is_byte(int id) const { return sp_lib().is_byte(obj_, id); }

 private:
  // The header's size, with room to spare should the library's object have grown.
  static constexpr std::size_t kSize = sizeof(sentencepiece::SentencePieceProcessor) + 256;
  void* obj_;
};

namespace {

// Streams the lines of the input files to SentencePiece's trainer. Positioned on the first
// line after construction (done() right away means: no text at all).
class CorpusIterator : public SpSentenceSource {
 public:
  CorpusIterator(std::vector<std::string> files, SpmTrainSummary* summary)
      : files_(std::move(files)), summary_(summary) {
    advance();
  }
  ~CorpusIterator() override { close_file(); }

  bool done() const override { return done_; }
  void Next() override { advance(); }
  const std::string& value() const override { return value_; }
  SpStatus status() const override { return {}; }  // read errors are counted, not fatal

 private:
  void skip_file(const std::string& why) {
    ++summary_->skipped_files;
    if (summary_->skipped_examples.size() < 5) summary_->skipped_examples.push_back(files_[next_file_ - 1] + " (" + why + ")");
    if (summary_->files > 0) --summary_->files;
    close_file();
  }

  void close_file() {
    if (gz_ != nullptr) gzclose(gz_);
    gz_ = nullptr;
  }

  // Opens the next text file; false when there is none left.
  bool open_next() {
    while (next_file_ < files_.size()) {
      const std::string& path = files_[next_file_++];
      buf_.clear();
      pos_ = 0;
      eof_ = false;
      file_bytes_ = 0;
      gz_ = gzopen(path.c_str(), "rb");  // reads plain files as they are, .gz decompressed
      ++summary_->files;
      if (gz_ == nullptr) {
        skip_file(std::string("cannot open: ") + std::strerror(errno));
        continue;
      }
      gzbuffer(gz_, 1 << 17);
      if (!fill(kSniffBytes)) continue;
      if (std::memchr(buf_.data(), '\0', std::min(buf_.size(), kSniffBytes)) != nullptr) {
        skip_file("not text: NUL bytes");
        continue;
      }
      return true;
    }
    return false;
  }

  // Reads until buf_ holds `want` bytes past pos_ or the file ends; false after skipping a
  // file that cannot be read (corrupt .gz).
  bool fill(std::size_t want) {
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    char chunk[kReadChunk];
    while (!eof_ && buf_.size() < want) {
      const int n = gzread(gz_, chunk, sizeof chunk);
      if (n < 0) {
        int err = 0;
        const std::string msg = gzerror(gz_, &err);
        if (file_bytes_ == 0) {
          skip_file("not readable: " + msg);
          return false;
        }
        // A truncated or damaged .gz: keep what was read before the damage.
        log_warn("'" + files_[next_file_ - 1] + "': read error after " + std::to_string(file_bytes_) +
                 " bytes (" + msg + "); using the text before it");
        eof_ = true;
        break;
      }
      if (n == 0) eof_ = true;
      buf_.append(chunk, static_cast<std::size_t>(n));
      file_bytes_ += n;
      summary_->bytes += n;
    }
    return true;
  }

  // The next piece of text of the current file: a line (without \n, \r\n), or a part of at
  // most kMaxLineBytes of a longer one. False at the end of the file.
  bool take(std::string& out) {
    while (true) {
      const std::size_t avail = buf_.size() - pos_;
      const std::size_t nl = buf_.find('\n', pos_);
      if (nl != std::string::npos && nl - pos_ <= kMaxLineBytes) {
        out.assign(buf_, pos_, nl - pos_);
        pos_ = nl + 1;
        if (!out.empty() && out.back() == '\r') out.pop_back();
        return true;
      }
      if (avail > kMaxLineBytes) {
        // A long line: cut at the last space (it starts the next part, as "▁word" would), else
        // at a character boundary.
        std::size_t cut = pos_ + kMaxLineBytes;
        const std::size_t space = buf_.rfind(' ', cut);
        if (space != std::string::npos && space > pos_) {
          cut = space;
        } else {
          while (cut > pos_ && (static_cast<unsigned char>(buf_[cut]) & 0xC0) == 0x80) --cut;
          if (cut == pos_) cut = pos_ + kMaxLineBytes;
        }
        out.assign(buf_, pos_, cut - pos_);
        pos_ = cut;
        ++summary_->split_lines;
        return true;
      }
      if (eof_) {
        if (avail == 0) return false;
        out.assign(buf_, pos_, avail);
        pos_ = buf_.size();
        if (!out.empty() && out.back() == '\r') out.pop_back();
        return true;
      }
      if (!fill(avail + kReadChunk)) return false;
    }
  }

  void advance() {
    while (true) {
      if (gz_ == nullptr && !open_next()) {
        done_ = true;
        value_.clear();
        return;
      }
      if (gz_ == nullptr) continue;  // skipped while filling
      if (!take(value_)) {
        close_file();
        continue;
      }
      if (value_.empty()) continue;
      if (utf8::first_invalid(value_) != std::string::npos) {
        ++summary_->skipped_lines;
        continue;
      }
      ++summary_->lines;
      return;
    }
  }

  std::vector<std::string> files_;
  SpmTrainSummary* summary_;
  std::size_t next_file_ = 0;
  gzFile gz_ = nullptr;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  int64_t file_bytes_ = 0;  // read from the current file (decompressed)
  bool done_ = false;
  std::string value_;
};

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::string corpus_numbers(const SpmTrainSummary& s) {
  return std::to_string(s.lines) + " lines, " + std::to_string(s.bytes) + " bytes from " + std::to_string(s.files) +
         " file(s)";
}

// SentencePiece's errors, with the numbers in our words and a hint.
UserError training_error(const std::string& msg, const SpmTrainOptions& o, const SpmTrainSummary& s) {
  std::smatch m;
  static const std::regex too_high(R"(Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+))");
  static const std::regex too_small(R"(Vocabulary size is smaller than required_chars\. (\d+) vs (\d+))");
  if (std::regex_search(msg, m, too_high))
    return UserError("vocab_size " + m[1].str() + " is too large for this corpus (" + corpus_numbers(s) +
                         "): SentencePiece can make at most " + m[2].str() + " pieces from it",
                     "use --vocab-size " + m[2].str() + " or less, or train on more text");
  if (std::regex_search(msg, m, too_small))
    return UserError("vocab_size " + m[1].str() + " is too small for this corpus (" + corpus_numbers(s) + "): its " +
                         std::to_string(std::stoll(m[2].str()) - reserved_pieces(o.specials)) +
                         " distinct characters and " + std::to_string(reserved_pieces(o.specials)) +
                         " special and byte pieces need " + m[2].str(),
                     "use --vocab-size " + m[2].str() + " or more (more leaves room for learned merges)");
  if (msg.find("sentences_.empty()") != std::string::npos)
    return UserError("no training text in the inputs (" + corpus_numbers(s) + ")", "point --input at UTF-8 text files");
  return UserError("SentencePiece training failed on " + corpus_numbers(s) + ": " + msg,
                   "check the inputs and --vocab-size/--type");
}

// spm.vocab: "piece<TAB>score" per id, as spm_train writes it.
std::string vocab_listing(const SpProcessor& sp) {
  std::ostringstream out;
  for (int i = 0; i < sp.size(); ++i) out << sp.id_to_piece(i) << '\t' << sp.score(i) << '\n';
  return out.str();
}

void write_tokenizer_files(const std::string& dir, const std::string& model, const std::string& vocab,
                           const std::string& config) {
  fs::write_file_atomic(dir + "/spm.model", model);
  fs::write_file_atomic(dir + "/spm.vocab", vocab);
  fs::write_file_atomic(dir + "/tokenizer_config.json", config);  // last: the directory is usable once it is there
}

}  // namespace

void SpmTrainOptions::validate() const {
  if (inputs.empty()) throw UserError("no training inputs given", "pass --input FILE|DIR|GLOB (one or more)");
  if (out_dir.empty()) throw UserError("no output directory given", "pass --out DIR");
  if (model_type != "bpe" && model_type != "unigram")
    throw UserError("tokenizer type '" + model_type + "' is not supported", "use --type bpe or --type unigram");
  const auto& tokens = specials.tokens;
  const std::string listed = "the special tokens (" + join(tokens, " ") + ")";
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].empty()) throw UserError("special token " + std::to_string(i + 1) + " is empty", "name every special token");
    if (std::count(tokens.begin(), tokens.end(), tokens[i]) > 1)
      throw UserError("special token " + tokens[i] + " is listed twice", "list each special token once");
  }
  auto is_special = [&](const std::string& t) { return std::find(tokens.begin(), tokens.end(), t) != tokens.end(); };
  if (!is_special(specials.eot))
    throw UserError("the end-of-text token '" + specials.eot + "' is not among " + listed, "add it to the special tokens");
  for (const auto* role : {&specials.unk, &specials.pad})
    if (!role->empty() && !is_special(*role))
      throw UserError("the " + std::string(role == &specials.unk ? "unknown" : "padding") + " token '" + *role +
                          "' is not among " + listed,
                      "add it to the special tokens, or leave it empty");
  if (specials.unk.empty() && is_special(kExtraUnk))
    throw UserError(listed + " include " + kExtraUnk + " but do not name it the unknown token",
                    "set the unknown token to " + std::string(kExtraUnk));
  const int32_t min_vocab = reserved_pieces(specials) + 1;
  if (vocab_size < min_vocab)
    throw UserError("vocab_size " + std::to_string(vocab_size) + " is too small: " + listed + " and the bytes are " +
                        std::to_string(reserved_pieces(specials)) + " pieces before any learned piece",
                    "use --vocab-size " + std::to_string(min_vocab) + " or more (typical: 8000-50000)");
  if (vocab_size > (1 << 24))
    throw UserError("vocab_size " + std::to_string(vocab_size) + " is too large", "use --vocab-size 16777216 or less");
  if (max_sentences < 0)
    throw UserError("max_sentences must be >= 0 (0 = all), got " + std::to_string(max_sentences), "");
  if (num_threads < 0) throw UserError("num_threads must be >= 0 (0 = all cores), got " + std::to_string(num_threads), "");
}

SpmTrainSummary train_sentencepiece(const SpmTrainOptions& o) {
  o.validate();
  SpmTrainSummary summary;
  summary.out_dir = o.out_dir;
  std::error_code ec;
  if (sfs::exists(o.out_dir, ec) && !sfs::is_directory(o.out_dir, ec))
    throw UserError("output '" + o.out_dir + "' exists and is not a directory", "choose another --out");
  fs::require_new_dir(o.out_dir, "--out");  // as data prepare and export: nothing is overwritten
  const std::vector<std::string> files = text::expand_inputs(o.inputs);  // shared with data prepare: skips dot-files

  CorpusIterator corpus(files, &summary);
  if (corpus.done()) {
    std::string why = "no training text in the inputs: " + std::to_string(files.size()) + " file(s), " +
                      std::to_string(summary.skipped_files) + " skipped as not text, " +
                      std::to_string(summary.skipped_lines) + " line(s) of invalid UTF-8";
    if (!summary.skipped_examples.empty()) why += " (e.g. " + summary.skipped_examples.front() + ")";
    throw UserError(why, "point --input at UTF-8 text files with at least a few lines");
  }

  const SpmSpecials& sp_tokens = o.specials;
  std::unordered_map<std::string, std::string> args = {
      {"model_type", o.model_type},
      {"vocab_size", std::to_string(o.vocab_size)},
      {"byte_fallback", "true"},
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"add_dummy_prefix", "false"},
      {"split_digits", o.split_digits ? "true" : "false"},
      {"allow_whitespace_only_pieces", "true"},
      {"treat_whitespace_as_suffix", "false"},
      {"input_sentence_size", std::to_string(o.max_sentences)},
      {"shuffle_input_sentence", "true"},
      {"max_sentence_length", std::to_string(kMaxLineBytes)},
      {"num_threads", std::to_string(o.num_threads > 0 ? o.num_threads
                                                       : std::clamp<int>(static_cast<int>(std::thread::hardware_concurrency()), 1, 64))},
      {"minloglevel", o.verbose ? "0" : "2"},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
  };
  // SentencePiece places its unk (and pad) piece at the given ids and the user-defined symbols in
  // order at the ids left free, so every special lands at first_special_id + its index. A pad
  // piece is also re-typed user-defined, so that it is matched in text like the others.
  auto special_id = [&](const std::string& t) {
    const auto at = std::find(sp_tokens.tokens.begin(), sp_tokens.tokens.end(), t) - sp_tokens.tokens.begin();
    return first_special_id(sp_tokens) + static_cast<int32_t>(at);
  };
  args["unk_id"] = sp_tokens.unk.empty() ? "0" : std::to_string(special_id(sp_tokens.unk));
  args["unk_piece"] = sp_tokens.unk.empty() ? kExtraUnk : sp_tokens.unk;
  args["pad_id"] = sp_tokens.pad.empty() ? "-1" : std::to_string(special_id(sp_tokens.pad));
  if (!sp_tokens.pad.empty()) args["pad_piece"] = sp_tokens.pad;
  std::vector<std::string> user_defined;
  for (const auto& t : sp_tokens.tokens)
    if (t != sp_tokens.unk) user_defined.push_back(t);
  args["user_defined_symbols"] = join(user_defined, ",");
  const SpLib& lib = sp_lib();
  lib.set_random_seed(o.seed);
  log_info("training a " + o.model_type + " tokenizer (" + std::to_string(o.vocab_size) + " pieces) on " +
           std::to_string(files.size()) + " file(s)");
  std::string model;
  const SpStatus status = lib.train(args, &corpus, &model);
  if (!status.ok()) throw training_error(status.message(), o, summary);

  SpProcessor sp;
  const SpStatus load = sp.load(model);
  PTFT_CHECK(load.ok(), "SentencePiece cannot load the model it just trained: " + load.message());
  summary.vocab_size = sp.size();
  PTFT_CHECK(summary.vocab_size == o.vocab_size, "trained vocabulary has " + std::to_string(summary.vocab_size) + " pieces");
  for (const auto& s : sp_tokens.tokens)
    PTFT_CHECK(sp.piece_to_id(s) == special_id(s) && sp.id_to_piece(special_id(s)) == s,
               "special token " + s + " is not at id " + std::to_string(special_id(s)));

  // The specials in full: loading needs nothing else (from_dir).
  const nlohmann::json config = {{"type", "sentencepiece"},
                                 {"model_type", o.model_type},
                                 {"special_tokens", sp_tokens.tokens},
                                 {"eot_token", sp_tokens.eot},
                                 {"unk_token", args["unk_piece"]},
                                 {"pad_token", sp_tokens.pad},
                                 {"vocab_size", summary.vocab_size},
                                 {"split_digits", o.split_digits}};
  const std::string config_text = config.dump(2) + "\n";
  const std::string vocab = vocab_listing(sp);
  fs::require_new_dir(o.out_dir, "--out");  // still free after the training
  const auto parent = sfs::path(o.out_dir).parent_path();
  if (!parent.empty()) sfs::create_directories(parent, ec);
  fs::write_dir_atomic(o.out_dir, [&](const std::string& tmp) {
    sfs::create_directories(tmp);
    write_tokenizer_files(tmp, model, vocab, config_text);
  });
  return summary;
}

// --- SentencePieceTokenizer ------------------------------------------------------------------

namespace {

// LEGACY: tokenizer_config.json files written before the special tokens were recorded in full
// (no "pad_token"; the oldest ones also lack "special_tokens" and "eot_token") name the model
// family whose specials the vocabulary has. This fills in what training gave that family then;
// keys present in the file win. The only place where the tokenizer knows family names.
void convert_legacy_config(nlohmann::json& config, const std::string& family, const std::string& config_path) {
  nlohmann::json specials;
  if (family == "gpt")
    specials = {{"special_tokens", nlohmann::json::array({"<|endoftext|>"})}, {"eot_token", "<|endoftext|>"},
                {"pad_token", ""}};
  else if (family == "bert")
    specials = {{"special_tokens", nlohmann::json::array({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})},
                {"eot_token", "[SEP]"}, {"pad_token", "[PAD]"}};
  else
    throw UserError("'" + config_path + "' names no special tokens (\"special_tokens\", \"eot_token\", \"pad_token\") "
                    "and an unknown family '" + family + "'",
                    "re-create the tokenizer with `ptft tokenizer train`");
  for (const auto& [key, value] : specials.items())
    if (!config.contains(key)) config[key] = value;
}

// What is wrong with the model bytes `model`, or "" when `sp` loaded them: ptft's own check
// (spm_model_check.h), then SentencePiece's complaint. Its trie builder (Darts) throws instead of
// returning a status, e.g. "zero-length key" for a damaged model (found by fuzz_sentencepiece):
// that is a complaint too, not an internal error.
std::string load_problem(SpProcessor& sp, std::string_view model) {
  if (std::string why = spm_model_defect(model); !why.empty()) return why;
  try {
    const SpStatus st = sp.load(model);
    return st.ok() ? std::string() : st.message();
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::shared_ptr<SentencePieceTokenizer> SentencePieceTokenizer::from_dir(const std::string& dir) {
  const std::string config_path = dir + "/tokenizer_config.json";
  const std::string model_path = dir + "/spm.model";
  std::shared_ptr<SentencePieceTokenizer> t(new SentencePieceTokenizer());
  t->dir_ = dir;
  t->config_text_ = fs::read_file(config_path, "tokenizer config");
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(t->config_text_);
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + config_path + "' is not valid JSON: " + e.what(), "re-create it with `ptft tokenizer train`");
  }
  auto get_string = [&](const char* key, const std::string& fallback) {
    if (!config.contains(key)) return fallback;
    if (!config[key].is_string())
      throw UserError("'" + config_path + "': \"" + key + "\" must be a string, got " + config[key].dump(),
                      "re-create it with `ptft tokenizer train`");
    return config[key].get<std::string>();
  };
  if (!config.is_object() || get_string("type", "") != "sentencepiece")
    throw UserError("'" + config_path + "' does not describe a SentencePiece tokenizer (\"type\": \"sentencepiece\")",
                    "re-create it with `ptft tokenizer train`");
  t->model_type_ = get_string("model_type", "bpe");
  if (!config.contains("pad_token")) convert_legacy_config(config, get_string("family", "gpt"), config_path);
  const nlohmann::json& list = config["special_tokens"];
  if (!list.is_array() || !std::all_of(list.begin(), list.end(), [](const auto& s) { return s.is_string(); }))
    throw UserError("'" + config_path + "': \"special_tokens\" must be a list of strings", "fix the file");
  const auto specials = list.get<std::vector<std::string>>();
  const std::string eot = get_string("eot_token", "");
  const std::string pad = get_string("pad_token", "");

  t->model_bytes_ = fs::read_file(model_path, "SentencePiece model");
  t->sp_ = std::make_unique<SpProcessor>();
  const std::string problem = load_problem(*t->sp_, t->model_bytes_);
  if (!problem.empty())
    throw UserError("'" + model_path + "' is not a valid SentencePiece model: " + problem,
                    "re-create the tokenizer with `ptft tokenizer train`");
  for (const auto& s : specials) {
    const int id = t->sp_->piece_to_id(s);
    if (t->sp_->id_to_piece(id) != s)
      throw UserError("'" + config_path + "' lists special token " + s + " that '" + model_path + "' does not have",
                      "the two files do not belong together; re-create the tokenizer");
    t->specials_.emplace_back(s, id);
    if (s == pad) t->pad_id_ = id;
  }
  std::sort(t->specials_.begin(), t->specials_.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  auto eot_it = std::find_if(t->specials_.begin(), t->specials_.end(), [&](const auto& p) { return p.first == eot; });
  if (eot_it == t->specials_.end())
    throw UserError("'" + config_path + "': end-of-text token " + eot + " is not among its special tokens", "fix the file");
  t->eot_id_ = eot_it->second;
  if (!pad.empty() && t->pad_id_ < 0)
    throw UserError("'" + config_path + "': padding token " + pad + " is not among its special tokens", "fix the file");
  const char* bytes[3] = {"<0xE2>", "<0x96>", "<0x81>"};
  for (int i = 0; i < 3; ++i) {
    const int id = t->sp_->piece_to_id(bytes[i]);
    t->space_symbol_bytes_[i] = t->sp_->is_byte(id) ? id : -1;
  }
  return t;
}

void SentencePieceTokenizer::encode_plain(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<int> ids;
  const SpStatus st = sp_->encode(text, &ids);
  if (!st.ok()) throw InternalError("SentencePiece failed to encode " + std::to_string(text.size()) + " bytes: " + st.message());
  out.insert(out.end(), ids.begin(), ids.end());
}

std::vector<int32_t> SentencePieceTokenizer::encode(std::string_view text) const {
  utf8::require_valid(text, "text to encode");
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 1);
  const bool escape_space_symbol = space_symbol_bytes_[0] >= 0 && space_symbol_bytes_[1] >= 0 && space_symbol_bytes_[2] >= 0;
  SpecialSplitter splitter(specials_);
  splitter.split(
      text,
      [&](std::string_view part) {
        if (!escape_space_symbol) return encode_plain(part, out);
        // A literal U+2581 would read as a space after decoding: emit its bytes instead.
        std::size_t start = 0;
        for (std::size_t p; (p = part.find(kSpaceSymbol, start)) != std::string_view::npos; start = p + 3) {
          if (p > start) encode_plain(part.substr(start, p - start), out);
          out.insert(out.end(), space_symbol_bytes_, space_symbol_bytes_ + 3);
        }
        if (start < part.size()) encode_plain(part.substr(start), out);
      },
      [&](int32_t id) { out.push_back(id); });
  return out;
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t>& ids) const {
  const int32_t n = vocab_size();
  std::string out;
  std::vector<int> run;
  auto flush = [&] {
    if (run.empty()) return;
    std::string s;
    const SpStatus st = sp_->decode(run, &s);
    if (!st.ok()) throw InternalError("SentencePiece failed to decode " + std::to_string(run.size()) + " ids: " + st.message());
    out += s;
    run.clear();
  };
  for (int32_t id : ids) {
    if (id < 0 || id >= n)
      throw UserError("token id " + std::to_string(id) + " is out of range for tokenizer '" + dir_ + "' (0.." +
                          std::to_string(n - 1) + ")",
                      "decode ids made with this tokenizer");
    auto sp = std::find_if(specials_.begin(), specials_.end(), [&](const auto& p) { return p.second == id; });
    if (sp == specials_.end()) {
      run.push_back(id);
      continue;
    }
    flush();
    if (id != pad_id_) out += sp->first;
  }
  flush();
  return out;
}

int32_t SentencePieceTokenizer::vocab_size() const { return sp_->size(); }

std::string SentencePieceTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw UserError("token id " + std::to_string(id) + " is out of range (0.." + std::to_string(vocab_size() - 1) + ")");
  return sp_->id_to_piece(id);
}

std::optional<int32_t> SentencePieceTokenizer::token_to_id(const std::string& token) const {
  const int id = sp_->piece_to_id(token);
  if (id < 0 || sp_->id_to_piece(id) != token) return std::nullopt;
  return id;
}

std::vector<std::string> SentencePieceTokenizer::special_tokens() const {
  std::vector<std::string> out;
  for (const auto& [tok, id] : specials_) out.push_back(tok);
  return out;
}

std::string SentencePieceTokenizer::content_hash() const { return fnv1a64_hex(model_bytes_); }

void SentencePieceTokenizer::save(const std::string& dir) const {
  std::error_code ec;
  sfs::create_directories(dir, ec);
  if (ec) throw UserError("cannot create tokenizer directory '" + dir + "': " + ec.message());
  write_tokenizer_files(dir, model_bytes_, vocab_listing(*sp_), config_text_);
}

}  // namespace ptft
