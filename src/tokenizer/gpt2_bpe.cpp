#include "ptft/tokenizer/gpt2_bpe.h"
#include "ptft/core/json_depth.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bpe_merge_key.h"
#include "bpe_piece_cache.h"
#include "byte_alphabet.h"
#include "gpt2_files.h"
#include "gpt2_pretokenizer.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/hash.h"
#include "unicode_categories.h"

namespace ptft {
namespace {

namespace stdfs = std::filesystem;
using gpt2_files::json_quote;

using bpe_merge_key::kEmptyKey;
using bpe_merge_key::pair_key;
using bpe_merge_key::slot_of;
// Pieces are pre-tokenized this many at a time (bounded memory for any text).
constexpr std::size_t kPieceBlock = 4096;

const char* const kVocabHint =
    "GPT-2's vocab.json (encoder.json) holds the 256 byte tokens and \"<|endoftext|>\"; "
    "fetch the real files with scripts/fetch-gpt2-tokenizer.sh";

// How far past the vocabulary an added token's id may lie (ids index dense tables).
constexpr int32_t kMaxIdGap = 65536;

std::atomic<uint64_t> g_next_serial{1};

}  // namespace

// Per-thread working memory of encode(): buffers reused across calls, and piece caches for the
// last few Gpt2Bpe instances this thread used (told apart by serial, never by address).
class Gpt2Bpe::Scratch {
 public:
  struct Symbol {
    int32_t id;    // -1 once merged into its left neighbour
    int32_t prev;  // index of the live symbol to the left, -1 at the start
    int32_t next;  // index of the live symbol to the right, -1 at the end
  };
  // A pair of adjacent symbols that has a merge; stale once either side has changed.
  struct Candidate {
    int32_t rank;
    int32_t left;
    int32_t right;
    int32_t left_id;
    int32_t right_id;
    int32_t merged;
  };

  std::vector<Gpt2Piece> pieces;
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
  std::vector<Candidate> pending;

  PieceCache& cache_for(uint64_t serial) { return caches_.cache_for(serial); }

 private:
  PieceCaches caches_;
};

Gpt2Bpe::~Gpt2Bpe() = default;

// ---------------------------------------------------------------------------------------------
// Loading

std::shared_ptr<Gpt2Bpe> Gpt2Bpe::from_files(const std::string& vocab_json,
                                             const std::string& merges_txt,
                                             const std::vector<std::string>& extra_special_tokens) {
  std::shared_ptr<Gpt2Bpe> tok(new Gpt2Bpe());
  tok->load(vocab_json, merges_txt);
  for (const auto& s : extra_special_tokens)
    tok->add_special(s, std::nullopt, "extra special tokens");
  tok->finish();
  return tok;
}

std::shared_ptr<Gpt2Bpe> Gpt2Bpe::from_dir(const std::string& dir) {
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec))
    throw UserError("GPT-2 tokenizer directory '" + dir + "' does not exist or is not a directory",
                    "pass a directory holding vocab.json + merges.txt or encoder.json + vocab.bpe");
  const stdfs::path d(dir);
  auto has = [&](const char* name) { return stdfs::exists(d / name, ec); };
  stdfs::path vocab, merges;
  if (has("vocab.json") || has("merges.txt")) {
    vocab = d / "vocab.json", merges = d / "merges.txt";
  } else if (has("encoder.json") || has("vocab.bpe")) {
    vocab = d / "encoder.json", merges = d / "vocab.bpe";
  } else {
    throw UserError("'" + dir +
                        "' holds no GPT-2 vocabulary: expected vocab.json + merges.txt "
                        "(Hugging Face, ptft) or encoder.json + vocab.bpe (OpenAI)",
                    "fetch GPT-2's files with scripts/fetch-gpt2-tokenizer.sh " + dir);
  }
  std::shared_ptr<Gpt2Bpe> tok(new Gpt2Bpe());
  tok->load(vocab.string(), merges.string());

  // Hugging Face's added_tokens.json: {"<|im_start|>": 50257, ...}.
  const std::string added = (d / "added_tokens.json").string();
  if (has("added_tokens.json")) {
    for (const auto& e : gpt2_files::parse_vocab_json(fs::read_file(added, "added tokens"), added))
      tok->add_special(e.token, e.id, added);
  }
  // ptft's tokenizer_config.json; Hugging Face's (no "type") says nothing we need.
  const std::string config = (d / "tokenizer_config.json").string();
  if (has("tokenizer_config.json")) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_json_text(config, "tokenizer config"));
    } catch (const nlohmann::json::exception& e) {
      throw UserError(config + ": not valid JSON: " + e.what(), "fix or delete the file");
    }
    if (j.is_object() && j.contains("type")) {
      if (j["type"] != "gpt2-bpe")
        throw UserError(config + ": \"type\" is " + j["type"].dump() + ", not \"gpt2-bpe\"",
                        "open it with load_tokenizer(), which picks the tokenizer by its type");
      if (j.contains("special_tokens")) {
        const auto& s = j["special_tokens"];
        if (!s.is_array())
          throw UserError(config + ": \"special_tokens\" is not a list of strings",
                          "write it as [\"<|endoftext|>\", ...]");
        for (const auto& t : s) {
          if (!t.is_string())
            throw UserError(config + ": \"special_tokens\" holds " + t.dump() + ", not a string",
                            "write it as [\"<|endoftext|>\", ...]");
          tok->add_special(t.get<std::string>(), std::nullopt, config);
        }
      }
    }
  }
  tok->finish();
  return tok;
}

