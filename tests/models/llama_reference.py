#!/usr/bin/env python3
"""Independent numpy reference for ptft's `llama` family: Llama, Qwen2 and Qwen3 as Hugging Face
transformers defines them (LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM). numpy only, no torch.

Usage (every command prints one JSON document on stdout):

  llama_reference.py make OUT_DIR --variant V [--seed S] [--dtype f32|f16|bf16] [--shards N]
      Writes a random-weight Hugging Face directory: config.json (HF's keys for the model_type),
      generation_config.json and model.safetensors, or with --shards N > 1 exactly N files
      model-0000i-of-0000N.safetensors + model.safetensors.index.json. Prints {"dir", "variant",
      "files", "config"}. Variants: see VARIANTS below (`variants` lists them).
  llama_reference.py logits DIR --ids 1,2,3        -> {"logits": [[V floats] per position]}
  llama_reference.py loss DIR --ids 1,2,3          -> {"loss": mean, "token_losses": [T-1 floats]}
      mean next-token cross-entropy: position t predicts ids[t+1], t = 0..T-2 (T >= 2).
  llama_reference.py greedy DIR --ids 1,2,3 --new N -> {"ids": [N generated ids]}
      greedy decoding with a full recompute each step; argmax ties go to the lowest id; never stops
      early (eos is not special).
  llama_reference.py rope DIR                      -> {"head_dim", "rope_type", "inv_freq": [head_dim/2],
                                                       "llama3_bands": ["kept"|"blended"|"scaled", ...] or null}
  llama_reference.py batch DIR REQUESTS.json [--out FILE]
      REQUESTS.json: a JSON list of {"op": "logits"|"loss"|"greedy"|"rope", "ids": [...], "new": N};
      prints (or writes to FILE) the JSON list of the answers, in order, each exactly what the
      single command prints. A request may carry "dir" to use another directory.
  llama_reference.py variants                      -> {variant: config.json it gets (f32)}
  llama_reference.py selftest                      -> checks the reference against itself, a slow
                                                       pure-Python forward and hand-computed cases; exit 0 = ok

The math (Hugging Face modeling_llama / modeling_qwen2 / modeling_qwen3, eager attention), all in float64
from the values stored in the file (f16 / bf16 weights are upcast exactly; nothing is re-rounded):
  x = embed_tokens[ids]
  per layer:  h = RMSNorm(x) = x / sqrt(mean(x^2) + eps) * w   (input_layernorm)
              q = h Wq^T (+bq), k = h Wk^T (+bk), v = h Wv^T (+bv), split into heads of head_dim
              (qwen3: q, k <- RMSNorm over head_dim with q_norm / k_norm, per head, BEFORE RoPE)
              RoPE: q' = q*cos + rotate_half(q)*sin, rotate_half(u) = [-u[d/2:], u[:d/2]],
                    angle(pos, i) = pos * inv_freq[i mod d/2], inv_freq from modeling_rope_utils
              GQA: kv head j serves query heads j*g .. j*g+g-1, g = heads / kv_heads (repeat_kv)
              softmax(q k^T / sqrt(head_dim) + causal mask) v, concat heads, o_proj (+bo)
              x = x + attn;  x = x + down(silu(gate(h2)) * up(h2)), h2 = RMSNorm(x) (post_attention_layernorm)
  logits = RMSNorm(x) (model.norm) @ W^T, W = lm_head.weight, or embed_tokens.weight if tie_word_embeddings
  head_dim = config.head_dim if present and not null, else hidden_size / num_attention_heads.
  inv_freq (rope_theta = theta, d = head_dim): default 1 / theta^(2i/d), i = 0..d/2-1;
    linear: default / factor;
    llama3: wavelen = 2 pi / inv_freq; wavelen < orig/high_freq_factor: kept; wavelen > orig/low_freq_factor:
    inv_freq / factor; otherwise blended (1-s) inv_freq/factor + s inv_freq, s = (orig/wavelen - low) / (high - low)
    (orig = original_max_position_embeddings). rope_scaling may spell the type "type" (old configs).
  Biases are used wherever the file has them (q/k/v in Qwen2; q/k/v/o with attention_bias; mlp with mlp_bias).
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import safetensors_np as stnp  # noqa: E402

TRANSFORMERS_VERSION = "4.51.3"
DTYPE_NAMES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}

# ------------------------------------------------------------------------------------------------
# Variants. All: hidden_size 64, 2 layers, max_position_embeddings 64, silu.
#
# llama3-scaling: head_dim 16 and rope_theta 256 make the default inv_freq exactly 2^-i (i = 0..7, exact
# in float32 too), so the wavelengths are 2 pi 2^i = 6.28, 12.57, 25.13, 50.27, 100.5, 201, 402, 804.
# With original_max_position_embeddings 60, low_freq_factor 1, high_freq_factor 4 the band limits are
# 60/4 = 15 and 60/1 = 60:   i = 0, 1 (wavelen < 15): kept;   i = 2, 3 (15 <= wavelen <= 60): blended;
# i = 4..7 (wavelen > 60): divided by factor 8. Every wavelength is >= 16% away from a limit, so float32
# and float64 agree on the band. (original_max_position_embeddings < max_position_embeddings, as HF's
# validation wants.) make and selftest assert these bands.
LLAMA3_EXPECTED_BANDS = ["kept", "kept", "blended", "blended", "scaled", "scaled", "scaled", "scaled"]

VARIANTS = {
    # name: (model_type, overrides)
    "llama": ("llama", dict(vocab_size=320, intermediate_size=176, num_attention_heads=4, num_key_value_heads=4)),
    "llama-gqa": ("llama", dict(vocab_size=336, intermediate_size=176, num_attention_heads=4,
                                num_key_value_heads=2)),
    "llama3-scaling": ("llama", dict(vocab_size=352, intermediate_size=176, num_attention_heads=4,
                                     num_key_value_heads=4, rope_theta=256.0,
                                     rope_scaling={"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                   "original_max_position_embeddings": 60,
                                                   "rope_type": "llama3"})),
    "llama-linear": ("llama", dict(vocab_size=368, intermediate_size=176, num_attention_heads=4,
                                   num_key_value_heads=4, rope_scaling={"factor": 2.0, "rope_type": "linear"})),
    "llama-headdim": ("llama", dict(vocab_size=384, intermediate_size=176, num_attention_heads=4,
                                    num_key_value_heads=4, head_dim=24)),
    "llama-tied": ("llama", dict(vocab_size=304, intermediate_size=176, num_attention_heads=4,
                                 num_key_value_heads=4, tie_word_embeddings=True)),
    "qwen2": ("qwen2", dict(vocab_size=400, intermediate_size=192, num_attention_heads=4, num_key_value_heads=2,
                            tie_word_embeddings=True, bos_token_id=399, eos_token_id=399)),
    "qwen3": ("qwen3", dict(vocab_size=448, intermediate_size=160, num_attention_heads=4, num_key_value_heads=2,
                            head_dim=32, tie_word_embeddings=False, bos_token_id=445, eos_token_id=447)),
}


def base_config(model_type):
    """The keys transformers' config classes save for model_type (as in real hub config.json files)."""
    common = {"hidden_size": 64, "num_hidden_layers": 2, "max_position_embeddings": 64, "hidden_act": "silu",
              "initializer_range": 0.02, "attention_dropout": 0.0, "use_cache": True, "rope_scaling": None,
              "tie_word_embeddings": False, "transformers_version": TRANSFORMERS_VERSION}
    if model_type == "llama":
        return dict(common, architectures=["LlamaForCausalLM"], model_type="llama", rms_norm_eps=1e-5,
                    rope_theta=10000.0, attention_bias=False, mlp_bias=False, pretraining_tp=1,
                    bos_token_id=1, eos_token_id=2)
    if model_type == "qwen2":  # Qwen2Config: no head_dim, no attention_bias (q/k/v always have biases)
        return dict(common, architectures=["Qwen2ForCausalLM"], model_type="qwen2", rms_norm_eps=1e-6,
                    rope_theta=1000000.0, use_sliding_window=False, sliding_window=None, max_window_layers=2)
    if model_type == "qwen3":
        return dict(common, architectures=["Qwen3ForCausalLM"], model_type="qwen3", rms_norm_eps=1e-6,
                    rope_theta=1000000.0, attention_bias=False, use_sliding_window=False, sliding_window=None,
                    max_window_layers=2)
    raise ValueError("unknown model_type " + model_type)


