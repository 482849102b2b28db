#!/usr/bin/env python3
"""Independent reference for ptft's Hugging Face GPT-2 interop (numpy only, no torch).

  hf_gpt2_reference.py make DIR [--seed S] [--plain-names] [--dtype f32|f16]
      Writes a small GPT-2 in Hugging Face's names and layout: config.json + model.safetensors
      (safetensors written by hand). Like old HF files it includes the attn.bias / attn.masked_bias
      buffers and lm_head.weight = wte. --plain-names drops the "transformer." prefix (as the
      original gpt2 file on the hub does); --dtype f16 stores the weights as float16.

  hf_gpt2_reference.py logits DIR ID...
      Reads an HF GPT-2 directory and prints {"logits": [[...] per position], "loss": mean
      next-token cross-entropy} computed in float64 by a plain GPT-2: LayerNorm (eps from
      config.json), tanh GELU, causal softmax attention, Conv1D y = x @ W + b with W (in, out),
      head tied to wte.
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from safetensors_np import read_safetensors, write_safetensors  # noqa: E402


# ------------------------------------------------------------------------------------------------
# make

def make(out_dir, seed, plain_names, dtype):
    config = {
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "activation_function": "gelu_new",
        "vocab_size": 97, "n_positions": 24, "n_ctx": 24, "n_embd": 32, "n_layer": 2, "n_head": 4,
        "n_inner": None, "layer_norm_epsilon": 1e-5, "initializer_range": 0.02,
        "embd_pdrop": 0.1, "attn_pdrop": 0.1, "resid_pdrop": 0.1,
        "bos_token_id": 96, "eos_token_id": 96, "scale_attn_weights": True, "use_cache": True,
        "summary_type": "cls_index", "summary_use_proj": True, "summary_activation": None,
        "summary_proj_to_labels": True, "summary_first_dropout": 0.1,
        "torch_dtype": "float32", "transformers_version": "4.30.0",
    }
    rs = np.random.RandomState(seed)
    V, P, C, L = config["vocab_size"], config["n_positions"], config["n_embd"], config["n_layer"]
    inner = 4 * C
    store = np.float16 if dtype == "f16" else np.float32

    def normal(*shape, std=0.2):
        return (rs.standard_normal(shape) * std).astype(store)

    prefix = "" if plain_names else "transformer."
    t = [(prefix + "wte.weight", normal(V, C, std=0.5)), (prefix + "wpe.weight", normal(P, C, std=0.3))]
    mask = np.tril(np.ones((P, P), dtype=np.uint8)).reshape(1, 1, P, P)
    for i in range(L):
        h = "%sh.%d." % (prefix, i)
        t += [
            (h + "ln_1.weight", (1 + normal(C, std=0.1)).astype(store)), (h + "ln_1.bias", normal(C, std=0.1)),
            (h + "attn.bias", mask), (h + "attn.masked_bias", np.array(-1e4, dtype=np.float32)),
            (h + "attn.c_attn.weight", normal(C, 3 * C)), (h + "attn.c_attn.bias", normal(3 * C, std=0.1)),
            (h + "attn.c_proj.weight", normal(C, C)), (h + "attn.c_proj.bias", normal(C, std=0.1)),
            (h + "ln_2.weight", (1 + normal(C, std=0.1)).astype(store)), (h + "ln_2.bias", normal(C, std=0.1)),
            (h + "mlp.c_fc.weight", normal(C, inner)), (h + "mlp.c_fc.bias", normal(inner, std=0.1)),
            (h + "mlp.c_proj.weight", normal(inner, C)), (h + "mlp.c_proj.bias", normal(C, std=0.1)),
        ]
    t += [(prefix + "ln_f.weight", (1 + normal(C, std=0.1)).astype(store)), (prefix + "ln_f.bias", normal(C, std=0.1))]
    t.append(("lm_head.weight", t[0][1]))  # tied: the same values as wte

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), t)


# ------------------------------------------------------------------------------------------------
# logits

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def logits(model_dir, ids):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    raw = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    w = {}
    for name, array in raw.items():
        key = name[len("transformer."):] if name.startswith("transformer.") else name
        w[key] = array.astype(np.float64)
    C, nh, eps = config["n_embd"], config["n_head"], config["layer_norm_epsilon"]
    hs = C // nh
    T = len(ids)
    x = w["wte.weight"][ids] + w["wpe.weight"][np.arange(T)]  # (T, C)
    causal = np.tril(np.ones((T, T), dtype=bool))
    for i in range(config["n_layer"]):
        p = "h.%d." % i
        a = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = a @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]  # (T, 3C), Conv1D
        q, k, v = (qkv[:, j * C:(j + 1) * C].reshape(T, nh, hs).transpose(1, 0, 2) for j in range(3))
        att = q @ k.transpose(0, 2, 1) / math.sqrt(hs)  # (nh, T, T)
        att = np.where(causal, att, -np.inf)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        y = (att @ v).transpose(1, 0, 2).reshape(T, C)
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        m = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = gelu_tanh(m @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], eps)
    out = x @ w["wte.weight"].T  # (T, V), tied head
    z = out[:-1] - out[:-1].max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    loss = -logp[np.arange(T - 1), ids[1:]].mean()
    return {"logits": out.tolist(), "loss": float(loss)}


def main(argv):
    if len(argv) >= 2 and argv[0] == "make":
        seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1234
        dtype = argv[argv.index("--dtype") + 1] if "--dtype" in argv else "f32"
        make(argv[1], seed, "--plain-names" in argv, dtype)
        return 0
    if len(argv) >= 4 and argv[0] == "logits":
        print(json.dumps(logits(argv[1], np.array([int(a) for a in argv[2:]]))))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
