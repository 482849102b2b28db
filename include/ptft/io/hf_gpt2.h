// ptft/io/hf_gpt2.h — Hugging Face GPT-2 directories: read one as a checkpoint, export a ptft GPT
// model as one.
//
// An HF GPT-2 directory (what GPT2LMHeadModel.save_pretrained writes):
//   config.json           GPT2Config: model_type "gpt2", vocab_size, n_positions, n_embd, ...
//   model.safetensors     weights; or model.safetensors.index.json + shards
//   vocab.json merges.txt tokenizer_config.json   (optional) the GPT-2 byte-level BPE
// The names are ptft's minus or plus "transformer." (both are read). HF's Conv1D stores the
// projection weights attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj as (in, out); ptft's
// nn::Linear as (out, in): they are transposed on the way in and out. The head is tied to wte,
// so lm_head.weight is not written (as HF does); on reading it must equal wte. The causal-mask
// buffers attn.bias / attn.masked_bias of older files are skipped.
//
//   if (is_hf_model_dir(dir)) Checkpoint c = read_hf_gpt2(dir);   // read_checkpoint does this
//   ModelPtr m = model_from_config_json(c.config, dir);  load_into(*m, c.model, dir);
//   export_hf_gpt2(*m, tok.get(), "out/hf");   // config.json, model.safetensors, vocab.json, ...
#pragma once

#include <string>

#include "ptft/io/checkpoint.h"
#include "ptft/io/hf_files.h"
#include "ptft/models/model.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

// Reads an HF GPT-2 directory as a weights-only checkpoint: config in ptft's form
// (gpt_config_json + "ptft": {family gpt, task causal_lm, source "huggingface:<dir>"}), weights
// under ptft's names in (out, in) layout, f32. Unsupported model types or options, pickle-only
// directories, missing/unknown tensors, wrong shapes and an untied lm_head are UserErrors.
Checkpoint read_hf_gpt2(const std::string& dir);

// Writes `model` (family gpt, no LoRA adapters attached) as an HF GPT-2 directory at `out_dir`,
// atomically (`out_dir` must not exist or be empty). With a gpt2-bpe `tok` the HF tokenizer
// files are written too; a SentencePiece tokenizer, which HF's GPT2Tokenizer cannot read, is
// saved in ptft's form under out_dir/ptft_tokenizer/ (a note on stderr says so).
void export_hf_gpt2(ModelImpl& model, const Tokenizer* tok, const std::string& out_dir);

}  // namespace ptft