def variant_config(variant, dtype="f32"):
    if variant not in VARIANTS:
        raise SystemExit("unknown variant %r (known: %s)" % (variant, ", ".join(VARIANTS)))
    model_type, overrides = VARIANTS[variant]
    config = base_config(model_type)
    config.update(json.loads(json.dumps(overrides)))  # deep copy
    if model_type == "llama" and "head_dim" not in config:  # LlamaConfig saves head_dim = hidden / heads
        config["head_dim"] = config["hidden_size"] // config["num_attention_heads"]
    config["torch_dtype"] = DTYPE_NAMES[dtype]
    return config


# ------------------------------------------------------------------------------------------------
# config helpers

def head_dim_of(config):
    return config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]


def kv_heads_of(config):
    return config.get("num_key_value_heads") or config["num_attention_heads"]


def rope_type_of(config):
    rs = config.get("rope_scaling")
    if not rs:
        return "default"
    return rs.get("rope_type", rs.get("type", "default"))


def expected_tensors(config):
    """[(name, shape)] of the parameters Hugging Face's *ForCausalLM holds for this config, in state-dict
    (module) order; lm_head.weight only when the embeddings are not tied."""
    mt = config["model_type"]
    C, L, V = config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]
    nh, nkv, hd, inter = config["num_attention_heads"], kv_heads_of(config), head_dim_of(config), \
        config["intermediate_size"]
    qkv_bias = mt == "qwen2" or bool(config.get("attention_bias", False))
    o_bias = mt != "qwen2" and bool(config.get("attention_bias", False))
    mlp_bias = mt == "llama" and bool(config.get("mlp_bias", False))
    out = [("model.embed_tokens.weight", [V, C])]
    for i in range(L):
        p = "model.layers.%d." % i
        for proj, rows in (("q", nh * hd), ("k", nkv * hd), ("v", nkv * hd)):
            out.append((p + "self_attn.%s_proj.weight" % proj, [rows, C]))
            if qkv_bias:
                out.append((p + "self_attn.%s_proj.bias" % proj, [rows]))
        out.append((p + "self_attn.o_proj.weight", [C, nh * hd]))
        if o_bias:
            out.append((p + "self_attn.o_proj.bias", [C]))
        if mt == "qwen3":
            out += [(p + "self_attn.q_norm.weight", [hd]), (p + "self_attn.k_norm.weight", [hd])]
        for proj, shape in (("gate", [inter, C]), ("up", [inter, C]), ("down", [C, inter])):
            out.append((p + "mlp.%s_proj.weight" % proj, shape))
            if mlp_bias:
                out.append((p + "mlp.%s_proj.bias" % proj, [shape[0]]))
        out += [(p + "input_layernorm.weight", [C]), (p + "post_attention_layernorm.weight", [C])]
    out.append(("model.norm.weight", [C]))
    if not config.get("tie_word_embeddings", False):
        out.append(("lm_head.weight", [V, C]))
    return out


