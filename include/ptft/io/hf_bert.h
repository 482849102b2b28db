// ptft/io/hf_bert.h — Hugging Face BERT directories: read one as a checkpoint, export a ptft BERT
// model as one.
//
// An HF BERT directory (what BertForMaskedLM / BertForSequenceClassification / BertModel
// .save_pretrained write, or bert-base-uncased's BertForPreTraining):
//   config.json         BertConfig: model_type "bert", hidden_size, num_hidden_layers, ...
//   model.safetensors   weights; or model.safetensors.index.json + shards
//   vocab.txt [tokenizer_config.json]   (optional) the WordPiece vocabulary
// Names map one to one except the attention input: HF's attention.self.{query,key,value} (each
// (C,C)) are ptft's fused attn.c_attn (3C,C), rows q|k|v. The rest:
//   attention.output.dense      attn.c_proj       attention.output.LayerNorm   ln_1
//   intermediate.dense          mlp.c_fc          output.dense                 mlp.c_proj
//   output.LayerNorm            ln_2              cls.predictions.transform.dense / .LayerNorm
//   cls.predictions.bias        cls.bias          -> cls.dense / cls.LayerNorm
// The "bert." prefix is optional (BertModel files have none); TF-converted LayerNorm.gamma/beta
// read as weight/bias. Skipped: embeddings.position_ids, the NSP head cls.seq_relationship.*, and
// cls.predictions.decoder.weight/bias, which must equal the word embeddings / cls.predictions.bias
// (tied; a file with only the decoder's bias gives it as cls.predictions.bias). A file without the
// pooler (BertForMaskedLM) or the MLM head (BertModel) gets them freshly initialised, as
// transformers does; a note on stderr lists them.
//
//   Checkpoint c = read_hf_bert("bert-base-uncased");   // read_checkpoint dispatches here
//   export_hf_bert(*model, tok.get(), "out/hf");          // config.json, model.safetensors, vocab.txt
#pragma once

#include <string>

#include "ptft/io/checkpoint.h"
#include "ptft/models/model.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

// Reads an HF BERT directory as a weights-only checkpoint: config in ptft's form (bert config
// json + "ptft": {family bert, task masked_lm | classification, source "huggingface:<dir>"}),
// weights under ptft's names, f32. A sequence classifier (architectures
// BertForSequenceClassification) keeps its classifier and id2label. Unsupported options,
// pickle-only directories, missing/unknown tensors and wrong shapes are UserErrors.
Checkpoint read_hf_bert(const std::string& dir);

// Writes `model` (family bert, no LoRA adapters) as an HF BERT directory at `out_dir`, atomically
// (`out_dir` must not exist or be empty): BertForMaskedLM or BertForSequenceClassification. With
// a WordPiece `tok` the HF tokenizer files (vocab.txt, tokenizer_config.json,
// special_tokens_map.json) are written too; another tokenizer is saved in ptft's form under
// out_dir/ptft_tokenizer/ (a note on stderr says so).
void export_hf_bert(ModelImpl& model, const Tokenizer* tok, const std::string& out_dir);

}  // namespace ptft
