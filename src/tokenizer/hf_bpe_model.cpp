#include "hf_bpe_model.h"

#include <unicode/utf8.h>

#include <algorithm>
#include <cstdio>

#include "bpe_merge_key.h"
#include "gpt2_files.h"
#include "hf_pre_tokenizer.h"
#include "ptft/core/error.h"

namespace ptft::hf {
namespace {

using bpe_merge_key::kEmptyKey;
using bpe_merge_key::pair_key;
using bpe_merge_key::slot_of;
constexpr int32_t kNoRank = INT32_MAX;
// Pieces of up to this many symbols merge in arrays (a scan per merge); longer ones on a heap.
constexpr std::size_t kShortSymbols = 64;

const char* const kMergesHint =
    "each merge joins two tokens of model.vocab into a third one that is also in model.vocab; is the file "
    "complete and unedited?";

}  // namespace

std::unique_ptr<BpeModel> BpeModel::from_json(const Json& j, const JsonAt& at, bool byte_level_input) {
  static const std::vector<std::string> kKnown = {"BPE"};
  at.require_object(j);
  if (!j.contains("type") && j.contains("merges")) {
    // Files from tokenizers < 0.10 have no "type"; a model with merges is BPE.
  } else {
    const std::string type = at.string(j, "type");
    if (type == "WordPiece" || type == "WordLevel" || type == "Unigram")
      throw UserError("'" + at.file + "': " + at["type"].path + " is \"" + type + "\": ptft reads tokenizer.json files of BPE models only",
                      type == "WordPiece" ? "a BERT directory with vocab.txt is read as WordPiece: remove tokenizer.json "
                                            "from a copy of the directory, or use a BPE model"
                                          : "use a model whose tokenizer.json has a BPE model (Llama, Qwen, GPT-2, "
                                            "Mistral, SmolLM)");
    if (type != "BPE") at["type"].unknown_type(type, kKnown);
  }
  std::unique_ptr<BpeModel> m(new BpeModel());
  m->byte_level_input_ = byte_level_input;

  const Json& dropout = j.contains("dropout") ? j["dropout"] : Json();
  if (!dropout.is_null() && !(dropout.is_number() && dropout.get<double>() == 0.0))
    at["dropout"].fail(dropout, "BPE dropout makes encoding random",
                       "set \"dropout\": null (dropout is for training the model, not for encoding data)");
  m->byte_fallback_ = at.boolean_or(j, "byte_fallback", false);
  m->ignore_merges_ = at.boolean_or(j, "ignore_merges", false);
  m->fuse_unk_ = at.boolean_or(j, "fuse_unk", false);
  m->prefix_ = at.string_or(j, "continuing_subword_prefix", "");
  m->suffix_ = at.string_or(j, "end_of_word_suffix", "");

  // vocab: {"token": id, ...}
  const JsonAt vat = at["vocab"];
  const Json& vocab = at.required(j, "vocab");
  if (!vocab.is_object() || vocab.empty())
    vat.fail(vocab, "expected a non-empty object {\"token\": id, ...}", "is the file complete?");
  int64_t max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() >= INT32_MAX)
      vat[it.key()].fail(it.value(), "expected a token id (an integer >= 0)", "ids are non-negative integers");
    max_id = std::max(max_id, it.value().get<int64_t>());
  }
  if (max_id > 4 * static_cast<int64_t>(vocab.size()) + 65536)
    vat.fail("the ids are sparse: " + std::to_string(vocab.size()) + " tokens, largest id " + std::to_string(max_id),
             "ids should run from 0 to the number of tokens - 1");
  m->id_to_token_.assign(static_cast<std::size_t>(max_id + 1), std::string());
  m->id_used_.assign(static_cast<std::size_t>(max_id + 1), false);
  m->token_to_id_.reserve(vocab.size() * 2);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const auto id = it.value().get<int32_t>();
    if (m->id_used_[id])
      vat[it.key()].fail(it.value(), "id " + std::to_string(id) + " is also the id of " +
                                         gpt2_files::json_quote(m->id_to_token_[id]),
                         "each token needs an id of its own");
    m->id_to_token_[id] = it.key();
    m->id_used_[id] = true;
    m->token_to_id_.emplace(it.key(), id);
  }
  auto id_of = [&](const std::string& t) {
    const auto it = m->token_to_id_.find(t);
    return it == m->token_to_id_.end() ? -1 : it->second;
  };
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    m->byte_token_[b] = id_of(name);
    m->byte_letter_[b] = id_of(byte_alphabet_utf8()[b]);
  }

  const std::string unk = at.string_or(j, "unk_token", "");
  if (!unk.empty()) {
    m->unk_id_ = id_of(unk);
    if (m->unk_id_ < 0)
      at["unk_token"].fail(Json(unk), "not in model.vocab", "add it to the vocabulary or set \"unk_token\": null");
  }

  // merges: ["a b", ...] (tokenizers < 0.20) or [["a", "b"], ...]
  const JsonAt mat = at["merges"];
  const Json& merges = at.required(j, "merges");
  if (!merges.is_array()) mat.fail(merges, "expected a list of merges", "write [\"a b\", ...] or [[\"a\", \"b\"], ...]");
  m->merge_table_bits_ = 4;
  while ((std::size_t{1} << m->merge_table_bits_) < 2 * merges.size() + 2) ++m->merge_table_bits_;
  m->merge_table_.assign(std::size_t{1} << m->merge_table_bits_, MergeSlot{kEmptyKey, 0, 0});
  std::string a, b;
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const Json& e = merges[i];
    if (e.is_string()) {
      const auto& s = e.get_ref<const std::string&>();
      const std::size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        mat[i].fail(e, "a merge written as a string is two tokens separated by one space",
                    "write it as \"a b\", or as the pair [\"a\", \"b\"] when a token holds a space");
      a = s.substr(0, space);
      b = s.substr(space + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      a = e[0].get<std::string>();
      b = e[1].get<std::string>();
    } else {
      mat[i].fail(e, "expected \"a b\" or [\"a\", \"b\"]", "merges are pairs of tokens");
    }
    const int32_t ia = id_of(a), ib = id_of(b);
    const std::string merged =
        a + (!m->prefix_.empty() && b.compare(0, m->prefix_.size(), m->prefix_) == 0 ? b.substr(m->prefix_.size()) : b);
    const int32_t im = id_of(merged);
    if (ia < 0 || ib < 0 || im < 0)
      mat[i].fail(e, "the token " + gpt2_files::json_quote(ia < 0 ? a : ib < 0 ? b : merged) + " is not in model.vocab",
                  kMergesHint);
    m->add_merge(ia, ib, static_cast<int32_t>(i), im);
  }
  return m;
}