# ------------------------------------------------------------------------------------------------
# RoPE (modeling_rope_utils: default, linear, llama3)

def default_inv_freq(theta, d):
    return 1.0 / (float(theta) ** (np.arange(0, d, 2, dtype=np.float64) / d))


def llama3_bands(inv_freq, rs):
    orig = rs["original_max_position_embeddings"]
    low_wavelen = orig / rs["low_freq_factor"]
    high_wavelen = orig / rs["high_freq_factor"]
    bands = []
    for f in inv_freq:
        wavelen = 2 * math.pi / f
        bands.append("kept" if wavelen < high_wavelen else "scaled" if wavelen > low_wavelen else "blended")
    return bands


def rope_inv_freq(config):
    d = head_dim_of(config)
    inv = default_inv_freq(config.get("rope_theta", 10000.0), d)
    rt = rope_type_of(config)
    rs = config.get("rope_scaling") or {}
    if rt == "default":
        return inv
    if rt == "linear":
        return inv / rs["factor"]
    if rt == "llama3":
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        orig = rs["original_max_position_embeddings"]
        out = np.empty_like(inv)
        for i, (f, band) in enumerate(zip(inv, llama3_bands(inv, rs))):
            if band == "kept":
                out[i] = f
            elif band == "scaled":
                out[i] = f / factor
            else:
                s = (orig * f / (2 * math.pi) - low) / (high - low)  # orig / wavelen
                out[i] = (1 - s) * f / factor + s * f
        return out
    raise SystemExit("rope_type %r is not covered by this reference" % rt)


def rope_cos_sin(config, positions):
    inv = rope_inv_freq(config)
    angles = np.outer(np.asarray(positions, dtype=np.float64), inv)  # (T, d/2)
    emb = np.concatenate([angles, angles], axis=-1)  # (T, d): the same frequency for i and i + d/2
    return np.cos(emb), np.sin(emb)


def rotate_half(u):
    half = u.shape[-1] // 2
    return np.concatenate([-u[..., half:], u[..., :half]], axis=-1)


def apply_rope(u, cos, sin):
    """u: (T, heads, d); cos, sin: (T, d)."""
    return u * cos[:, None, :] + rotate_half(u) * sin[:, None, :]


# ------------------------------------------------------------------------------------------------
# model

class Model:
    def __init__(self, config, weights):
        self.config = config
        self.w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
        names = {n for n, _ in expected_tensors(config)}
        missing = sorted(names - set(self.w))
        if missing:
            raise SystemExit("missing tensors: %s" % ", ".join(missing[:8]))
        for n, shape in expected_tensors(config):
            if list(self.w[n].shape) != shape:
                raise SystemExit("%s has shape %s, expected %s" % (n, list(self.w[n].shape), shape))