void Gpt2Bpe::load(const std::string& vocab_path, const std::string& merges_path) {
  // vocab.json
  const auto entries = gpt2_files::parse_vocab_json(
      fs::read_file(vocab_path, "GPT-2 vocabulary (vocab.json)"), vocab_path);
  int32_t max_id = -1;
  for (const auto& e : entries) max_id = std::max(max_id, e.id);
  if (static_cast<int64_t>(max_id) > 4 * static_cast<int64_t>(entries.size()) + 1024)
    throw UserError(vocab_path + ": the ids are sparse: " + std::to_string(entries.size()) +
                        " tokens, largest id " + std::to_string(max_id),
                    "ids should run from 0 to the number of tokens - 1");
  id_to_token_.assign(max_id + 1, std::string());
  id_used_.assign(max_id + 1, false);
  token_to_id_.reserve(entries.size() * 2);
  for (const auto& e : entries) {
    id_to_token_[e.id] = e.token;
    id_used_[e.id] = true;
    token_to_id_.emplace(e.token, e.id);
  }
  const auto cps = byte_code_points();
  for (int b = 0; b < 256; ++b) {
    std::string t;
    unicode::append_utf8(cps[b], &t);
    const auto it = token_to_id_.find(t);
    if (it == token_to_id_.end()) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", b);
      throw UserError(
          vocab_path + ": no token for byte " + hex + " (spelled " + json_quote(t) +
              " in GPT-2's byte alphabet)",
          std::string("a byte-level BPE vocabulary holds all 256 one-byte tokens; ") + kVocabHint);
    }
    byte_id_[b] = it->second;
  }

  // merges.txt
  const auto lines = gpt2_files::parse_merges_txt(
      fs::read_file(merges_path, "GPT-2 merges (merges.txt)"), merges_path);
  merge_table_bits_ = 4;
  while ((std::size_t{1} << merge_table_bits_) < 2 * lines.size()) ++merge_table_bits_;
  merge_table_.assign(std::size_t{1} << merge_table_bits_, MergeSlot{kEmptyKey, 0, 0});
  const std::size_t mask = merge_table_.size() - 1;
  merges_.reserve(lines.size());
  const std::string merges_hint =
      "each merge joins two tokens of vocab.json into a third one; are " + vocab_path + " and " +
      merges_path + " from the same model?";
  auto id_of = [&](const std::string& t, const gpt2_files::MergeLine& m, const char* what) {
    const auto it = token_to_id_.find(t);
    if (it == token_to_id_.end())
      throw UserError(merges_path + ":" + std::to_string(m.line) + ": " + what + " " +
                          json_quote(t) + " of the merge " + json_quote(m.left + " " + m.right) +
                          " is not in " + vocab_path,
                      merges_hint);
    return it->second;
  };
  for (const auto& m : lines) {
    const int32_t a = id_of(m.left, m, "token");
    const int32_t b = id_of(m.right, m, "token");
    const int32_t merged = id_of(m.left + m.right, m, "the result");
    if (const MergeSlot* dup = find_merge(a, b))
      throw UserError(merges_path + ":" + std::to_string(m.line) + ": the merge " +
                          json_quote(m.left + " " + m.right) + " repeats line " +
                          std::to_string(lines[dup->rank].line),
                      "each pair may be merged once; delete one of the lines");
    const uint64_t key = pair_key(a, b);
    std::size_t i = slot_of(key, merge_table_bits_);
    while (merge_table_[i].key != kEmptyKey) i = (i + 1) & mask;
    merge_table_[i] = {key, static_cast<int32_t>(merges_.size()), merged};
    merges_.emplace_back(a, b);
  }

  const auto eot = token_to_id_.find(kEndOfText);
  if (eot == token_to_id_.end())
    throw UserError(vocab_path + ": no \"<|endoftext|>\" token", kVocabHint);
  eot_id_ = eot->second;
  add_special(kEndOfText, eot_id_, vocab_path);
}

