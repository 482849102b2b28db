// ptft/tokenizer/hf_tokenizer.h — a Hugging Face tokenizer.json (the "fast tokenizer" of Llama
// 2/3, Qwen2/2.5/3, Mistral, SmolLM, TinyLlama), id-exact with Hugging Face tokenizers.
//
// The text is cut at the added tokens ("<|begin_of_text|>", "</s>", ...), each stretch between
// them is normalised (NFC, Prepend "▁", ...), pre-tokenized (regex Split + ByteLevel, Metaspace,
// ...) and each piece encoded by the BPE model (merges, ignore_merges, byte fallback). What is
// read and what is refused: docs/formats.md, section tokenizer.json.
//
//   auto tok = HfTokenizer::from_dir("data/hf-tokenizers/llama3");  // tokenizer.json (+ config)
//   tok->encode("Hello world");                 // {9906, 1917}: no BOS, callers add it
//   tok->encode_with_specials("Hello world");   // what transformers gives: + the post-processor's
//   tok->decode({9906, 1917});                  // "Hello world"
//   tok->eot_id();                              // eos_token of tokenizer_config.json
//
// encode() and decode() are thread-safe (each thread keeps its own cache of encoded pieces).
// Text that is not valid UTF-8 is encoded as if each bad byte were U+FFFD.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

class HfTokenizer : public Tokenizer {
 public:
  // Reads dir/tokenizer.json and, when present, dir/tokenizer_config.json (eos/bos tokens,
  // clean_up_tokenization_spaces) and dir/chat_template.jinja (kept for save()). Every component
  // ptft does not read, and every malformed value, is a UserError naming the file, the key path
  // and the value.
  static std::shared_ptr<const HfTokenizer> from_dir(const std::string& dir);
  // The same from the files' bytes (`config_json` "" = none); `dir` names them in messages.
  static std::shared_ptr<const HfTokenizer> from_json(const std::string& tokenizer_json,
                                                      const std::string& config_json,
                                                      const std::string& dir);

  std::string kind() const override { return "tokenizer-json"; }
  // No BOS/EOS: the post-processor's tokens come from encode_with_specials().
  std::vector<int32_t> encode(std::string_view text) const override;
  // As transformers' decode(ids) with skip_special_tokens=False (and the config's
  // clean_up_tokenization_spaces); bytes that are not UTF-8 (a character cut in two) are kept
  // as they are. Unknown ids are a UserError.
  std::string decode(const std::vector<int32_t>& ids) const override;
  // decode() without clean_up_tokenization_spaces (a growing text keeps what it showed).
  std::string decode_stream(const std::vector<int32_t>& ids) const override;
  // max id + 1 over the model's vocabulary and the added tokens.
  int32_t vocab_size() const override { return vocab_size_; }
  // The token as tokenizer.json spells it ("Ġworld"); unknown ids are a UserError.
  std::string id_to_token(int32_t id) const override;
  std::optional<int32_t> token_to_id(const std::string& token) const override;
  // tokenizer_config.json's eos_token; without one, the first special added token among
  // <|endoftext|>, <|end_of_text|>, </s>, <|im_end|>; otherwise a UserError saying what to add.
  int32_t eot_id() const override;
  // The added tokens marked special, in id order.
  std::vector<std::string> special_tokens() const override;
  // FNV-1a 64 of tokenizer.json's bytes.
  std::string content_hash() const override { return content_hash_; }
  // Writes tokenizer.json, tokenizer_config.json and chat_template.jinja (those it was read
  // with) into `dir`, each file atomically.
  void save(const std::string& dir) const override;

  // encode() with the post-processor's tokens around it (Llama-2: "<s>" first), as
  // transformers' encode(text) with add_special_tokens=True. For a tokenizer_config.json whose
  // tokenizer_class is LlamaTokenizer(Fast) / CodeLlamaTokenizer(Fast), its add_bos_token
  // (default true) and add_eos_token (default false) decide instead, as in transformers.
  std::vector<int32_t> encode_with_specials(std::string_view text) const;
  // The ids the post-processor puts before / after one sequence.
  std::vector<int32_t> document_prefix() const override { return prefix_ids_; }
  const std::vector<int32_t>& prefix_ids() const { return prefix_ids_; }
  const std::vector<int32_t>& suffix_ids() const { return suffix_ids_; }
  // tokenizer_config.json's bos_token, when it names a token.
  std::optional<int32_t> bos_id() const { return bos_id_; }
  // The chat template: chat_template.jinja, else tokenizer_config.json's "chat_template"
  // (a string, or the template named "default"); "" when there is none.
  std::string chat_template() const override { return chat_template_; }

  ~HfTokenizer() override;
  HfTokenizer(const HfTokenizer&) = delete;
  HfTokenizer& operator=(const HfTokenizer&) = delete;

 private:
  struct Impl;
  HfTokenizer();
  std::string decode_text(const std::vector<int32_t>& ids, bool clean_up) const;
  static std::shared_ptr<HfTokenizer> load(const std::string& tokenizer_json, const std::string& config_json,
                                           const std::optional<std::string>& chat_template_jinja,
                                           const std::string& dir);

  std::unique_ptr<Impl> impl_;
  int32_t vocab_size_ = 0;
  std::optional<int32_t> eot_id_;
  std::optional<int32_t> bos_id_;
  std::vector<int32_t> prefix_ids_;
  std::vector<int32_t> suffix_ids_;
  std::string content_hash_;
  std::string chat_template_;
};

}  // namespace ptft