def load(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    if config.get("model_type") not in ("llama", "qwen2", "qwen3"):
        raise SystemExit("%s: model_type %r is not llama / qwen2 / qwen3" % (model_dir, config.get("model_type")))
    if config.get("hidden_act", "silu") != "silu":
        raise SystemExit("hidden_act %r is not covered" % config.get("hidden_act"))
    return Model(config, stnp.read_model_dir(model_dir))


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def silu(x):
    return x * 0.5 * (1.0 + np.tanh(0.5 * x))  # = x * sigmoid(x), without overflow


def linear(x, w, name):
    y = x @ w[name + ".weight"].T
    b = w.get(name + ".bias")
    return y if b is None else y + b


def forward(model, ids):
    """logits (T, V) in float64."""
    c, w = model.config, model.w
    ids = np.asarray(ids, dtype=np.int64)
    V = c["vocab_size"]
    if ids.ndim != 1 or len(ids) == 0 or ids.min() < 0 or ids.max() >= V:
        raise SystemExit("ids must be a non-empty list of token ids in [0, %d)" % V)
    T = len(ids)
    nh, nkv, hd, eps = c["num_attention_heads"], kv_heads_of(c), head_dim_of(c), c["rms_norm_eps"]
    g = nh // nkv
    cos, sin = rope_cos_sin(c, np.arange(T))
    causal = np.tril(np.ones((T, T), dtype=bool))
    x = w["model.embed_tokens.weight"][ids]
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = linear(h, w, p + "self_attn.q_proj").reshape(T, nh, hd)
        k = linear(h, w, p + "self_attn.k_proj").reshape(T, nkv, hd)
        v = linear(h, w, p + "self_attn.v_proj").reshape(T, nkv, hd)
        if p + "self_attn.q_norm.weight" in w:  # qwen3: per-head RMSNorm over head_dim, before RoPE
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        k, v = np.repeat(k, g, axis=1), np.repeat(v, g, axis=1)  # head h uses kv head h // g
        scores = np.einsum("thd,shd->hts", q, k) / math.sqrt(hd)
        scores = np.where(causal[None], scores, -np.inf)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        att = np.einsum("hts,shd->thd", probs, v).reshape(T, nh * hd)
        x = x + linear(att, w, p + "self_attn.o_proj")
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        m = silu(linear(h, w, p + "mlp.gate_proj")) * linear(h, w, p + "mlp.up_proj")
        x = x + linear(m, w, p + "mlp.down_proj")
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if c.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return x @ head.T


def log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def op_logits(model, ids):
    return {"logits": forward(model, ids).tolist()}


def op_loss(model, ids):
    ids = list(ids)
    if len(ids) < 2:
        raise SystemExit("loss needs at least 2 ids")
    logp = log_softmax(forward(model, ids)[:-1])
    token = -logp[np.arange(len(ids) - 1), ids[1:]]
    return {"loss": float(token.mean()), "token_losses": token.tolist()}


def op_greedy(model, ids, new):
    seq, out = list(ids), []
    for _ in range(int(new)):
        nxt = int(np.argmax(forward(model, seq)[-1]))  # first maximum = lowest id on ties
        seq.append(nxt)
        out.append(nxt)
    return {"ids": out}


def op_rope(model):
    c = model.config
    inv = rope_inv_freq(c)
    bands = llama3_bands(default_inv_freq(c.get("rope_theta", 10000.0), head_dim_of(c)), c["rope_scaling"]) \
        if rope_type_of(c) == "llama3" else None
    return {"head_dim": head_dim_of(c), "rope_type": rope_type_of(c), "inv_freq": inv.tolist(),
            "llama3_bands": bands}


def answer(model, req):
    op = req.get("op")
    if op == "logits":
        return op_logits(model, req["ids"])
    if op == "loss":
        return op_loss(model, req["ids"])
    if op == "greedy":
        return op_greedy(model, req["ids"], req["new"])
    if op == "rope":
        return op_rope(model)
    raise SystemExit("unknown op %r (logits, loss, greedy, rope)" % op)


# ------------------------------------------------------------------------------------------------
# make

def random_weights(config, seed):
    """{name: float32 array} in state-dict order (dicts keep insertion order)."""
    rs = np.random.RandomState(seed)
    out = {}
    for name, shape in expected_tensors(config):
        if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
            a = 1.0 + 0.1 * rs.standard_normal(shape)  # around 1, not all ones
        elif name.endswith(".bias"):
            a = 0.1 * rs.standard_normal(shape)
        elif name == "model.embed_tokens.weight":
            a = (0.2 if config.get("tie_word_embeddings") else 0.4) * rs.standard_normal(shape)
        else:
            a = 0.15 * rs.standard_normal(shape)
        out[name] = a.astype(np.float32)
    return out


def stored(weights, dtype):
    """(name, array[, "BF16"]) entries as they go into the file."""
    if dtype == "f32":
        return [(n, a) for n, a in weights.items()]
    if dtype == "f16":
        return [(n, a.astype(np.float16)) for n, a in weights.items()]
    return [(n, a, "BF16") for n, a in weights.items()]


def write_json(path, obj):
    with open(path, "w") as f:
        f.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")  # as transformers' save_pretrained


def make(out_dir, variant, seed, dtype, shards):
    config = variant_config(variant, dtype)
    if rope_type_of(config) == "llama3" and variant == "llama3-scaling":
        bands = llama3_bands(default_inv_freq(config["rope_theta"], head_dim_of(config)), config["rope_scaling"])
        assert bands == LLAMA3_EXPECTED_BANDS, bands
    entries = stored(random_weights(config, seed), dtype)
    os.makedirs(out_dir, exist_ok=True)
    for stale in os.listdir(out_dir):  # a previous make into the same directory
        if stale.endswith(".safetensors") or stale == stnp.INDEX_NAME:
            os.remove(os.path.join(out_dir, stale))
    write_json(os.path.join(out_dir, "config.json"), config)
    gen = {"_from_model_config": True, "bos_token_id": config.get("bos_token_id"),
           "eos_token_id": config.get("eos_token_id"), "transformers_version": TRANSFORMERS_VERSION}
    write_json(os.path.join(out_dir, "generation_config.json"), gen)
    if shards <= 1:
        stnp.write_safetensors(os.path.join(out_dir, stnp.SINGLE_NAME), entries)
        files = [stnp.SINGLE_NAME]
    else:
        sizes = [(e[0], stnp.tensor_nbytes(e)) for e in entries]
        limit = stnp.max_shard_bytes_for(sizes, shards)
        if limit is None:
            raise SystemExit("cannot split %d tensors into exactly %d shards" % (len(entries), shards))
        files = stnp.write_sharded(out_dir, entries, limit)
        assert len(files) == shards, files
    return {"dir": out_dir, "variant": variant, "files": files, "config": config}


# ------------------------------------------------------------------------------------------------
# selftest

def slow_forward(config, w, ids):
    """A second, loop-by-loop pure-Python forward (math module only), written from the HF description
    independently of forward(); used by selftest on short inputs."""
    L = config["num_hidden_layers"]
    nh, nkv, hd, eps = config["num_attention_heads"], kv_heads_of(config), head_dim_of(config), config["rms_norm_eps"]
    inv = [float(f) for f in rope_inv_freq(config)]
    W = {k: v.tolist() for k, v in w.items()}

    def norm(vec, wt):
        r = 1.0 / math.sqrt(sum(a * a for a in vec) / len(vec) + eps)
        return [a * r * b for a, b in zip(vec, wt)]

    def mv(name, vec):
        rows = W[name + ".weight"]
        out = [sum(a * b for a, b in zip(row, vec)) for row in rows]
        if name + ".bias" in W:
            out = [a + b for a, b in zip(out, W[name + ".bias"])]
        return out

    def rope(vec, pos):
        half = len(vec) // 2
        out = list(vec)
        for i in range(half):
            a = pos * inv[i]
            x1, x2 = vec[i], vec[i + half]
            out[i] = x1 * math.cos(a) - x2 * math.sin(a)
            out[i + half] = x2 * math.cos(a) + x1 * math.sin(a)
        return out

    xs = [list(W["model.embed_tokens.weight"][t]) for t in ids]
    T = len(ids)
    for layer in range(L):
        p = "model.layers.%d." % layer
        hs = [norm(x, W[p + "input_layernorm.weight"]) for x in xs]
        Q, K, Vv = [], [], []
        for t in range(T):
            q, k, v = (mv(p + "self_attn.%s_proj" % proj, hs[t]) for proj in "qkv")
            qh = [q[j * hd:(j + 1) * hd] for j in range(nh)]
            kh = [k[j * hd:(j + 1) * hd] for j in range(nkv)]
            vh = [v[j * hd:(j + 1) * hd] for j in range(nkv)]
            if p + "self_attn.q_norm.weight" in W:
                qh = [norm(u, W[p + "self_attn.q_norm.weight"]) for u in qh]
                kh = [norm(u, W[p + "self_attn.k_norm.weight"]) for u in kh]
            Q.append([rope(u, t) for u in qh])
            K.append([rope(u, t) for u in kh])
            Vv.append(vh)
        new_xs = []
        for t in range(T):
            att = []
            for hh in range(nh):
                j = hh // (nh // nkv)
                s = [sum(a * b for a, b in zip(Q[t][hh], K[u][j])) / math.sqrt(hd) for u in range(t + 1)]
                m = max(s)
                e = [math.exp(a - m) for a in s]
                z = sum(e)
                att += [sum(e[u] / z * Vv[u][j][dd] for u in range(t + 1)) for dd in range(hd)]
            o = mv(p + "self_attn.o_proj", att)
            x = [a + b for a, b in zip(xs[t], o)]
            h2 = norm(x, W[p + "post_attention_layernorm.weight"])
            gte, up = mv(p + "mlp.gate_proj", h2), mv(p + "mlp.up_proj", h2)
            mm = [a / (1 + math.exp(-a)) * b for a, b in zip(gte, up)]
            d = mv(p + "mlp.down_proj", mm)
            new_xs.append([a + b for a, b in zip(x, d)])
        xs = new_xs
    head = W["model.embed_tokens.weight"] if config.get("tie_word_embeddings") else W["lm_head.weight"]
    out = []
    for x in xs:
        h = norm(x, W["model.norm.weight"])
        out.append([sum(a * b for a, b in zip(row, h)) for row in head])
    return np.array(out)


def selftest(tmp):
    checks = []

    def check(name, ok, detail=""):
        checks.append(name)
        if not ok:
            raise SystemExit("selftest FAILED: %s %s" % (name, detail))

    def close(a, b, tol):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        return a.shape == b.shape and float(np.max(np.abs(a - b), initial=0.0)) <= tol

    # bf16 rounding, by hand: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 -> even (1); 1 + 3*2^-8 is halfway
    # between 1 + 2^-7 (odd mantissa) and 1 + 2^-6 -> even (1 + 2^-6).
    x = np.array([1.0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -2.5, np.inf, np.nan], np.float32)
    bits = stnp.f32_to_bf16_bits(x)
    check("bf16 rne", [int(b) for b in bits] == [0x3F80, 0x3F80, 0x3F82, 0x3F81, 0xC020, 0x7F80, 0x7FC0],
          [hex(int(b)) for b in bits])

    # hand-computed pieces
    check("rms_norm hand", close(rms_norm(np.array([3.0, 4.0]), np.array([1.0, 2.0]), 0.0),
                                 [3 / math.sqrt(12.5), 8 / math.sqrt(12.5)], 1e-15))
    c1 = {"hidden_size": 4, "num_attention_heads": 1, "rope_theta": 10000.0, "rope_scaling": None}
    cos, sin = rope_cos_sin(c1, [0, 1, 2])  # head_dim 4: inv_freq [1, 1/100]
    u = np.array([[[1.0, 2.0, 3.0, 4.0]]] * 3)
    r = apply_rope(u, cos, sin)[:, 0]
    hand = [[1, 2, 3, 4],
            [1 * math.cos(1) - 3 * math.sin(1), 2 * math.cos(.01) - 4 * math.sin(.01),
             3 * math.cos(1) + 1 * math.sin(1), 4 * math.cos(.01) + 2 * math.sin(.01)],
            [1 * math.cos(2) - 3 * math.sin(2), 2 * math.cos(.02) - 4 * math.sin(.02),
             3 * math.cos(2) + 1 * math.sin(2), 4 * math.cos(.02) + 2 * math.sin(.02)]]
    check("rope hand (rotate_half pairs i, i+d/2)", close(r, hand, 1e-12))

    # rope scaling
    base = {"hidden_size": 64, "num_attention_heads": 4, "rope_theta": 10000.0, "rope_scaling": None}
    lin1 = dict(base, rope_scaling={"rope_type": "linear", "factor": 1.0})
    check("linear factor 1 == default", close(rope_inv_freq(lin1), rope_inv_freq(base), 0))
    lin2 = dict(base, rope_scaling={"type": "linear", "factor": 2.0})  # old spelling "type"
    cs2, cs1 = rope_cos_sin(lin2, np.arange(0, 64, 2)), rope_cos_sin(base, np.arange(32))
    check("linear factor 2 at 2p == default at p", close(cs2[0], cs1[0], 1e-12) and close(cs2[1], cs1[1], 1e-12))
    l3 = variant_config("llama3-scaling")
    bands = llama3_bands(default_inv_freq(l3["rope_theta"], head_dim_of(l3)), l3["rope_scaling"])
    check("llama3-scaling has all three bands", bands == LLAMA3_EXPECTED_BANDS, bands)
    inv = rope_inv_freq(l3)
    hand = []
    for i in range(8):  # inv_freq 2^-i, wavelen 2 pi 2^i, orig 60, factor 8, low 1, high 4
        f = 2.0 ** -i
        if i < 2:
            hand.append(f)
        elif i >= 4:
            hand.append(f / 8)
        else:
            s = (60 / (2 * math.pi * 2 ** i) - 1) / 3
            hand.append((1 - s) * f / 8 + s * f)
    check("llama3 inv_freq hand", close(inv, hand, 1e-15), inv)
    l3f1 = dict(l3, rope_scaling=dict(l3["rope_scaling"], factor=1.0))
    check("llama3 factor 1 == default", close(rope_inv_freq(l3f1), default_inv_freq(256.0, 16), 1e-15))

    # every variant: numpy forward == slow loop forward; loss / greedy agree with logits; causality
    ids = [3, 17, 5, 250, 9, 1, 77]
    models = {}
    for v in VARIANTS:
        d = os.path.join(tmp, v)
        make(d, v, 7, "f32", 1)
        m = load(d)
        models[v] = m
        lg = forward(m, ids)
        check("%s: forward == slow forward" % v, close(lg, slow_forward(m.config, m.w, ids), 1e-9))
        check("%s: logits not flat" % v, float(lg.std(-1).min()) > 0.5, lg.std(-1))
        check("%s: causal" % v, close(forward(m, ids[:4]), lg[:4], 1e-12))
        lo = op_loss(m, ids)
        lp = log_softmax(lg)
        want = float(np.mean([-lp[t, ids[t + 1]] for t in range(len(ids) - 1)]))
        check("%s: loss" % v, abs(lo["loss"] - want) < 1e-12)
        gr = op_greedy(m, ids[:3], 3)["ids"]
        check("%s: greedy step 1" % v, gr[0] == int(np.argmax(forward(m, ids[:3])[-1])))
        check("%s: greedy continues" % v, gr[2] == int(np.argmax(forward(m, ids[:3] + gr[:2])[-1])))
        names = set(m.w)
        check("%s: names" % v, names == {n for n, _ in expected_tensors(m.config)}, sorted(names))

    # GQA: kv heads 2 of 4 == MHA whose k/v rows repeat each kv head per repeat_kv (head h <- kv head h // 2)
    g = models["llama-gqa"]
    mha_cfg = dict(g.config, num_key_value_heads=4)
    mha_w = dict(g.w)
    hd = head_dim_of(g.config)
    for i in range(g.config["num_hidden_layers"]):
        for proj in ("k", "v"):
            n = "model.layers.%d.self_attn.%s_proj.weight" % (i, proj)
            mha_w[n] = np.repeat(g.w[n].reshape(2, hd, -1), 2, axis=0).reshape(4 * hd, -1)
    check("gqa == mha with repeated kv heads", close(forward(Model(mha_cfg, mha_w), ids), forward(g, ids), 1e-12))
    tiled = dict(mha_w)  # the wrong grouping (kv head h % 2) must differ
    for i in range(g.config["num_hidden_layers"]):
        for proj in ("k", "v"):
            n = "model.layers.%d.self_attn.%s_proj.weight" % (i, proj)
            tiled[n] = np.tile(g.w[n].reshape(2, hd, -1), (2, 1, 1)).reshape(4 * hd, -1)
    check("gqa grouping is repeat_interleave, not tile",
          not close(forward(Model(mha_cfg, tiled), ids), forward(g, ids), 1e-6))

    # tied == untied with lm_head = embed
    t = models["llama-tied"]
    untied_w = dict(t.w, **{"lm_head.weight": t.w["model.embed_tokens.weight"]})
    check("tied == untied copy", close(forward(Model(dict(t.config, tie_word_embeddings=False), untied_w), ids),
                                       forward(t, ids), 0))

    # qwen3: q_norm / k_norm make attention invariant to the scale of q_proj / k_proj
    q3 = models["qwen3"]
    sw = dict(q3.w)
    for i in range(q3.config["num_hidden_layers"]):
        for proj in ("q", "k"):
            n = "model.layers.%d.self_attn.%s_proj.weight" % (i, proj)
            sw[n] = 3.0 * q3.w[n]
    check("qwen3 q/k norm scale invariance", close(forward(Model(q3.config, sw), ids), forward(q3, ids), 1e-4))
    # and the norm comes before RoPE: after it would give other logits (the weights are not uniform)

    # GQA, tiny hand case: T = 1 -> attention output is v for each head
    # (softmax over one key), so logits = head(norm(x + o(v(h)) + mlp)).
    m = models["llama-gqa"]
    x0 = m.w["model.embed_tokens.weight"][[5]]
    # one layer by hand, then the second
    for i in range(2):
        p = "model.layers.%d." % i
        h = rms_norm(x0, m.w[p + "input_layernorm.weight"], m.config["rms_norm_eps"])
        vv = (h @ m.w[p + "self_attn.v_proj.weight"].T).reshape(1, 2, hd)
        att = np.concatenate([vv[:, 0], vv[:, 0], vv[:, 1], vv[:, 1]], axis=-1)
        x0 = x0 + att @ m.w[p + "self_attn.o_proj.weight"].T
        h2 = rms_norm(x0, m.w[p + "post_attention_layernorm.weight"], m.config["rms_norm_eps"])
        gg = h2 @ m.w[p + "mlp.gate_proj.weight"].T
        x0 = x0 + (gg / (1 + np.exp(-gg)) * (h2 @ m.w[p + "mlp.up_proj.weight"].T)) @ m.w[p + "mlp.down_proj.weight"].T
    hand = rms_norm(x0, m.w["model.norm.weight"], m.config["rms_norm_eps"]) @ m.w["lm_head.weight"].T
    check("T=1 hand case (gqa)", close(forward(m, [5]), hand, 1e-12))

    # storage: f16 / bf16 hold the rounded f32 weights; sharded == single file
    ref = random_weights(variant_config("qwen2"), 11)
    for dtype in ("f16", "bf16"):
        d = os.path.join(tmp, "qwen2-" + dtype)
        make(d, "qwen2", 11, dtype, 1)
        m = load(d)
        for n, a in ref.items():
            want = a.astype(np.float16).astype(np.float64) if dtype == "f16" else stnp.round_to_bf16(a)
            if not np.array_equal(m.w[n], want):
                check("%s stored values" % dtype, False, n)
        hdr = stnp.read_model_dir_header(d)
        check("%s dtype in file" % dtype, {h["dtype"] for h in hdr.values()} == {dtype.upper()})
        check("%s torch_dtype" % dtype, m.config["torch_dtype"] == DTYPE_NAMES[dtype])
    for n_shards in (2, 3):
        d = os.path.join(tmp, "llama-shards%d" % n_shards)
        info = make(d, "llama", 7, "f32", n_shards)
        check("shards %d files" % n_shards, info["files"] == [stnp.shard_file_name(i + 1, n_shards)
                                                               for i in range(n_shards)], info["files"])
        with open(os.path.join(d, stnp.INDEX_NAME)) as f:
            index = json.load(f)
        hdr = stnp.read_model_dir_header(d)
        check("shards %d index" % n_shards,
              index["metadata"]["total_size"] == sum(h["nbytes"] for h in hdr.values())
              and index["weight_map"] == {n: h["file"] for n, h in hdr.items()})
        check("shards %d logits == single" % n_shards, close(forward(load(d), ids), forward(models["llama"], ids), 0))
    return checks


# ------------------------------------------------------------------------------------------------
# command line

def parse_ids(text):
    try:
        return [int(t) for t in text.replace(" ", "").split(",") if t != ""]
    except ValueError:
        raise SystemExit("--ids takes comma-separated integers, got %r" % text)


def main(argv):
    ap = argparse.ArgumentParser(description="numpy reference for HF Llama / Qwen2 / Qwen3",
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make")
    p.add_argument("out_dir")
    p.add_argument("--variant", required=True, choices=sorted(VARIANTS))
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    p.add_argument("--shards", type=int, default=1)
    for name in ("logits", "loss", "greedy"):
        p = sub.add_parser(name)
        p.add_argument("dir")
        p.add_argument("--ids", required=True)
        if name == "greedy":
            p.add_argument("--new", type=int, required=True)
    p = sub.add_parser("rope")
    p.add_argument("dir")
    p = sub.add_parser("batch")
    p.add_argument("dir")
    p.add_argument("requests", help="JSON file with a list of requests, or - for stdin")
    p.add_argument("--out")
    sub.add_parser("variants")
    sub.add_parser("selftest")
    a = ap.parse_args(argv)

    if a.cmd == "make":
        result = make(a.out_dir, a.variant, a.seed, a.dtype, a.shards)
    elif a.cmd == "logits":
        result = op_logits(load(a.dir), parse_ids(a.ids))
    elif a.cmd == "loss":
        result = op_loss(load(a.dir), parse_ids(a.ids))
    elif a.cmd == "greedy":
        result = op_greedy(load(a.dir), parse_ids(a.ids), a.new)
    elif a.cmd == "rope":
        result = op_rope(load(a.dir))
    elif a.cmd == "batch":
        text = sys.stdin.read() if a.requests == "-" else open(a.requests).read()
        requests = json.loads(text)
        if not isinstance(requests, list):
            raise SystemExit("batch: the requests file must hold a JSON list")
        cache = {}
        result = []
        for req in requests:
            d = req.get("dir", a.dir)
            if d not in cache:
                cache[d] = load(d)
            result.append(answer(cache[d], req))
        if a.out:
            with open(a.out, "w") as f:
                json.dump(result, f)
            return 0
    elif a.cmd == "variants":
        result = {v: variant_config(v) for v in VARIANTS}
    else:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            checks = selftest(tmp)
        result = {"ok": True, "checks": len(checks)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