void Gpt2Bpe::add_special(const std::string& text, std::optional<int32_t> id,
                          const std::string& source) {
  if (text.empty())
    throw UserError(source + ": a special token is empty", "remove the empty string");
  if (!unicode::is_valid_utf8(text))
    throw UserError(source + ": special token " + json_quote(text) + " is not valid UTF-8",
                    "special tokens are text");
  const auto it = token_to_id_.find(text);
  if (it != token_to_id_.end()) {
    if (id && *id != it->second)
      throw UserError(source + ": special token " + json_quote(text) + " has id " +
                          std::to_string(*id) + " but the vocabulary gives it " +
                          std::to_string(it->second),
                      "the files come from different models?");
    id = it->second;
  } else {
    if (!id) id = vocab_size();
    if (*id < 0 || *id > vocab_size() + kMaxIdGap)
      throw UserError(source + ": special token " + json_quote(text) + " has id " +
                          std::to_string(*id) + ", far outside the vocabulary's 0.." +
                          std::to_string(vocab_size() - 1),
                      "added tokens take the ids right after the vocabulary's");
    if (*id < vocab_size() && id_used_[*id])
      throw UserError(source + ": id " + std::to_string(*id) + " of special token " +
                          json_quote(text) + " is already the id of " +
                          json_quote(id_to_token_[*id]),
                      "give added tokens ids that no token has");
    if (*id >= vocab_size()) {
      id_to_token_.resize(*id + 1);
      id_used_.resize(*id + 1, false);
    }
    id_to_token_[*id] = text;
    id_used_[*id] = true;
    token_to_id_.emplace(text, *id);
  }
  for (const auto& s : specials_)
    if (s.text == text) return;
  specials_.push_back({text, *id});
}

void Gpt2Bpe::finish() {
  std::sort(specials_.begin(), specials_.end(),
            [](const Special& a, const Special& b) { return a.id < b.id; });

  // What each id decodes to: byte-alphabet tokens map back to their bytes; special tokens, and
  // any token outside the alphabet, to their own text.
  const auto byte_of = byte_of_code_points();
  std::vector<bool> is_special(id_to_token_.size(), false);
  for (const auto& s : specials_) is_special[s.id] = true;
  id_bytes_.assign(id_to_token_.size(), std::string());
  for (std::size_t id = 0; id < id_to_token_.size(); ++id) {
    const std::string& t = id_to_token_[id];
    if (is_special[id]) {
      id_bytes_[id] = t;
      continue;
    }
    std::string bytes;
    bool alphabet = true;
    uint32_t cp = 0;
    for (std::size_t i = 0; i < t.size() && alphabet;) {
      const int len = unicode::decode_utf8(t.data() + i, t.size() - i, &cp);
      alphabet = len > 0 && cp < byte_of.size() && byte_of[cp] >= 0;
      if (alphabet) bytes.push_back(static_cast<char>(byte_of[cp]));
      i += len;
    }
    id_bytes_[id] = alphabet ? bytes : t;
  }

  uint64_t h = fnv1a64(vocab_json_bytes());
  h = fnv1a64(merges_txt_bytes(), h);
  for (const auto& s : specials_) h = fnv1a64(s.text + "\n", h);
  content_hash_ = hex64(h);
  serial_ = g_next_serial.fetch_add(1);
}

// ---------------------------------------------------------------------------------------------
// Encoding

const Gpt2Bpe::MergeSlot* Gpt2Bpe::find_merge(int32_t a, int32_t b) const {
  return bpe_merge_key::find_slot(merge_table_, merge_table_bits_, pair_key(a, b));
}