void BpeModel::add_merge(int32_t a, int32_t b, int32_t rank, int32_t merged) {
  // A pair listed twice keeps its last rank, as in Hugging Face tokenizers (a map built in order).
  const uint64_t key = pair_key(a, b);
  const std::size_t mask = merge_table_.size() - 1;
  std::size_t i = slot_of(key, merge_table_bits_);
  while (merge_table_[i].key != kEmptyKey && merge_table_[i].key != key) i = (i + 1) & mask;
  merge_table_[i] = {key, rank, merged};
}

const BpeModel::MergeSlot* BpeModel::find_merge(int32_t a, int32_t b) const {
  if (a < 0 || b < 0) return nullptr;
  return bpe_merge_key::find_slot(merge_table_, merge_table_bits_, pair_key(a, b));
}

void BpeModel::encode_piece(std::string_view piece, std::vector<int32_t>* out) const {
  if (ignore_merges_) {
    // The whole piece, as the vocabulary spells it, may be a token.
    thread_local std::string spelled;
    const std::string* key = nullptr;
    if (byte_level_input_) {
      spelled.clear();
      for (const char c : piece) spelled += byte_alphabet_utf8()[static_cast<unsigned char>(c)];
      key = &spelled;
    } else {
      spelled.assign(piece.data(), piece.size());
      key = &spelled;
    }
    const auto it = token_to_id_.find(*key);
    if (it != token_to_id_.end()) {
      out->push_back(it->second);
      return;
    }
  }
  thread_local std::vector<Symbol> symbols;
  initial_symbols(piece, &symbols);
  if (symbols.size() <= kShortSymbols)
    merge_short(&symbols);
  else
    merge_long(&symbols);
  emit(piece, symbols, out);
}

void BpeModel::initial_symbols(std::string_view piece, std::vector<Symbol>* symbols) const {
  symbols->clear();
  const auto n = static_cast<uint32_t>(piece.size());
  if (byte_level_input_) {
    for (uint32_t i = 0; i < n; ++i) symbols->push_back({byte_letter_[static_cast<unsigned char>(piece[i])], i, i + 1});
    if (prefix_.empty() && suffix_.empty()) return;
  } else {
    const auto* p = reinterpret_cast<const uint8_t*>(piece.data());
    for (int32_t i = 0; i < static_cast<int32_t>(n);) {
      const int32_t from = i;
      UChar32 c;
      U8_NEXT(p, i, static_cast<int32_t>(n), c);
      symbols->push_back({-1, static_cast<uint32_t>(from), static_cast<uint32_t>(i)});
    }
  }
  // The characters as vocabulary tokens, with continuing_subword_prefix / end_of_word_suffix.
  thread_local std::string s;
  for (std::size_t k = 0; k < symbols->size(); ++k) {
    Symbol& sym = (*symbols)[k];
    s.clear();
    if (k > 0) s += prefix_;
    if (byte_level_input_) {
      s += byte_alphabet_utf8()[static_cast<unsigned char>(piece[sym.from])];
    } else {
      s.append(piece.data() + sym.from, sym.to - sym.from);
    }
    if (k + 1 == symbols->size()) s += suffix_;
    const auto it = token_to_id_.find(s);
    sym.id = it == token_to_id_.end() ? -1 : it->second;
  }
}

