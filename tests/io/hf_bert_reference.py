#!/usr/bin/env python3
"""Independent reference for ptft's Hugging Face BERT interop (numpy only, no torch).

  hf_bert_reference.py make DIR [--seed S] [--classifier K] [--plain-names] [--tf-names]
                                [--no-pooler] [--no-head] [--layer-norm-eps E]
      Writes a small BERT in Hugging Face's names and layout: config.json (BertConfig keys),
      model.safetensors (written by hand) and vocab.txt. By default a BertForMaskedLM as older
      save_pretrained wrote it: "bert." trunk with the embeddings.position_ids buffer, the pooler,
      cls.predictions.* with the decoder tied (decoder.weight = word embeddings, decoder.bias =
      cls.predictions.bias). --classifier K: a BertForSequenceClassification with classifier.* and
      id2label for K classes instead of the MLM head. --plain-names: trunk names without "bert."
      (BertModel's). --tf-names: LayerNorm.gamma / .beta (TF-converted files). --no-pooler: no
      bert.pooler.* (BertForMaskedLM's add_pooling_layer=False). --no-head: no head at all,
      architectures BertModel (with --plain-names: what BertModel.save_pretrained writes).
      --layer-norm-eps: config.json's layer_norm_eps (default BERT's 1e-12).

  hf_bert_reference.py hidden DIR --ids ID... [--types T...] [--mask M...]
      Reads an HF BERT directory and prints, for one sequence, {"hidden": (T,C) last hidden
      states, "pooled": (C) or null without a pooler, "logits": (T,V) MLM logits, (K) classifier
      logits, or null without a head}, in float64, by a plain BERT: embeddings (word + position +
      token type) -> LayerNorm -> per layer post-LN self-attention (padded keys, mask 0, get -inf)
      and erf-GELU MLP -> pooler tanh(W h[0] + b); MLM head LayerNorm(gelu(dense(h))) @ word
      embeddings^T + cls.predictions.bias (tied, as tie_word_embeddings says).
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from safetensors_np import read_safetensors, write_safetensors  # noqa: E402

WORDS = ["the", "a", "cat", "dog", "sat", "on", "mat", "run", "##s", "##ing", "##ed", "un", "##aff", "##able",
         "hello", "world", ",", ".", "!", "?", "and", "is", "was", "big", "small", "red", "blue", "house",
         "tree", "##ly", "to", "of", "in", "it", "he", "she", "they", "we", "you", "i", "not", "be", "have",
         "do", "say"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


# ------------------------------------------------------------------------------------------------
# make

def make(out_dir, seed, classes, plain_names, tf_names, no_pooler, no_head, eps):
    vocab = SPECIALS + WORDS  # 50 tokens
    config = {
        "model_type": "bert", "vocab_size": len(vocab), "hidden_size": 32, "num_hidden_layers": 2,
        "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 24, "type_vocab_size": 2,
        "initializer_range": 0.02, "layer_norm_eps": eps, "pad_token_id": 0,
        "position_embedding_type": "absolute", "use_cache": True, "classifier_dropout": None,
        "gradient_checkpointing": False, "torch_dtype": "float32", "transformers_version": "4.30.0",
    }
    if no_head:
        config["architectures"] = ["BertModel"]
    elif classes:
        config["architectures"] = ["BertForSequenceClassification"]
        labels = ["label_%s" % chr(ord("a") + i) for i in range(classes)]
        config["id2label"] = {str(i): n for i, n in enumerate(labels)}
        config["label2id"] = {n: i for i, n in enumerate(labels)}
    else:
        config["architectures"] = ["BertForMaskedLM"]
    rs = np.random.RandomState(seed)
    V, P, C, L = config["vocab_size"], config["max_position_embeddings"], config["hidden_size"], \
        config["num_hidden_layers"]
    inner, K = config["intermediate_size"], classes

    def normal(*shape, std=0.2):
        return (rs.standard_normal(shape) * std).astype(np.float32)

    gamma, beta = ("gamma", "beta") if tf_names else ("weight", "bias")

    def layer_norm(name):
        return [(name + "." + gamma, (1 + normal(C, std=0.1)).astype(np.float32)), (name + "." + beta, normal(C, std=0.1))]

    def linear(name, n_out, n_in, std=0.2):  # torch Linear: weight (out, in)
        return [(name + ".weight", normal(n_out, n_in, std=std)), (name + ".bias", normal(n_out, std=0.1))]

    p = "" if plain_names else "bert."
    word = normal(V, C, std=0.5)
    t = [(p + "embeddings.word_embeddings.weight", word),
         (p + "embeddings.position_embeddings.weight", normal(P, C, std=0.3)),
         (p + "embeddings.token_type_embeddings.weight", normal(config["type_vocab_size"], C, std=0.3))]
    t += layer_norm(p + "embeddings.LayerNorm")
    t.append((p + "embeddings.position_ids", np.arange(P, dtype=np.int64).reshape(1, P)))
    for i in range(L):
        h = "%sencoder.layer.%d." % (p, i)
        for part in ("query", "key", "value"):
            t += linear(h + "attention.self." + part, C, C)
        t += linear(h + "attention.output.dense", C, C)
        t += layer_norm(h + "attention.output.LayerNorm")
        t += linear(h + "intermediate.dense", inner, C)
        t += linear(h + "output.dense", C, inner)
        t += layer_norm(h + "output.LayerNorm")
    if not no_pooler:
        t += linear(p + "pooler.dense", C, C)
    if no_head:
        pass
    elif classes:
        t += linear("classifier", K, C, std=0.8)  # logits of a few units from the pooled (C) in (-1, 1)
    else:
        t += linear("cls.predictions.transform.dense", C, C)
        t += layer_norm("cls.predictions.transform.LayerNorm")
        bias = normal(V, std=0.1)
        t += [("cls.predictions.bias", bias), ("cls.predictions.decoder.weight", word),
              ("cls.predictions.decoder.bias", bias)]  # tied: the same values

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out_dir, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    write_safetensors(os.path.join(out_dir, "model.safetensors"), t)


# ------------------------------------------------------------------------------------------------
# hidden

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


_erf = np.vectorize(math.erf)


def gelu(x):  # exact: x * Phi(x)
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def read_weights(model_dir):
    """float64 arrays by HF name without "bert.", LayerNorm gamma/beta read as weight/bias."""
    w = {}
    for name, array in read_safetensors(os.path.join(model_dir, "model.safetensors")).items():
        key = name[len("bert."):] if name.startswith("bert.") else name
        if ".LayerNorm." in key:
            key = key.replace(".LayerNorm.gamma", ".LayerNorm.weight").replace(".LayerNorm.beta", ".LayerNorm.bias")
        w[key] = array.astype(np.float64)
    return w


def hidden(model_dir, ids, types, mask):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    assert config.get("hidden_act", "gelu") == "gelu", "the reference computes exact GELU only"
    w = read_weights(model_dir)
    C, nh, eps = config["hidden_size"], config["num_attention_heads"], config["layer_norm_eps"]
    hs = C // nh
    T = len(ids)
    types = np.zeros(T, dtype=np.int64) if types is None else types
    mask = np.ones(T, dtype=np.int64) if mask is None else mask

    def dense(x, name):
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    def ln(x, name):
        return layer_norm(x, w[name + ".weight"], w[name + ".bias"], eps)

    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][np.arange(T)] \
        + w["embeddings.token_type_embeddings.weight"][types]  # (T, C)
    x = ln(x, "embeddings.LayerNorm")
    key_is_pad = (mask == 0)[None, None, :]  # (1, 1, T): padded keys get no attention
    for i in range(config["num_hidden_layers"]):
        p = "encoder.layer.%d." % i

        def heads(name):  # (T, C) -> (nh, T, hs)
            return dense(x, p + "attention.self." + name).reshape(T, nh, hs).transpose(1, 0, 2)

        q, k, v = heads("query"), heads("key"), heads("value")
        att = q @ k.transpose(0, 2, 1) / math.sqrt(hs)  # (nh, T, T)
        att = np.where(key_is_pad, -np.inf, att)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        y = (att @ v).transpose(1, 0, 2).reshape(T, C)  # (nh, T, hs) -> (T, C)
        x = ln(x + dense(y, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        m = dense(gelu(dense(x, p + "intermediate.dense")), p + "output.dense")
        x = ln(x + m, p + "output.LayerNorm")
    out = {"hidden": x.tolist(), "pooled": None, "logits": None}
    if "pooler.dense.weight" in w:
        out["pooled"] = np.tanh(dense(x[0], "pooler.dense")).tolist()
    if "classifier.weight" in w:
        out["logits"] = dense(np.array(out["pooled"]), "classifier").tolist()  # (K)
    elif "cls.predictions.transform.dense.weight" in w:
        z = ln(gelu(dense(x, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm")
        out["logits"] = (z @ w["embeddings.word_embeddings.weight"].T + w["cls.predictions.bias"]).tolist()  # (T, V)
    return out


def int_list(argv, flag):
    if flag not in argv:
        return None
    values = []
    for a in argv[argv.index(flag) + 1:]:
        if a.startswith("--"):
            break
        values.append(int(a))
    return np.array(values, dtype=np.int64)


def main(argv):
    if len(argv) >= 2 and argv[0] == "make":
        seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1234
        classes = int(argv[argv.index("--classifier") + 1]) if "--classifier" in argv else 0
        eps = float(argv[argv.index("--layer-norm-eps") + 1]) if "--layer-norm-eps" in argv else 1e-12
        make(argv[1], seed, classes, "--plain-names" in argv, "--tf-names" in argv, "--no-pooler" in argv,
             "--no-head" in argv, eps)
        return 0
    if len(argv) >= 4 and argv[0] == "hidden" and "--ids" in argv:
        print(json.dumps(hidden(argv[1], int_list(argv, "--ids"), int_list(argv, "--types"), int_list(argv, "--mask"))))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