std::vector<int32_t> Gpt2Bpe::encode(std::string_view text) const {
  thread_local Scratch scratch;
  std::vector<int32_t> out;
  out.reserve(text.size() / 4 + 16);
  // Split at special tokens: the next occurrence of each at or after `pos` (npos: none left);
  // the earliest wins, the longest among those that start there.
  constexpr auto npos = std::string_view::npos;
  std::vector<std::size_t> next(specials_.size());
  for (std::size_t k = 0; k < specials_.size(); ++k) next[k] = text.find(specials_[k].text);
  std::size_t pos = 0;
  for (;;) {
    std::size_t at = npos;
    const Special* which = nullptr;
    for (std::size_t k = 0; k < specials_.size(); ++k) {
      if (next[k] != npos && next[k] < pos) next[k] = text.find(specials_[k].text, pos);
      if (next[k] == npos) continue;
      if (next[k] < at || (next[k] == at && specials_[k].text.size() > which->text.size())) {
        at = next[k];
        which = &specials_[k];
      }
    }
    encode_ordinary(text.substr(pos, which ? at - pos : npos), scratch, &out);
    if (!which) break;
    out.push_back(which->id);
    pos = at + which->text.size();
  }
  return out;
}

void Gpt2Bpe::encode_ordinary(std::string_view text, Scratch& scratch,
                              std::vector<int32_t>* out) const {
  if (text.empty()) return;
  PieceCache& cache = scratch.cache_for(serial_);
  for (std::size_t at = 0; at < text.size();) {
    at = gpt2_pretokenize(text, at, kPieceBlock, &scratch.pieces);
    for (const Gpt2Piece& p : scratch.pieces) {
      const std::string_view piece = text.substr(p.begin, p.size);
      if (p.size == 1) {
        out->push_back(byte_id_[static_cast<unsigned char>(piece[0])]);
        continue;
      }
      if (p.size > PieceCache::kMaxPieceBytes) {
        bpe_long(piece, scratch, out);
        continue;
      }
      cache.encode_through(piece, out, [this](std::string_view s, std::vector<int32_t>* o) { bpe_short(s, o); });
    }
  }
}

// The reference loop (OpenAI's encoder.py): find the adjacent pair with the lowest merge rank,
// merge all of its occurrences left to right, repeat until no pair has a merge. The pairs that
// a round of merges creates count only from the next round on.
//
// For a short piece: the symbols and their pairs' ranks in small arrays, one scan per round.
void Gpt2Bpe::bpe_short(std::string_view piece, std::vector<int32_t>* out) const {
  constexpr int kMax = static_cast<int>(PieceCache::kMaxPieceBytes);
  constexpr int32_t kNone = INT32_MAX;
  PTFT_CHECK(piece.size() <= PieceCache::kMaxPieceBytes, "piece too long for bpe_short");
  int32_t ids[kMax];     // symbols
  int32_t ranks[kMax];   // ranks[i]: rank of the pair (ids[i], ids[i+1]), kNone if no merge
  int32_t merged[kMax];  // merged[i]: what that pair merges into
  int m = static_cast<int>(piece.size());
  for (int i = 0; i < m; ++i) ids[i] = byte_id_[static_cast<unsigned char>(piece[i])];
  auto rank_pair = [&](int i) {
    const MergeSlot* s = find_merge(ids[i], ids[i + 1]);
    ranks[i] = s ? s->rank : kNone;
    merged[i] = s ? s->merged : -1;
  };
  for (int i = 0; i + 1 < m; ++i) rank_pair(i);
  for (;;) {
    const int32_t best = m > 1 ? *std::min_element(ranks, ranks + m - 1) : kNone;
    if (best == kNone) break;
    // Ranks are unique per pair, so ranks[i] == best finds the occurrences of the best pair;
    // a pair made in this round never has rank `best` (it holds the longer merged token).
    for (int i = 0; i + 1 < m; ++i) {
      if (ranks[i] != best) continue;
      ids[i] = merged[i];
      // Symbol i+1 is gone: shift the symbols after it, and the pairs after pair i.
      std::copy(ids + i + 2, ids + m, ids + i + 1);
      if (i + 2 < m - 1) {  // pairs i+2 .. m-2 become i+1 .. m-3
        std::copy(ranks + i + 2, ranks + m - 1, ranks + i + 1);
        std::copy(merged + i + 2, merged + m - 1, merged + i + 1);
      }
      --m;
      if (i > 0) rank_pair(i - 1);
      if (i + 1 < m) rank_pair(i);
    }
  }
  out->insert(out->end(), ids, ids + m);
}