// Hugging Face's order: the adjacent pair of lowest rank merges first, the leftmost of equals;
// then the pairs around the new symbol count. A scan per merge over at most kShortSymbols.
void BpeModel::merge_short(std::vector<Symbol>* symbols) const {
  auto& sym = *symbols;
  int32_t ranks[kShortSymbols];
  int32_t merged[kShortSymbols];
  auto rank_pair = [&](std::size_t i) {
    const MergeSlot* s = find_merge(sym[i].id, sym[i + 1].id);
    ranks[i] = s ? s->rank : kNoRank;
    merged[i] = s ? s->merged : -1;
  };
  for (std::size_t i = 0; i + 1 < sym.size(); ++i) rank_pair(i);
  while (sym.size() > 1) {
    std::size_t best = 0;
    for (std::size_t i = 1; i + 1 < sym.size(); ++i)
      if (ranks[i] < ranks[best]) best = i;
    if (ranks[best] == kNoRank) break;
    sym[best].id = merged[best];
    sym[best].to = sym[best + 1].to;
    sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    // Pairs best+1.. shift left by one.
    for (std::size_t i = best + 1; i + 1 < sym.size(); ++i) {
      ranks[i] = ranks[i + 1];
      merged[i] = merged[i + 1];
    }
    if (best > 0) rank_pair(best - 1);
    if (best + 1 < sym.size()) rank_pair(best);
  }
}

// The same order on a heap of (rank, position of the left symbol): O(n log n) for long pieces
// (a SentencePiece-style tokenizer without a pre-tokenizer sees whole lines as one piece).
void BpeModel::merge_long(std::vector<Symbol>* symbols) const {
  struct Node {
    int32_t id;  // -2 once merged into its left neighbour
    int32_t prev, next;
  };
  struct Candidate {
    int32_t rank, left, right, left_id, right_id, merged;
  };
  auto& sym = *symbols;
  const auto n = static_cast<int32_t>(sym.size());
  thread_local std::vector<Node> nodes;
  thread_local std::vector<Candidate> heap;
  nodes.resize(static_cast<std::size_t>(n));
  for (int32_t i = 0; i < n; ++i) nodes[i] = {sym[i].id, i - 1, i + 1 < n ? i + 1 : -1};
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  heap.clear();
  auto consider = [&](int32_t left, int32_t right) {
    if (const MergeSlot* s = find_merge(nodes[left].id, nodes[right].id)) {
      heap.push_back({s->rank, left, right, nodes[left].id, nodes[right].id, s->merged});
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate c = heap.back();
    heap.pop_back();
    Node& left = nodes[c.left];
    if (left.id != c.left_id || left.next != c.right || nodes[c.right].id != c.right_id) continue;  // stale
    left.id = c.merged;
    const int32_t next = nodes[c.right].next;
    left.next = next;
    if (next >= 0) nodes[next].prev = c.left;
    nodes[c.right].id = -2;
    sym[c.left].to = sym[c.right].to;
    if (left.prev >= 0) consider(left.prev, c.left);
    if (next >= 0) consider(c.left, next);
  }
  std::size_t k = 0;
  for (int32_t i = 0; i >= 0; i = nodes[i].next) {
    sym[k] = sym[i];
    sym[k].id = nodes[i].id;
    ++k;
  }
  sym.resize(k);
}

void BpeModel::emit(std::string_view piece, const std::vector<Symbol>& symbols, std::vector<int32_t>* out) const {
  bool last_unk = false;
  for (const Symbol& s : symbols) {
    if (s.id >= 0) {
      out->push_back(s.id);
      last_unk = false;
      continue;
    }
    // A character that is not in the vocabulary.
    std::string_view text = piece.substr(s.from, s.to - s.from);
    if (byte_level_input_) text = byte_alphabet_utf8()[static_cast<unsigned char>(piece[s.from])];
    if (byte_fallback_) {
      bool all = true;
      for (const char c : text) all = all && byte_token_[static_cast<unsigned char>(c)] >= 0;
      if (all) {
        for (const char c : text) out->push_back(byte_token_[static_cast<unsigned char>(c)]);
        last_unk = false;
        continue;
      }
    }
    if (unk_id_ < 0) continue;  // dropped, as Hugging Face does without an unk_token
    if (!(fuse_unk_ && last_unk)) out->push_back(unk_id_);
    last_unk = true;
  }
}

}  // namespace ptft::hf