// For a long piece (a run of letters or spaces of any length): the pairs wait in a min-heap by
// (rank, position), so n bytes cost O(n log n), not O(n^2); the pairs that a round creates join
// the heap when the round is over.
void Gpt2Bpe::bpe_long(std::string_view piece, Scratch& s, std::vector<int32_t>* out) const {
  if (piece.size() > static_cast<std::size_t>(INT32_MAX))
    throw UserError("cannot encode a run of " + std::to_string(piece.size()) +
                        " bytes without a break (over 2 GiB)",
                    "is this text? split it first");
  using Candidate = Scratch::Candidate;
  const auto n = static_cast<int32_t>(piece.size());
  auto& sym = s.symbols;
  sym.resize(n);
  for (int32_t i = 0; i < n; ++i)
    sym[i] = {byte_id_[static_cast<unsigned char>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1};

  // Min-heap on (rank, left): std::*_heap keep the "largest" on top.
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  auto consider = [&](int32_t left, int32_t right, std::vector<Candidate>* into) {
    if (const MergeSlot* m = find_merge(sym[left].id, sym[right].id))
      into->push_back({m->rank, left, right, sym[left].id, sym[right].id, m->merged});
  };
  auto& heap = s.heap;
  auto& pending = s.pending;
  heap.clear();
  pending.clear();
  for (int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1, &heap);
  std::make_heap(heap.begin(), heap.end(), later);

  int32_t round = -1;  // rank being merged
  for (;;) {
    if (heap.empty() || heap.front().rank != round) {
      for (const Candidate& c : pending) {
        heap.push_back(c);
        std::push_heap(heap.begin(), heap.end(), later);
      }
      pending.clear();
      if (heap.empty()) break;
      round = heap.front().rank;
    }
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate c = heap.back();
    heap.pop_back();
    Scratch::Symbol& left = sym[c.left];
    // Stale: one side was merged (into something else) since this pair was seen.
    if (left.id != c.left_id || left.next != c.right || sym[c.right].id != c.right_id) continue;
    left.id = c.merged;
    const int32_t next = sym[c.right].next;
    left.next = next;
    if (next >= 0) sym[next].prev = c.left;
    sym[c.right].id = -1;
    if (left.prev >= 0) consider(left.prev, c.left, &pending);
    if (next >= 0) consider(c.left, next, &pending);
  }
  for (int32_t i = 0; i >= 0; i = sym[i].next) out->push_back(sym[i].id);
}

// ---------------------------------------------------------------------------------------------
// Decoding and the rest

std::string Gpt2Bpe::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id < 0 || id >= vocab_size() || !id_used_[id])
      throw UserError("cannot decode id " + std::to_string(id) + " (position " + std::to_string(i) +
                          "): not in the GPT-2 vocabulary (ids 0.." +
                          std::to_string(vocab_size() - 1) + ")",
                      "were these ids made with another tokenizer?");
    out += id_bytes_[id];
  }
  return out;
}

std::string Gpt2Bpe::id_to_token(int32_t id) const {
  if (id < 0 || id >= vocab_size() || !id_used_[id])
    throw UserError("id " + std::to_string(id) + " is not in the GPT-2 vocabulary (ids 0.." +
                        std::to_string(vocab_size() - 1) + ")",
                    "were these ids made with another tokenizer?");
  return id_to_token_[id];
}

std::optional<int32_t> Gpt2Bpe::token_to_id(const std::string& token) const {
  const auto it = token_to_id_.find(token);
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Gpt2Bpe::special_tokens() const {
  std::vector<std::string> out;
  for (const auto& s : specials_) out.push_back(s.text);
  return out;
}

std::string Gpt2Bpe::vocab_json_bytes() const {
  std::string out = "{";
  bool first = true;
  for (std::size_t id = 0; id < id_to_token_.size(); ++id) {
    if (!id_used_[id]) continue;
    out += first ? "\n  " : ",\n  ";
    first = false;
    out += json_quote(id_to_token_[id]);
    out += ": ";
    out += std::to_string(id);
  }
  out += "\n}\n";
  return out;
}

std::string Gpt2Bpe::merges_txt_bytes() const {
  std::string out = "#version: 0.2\n";
  for (const auto& [a, b] : merges_) {
    out += id_to_token_[a];
    out += ' ';
    out += id_to_token_[b];
    out += '\n';
  }
  return out;
}

void Gpt2Bpe::save(const std::string& dir) const {
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec)
    throw UserError("cannot create tokenizer directory '" + dir + "': " + ec.message(),
                    "check that its parent exists and is writable");
  fs::write_file_atomic(dir + "/vocab.json", vocab_json_bytes());
  fs::write_file_atomic(dir + "/merges.txt", merges_txt_bytes());
  const nlohmann::json config = {{"type", kind()}, {"special_tokens", special_tokens()}};
  fs::write_file_atomic(dir + "/tokenizer_config.json", config.dump(2) + "\n");
}

}  // namespace ptft
