#!/usr/bin/env python3
"""Checks that a directory ptft exported is a Llama / Qwen2 / Qwen3 checkpoint Hugging Face transformers can
load as intended (numpy only, no torch, no transformers): for use by export tests.

  llama_hf_check.py EXPORTED_DIR [REFERENCE_DIR] [--values] [--atol A] [--rtol R] [--dtype f32|f16|bf16]
                    [--ignore-key KEY ...]
  llama_hf_check.py selftest      (checks that it accepts llama_reference.py's directories and catches
                                   broken copies of them; prints {"ok": true, "checks": n})

Prints {"ok": bool, "errors": [...], "warnings": [...], "tensors": n, "config_keys": n} and exits 0 when ok,
1 when not (2 on bad usage).

On EXPORTED_DIR alone:
  config.json: model_type llama / qwen2 / qwen3 with the matching "architectures"; the keys the modeling
    code reads are present with the right JSON types (vocab_size, hidden_size, intermediate_size,
    num_hidden_layers, num_attention_heads, num_key_value_heads, rms_norm_eps, rope_theta,
    max_position_embeddings, tie_word_embeddings, hidden_act "silu"; head_dim for qwen3, whose default is
    128; rope_scaling null or a known rope_type with its required fields); heads divisible by kv heads,
    head_dim even; torch_dtype names the dtype the tensors are stored in.
  weights: model.safetensors, or model-0000i-of-0000N.safetensors + model.safetensors.index.json (weight_map
    names every tensor and the file holding it, metadata.total_size = the bytes of all tensor data, the
    files are exactly the N shards); each file's header is valid (__metadata__ {"format": "pt"}, which
    transformers requires; offsets contiguous from 0 to the end of the file; byte counts = shape x dtype);
    the tensor names and shapes are exactly those HF's *ForCausalLM has for the config (lm_head.weight
    absent when tied), all in one floating dtype.
With REFERENCE_DIR (e.g. what llama_reference.py make wrote, the directory ptft imported):
  the config values that change the model agree (numbers compared as numbers; rope_scaling with "type"
  read as "rope_type"; head_dim / num_key_value_heads / attention_bias / mlp_bias by their effective
  values), plus architectures, model_type, bos/eos ids and torch_dtype; the same tensor names, shapes and
  dtypes (--dtype D: the exported dtype is D instead of the reference's); with --values the tensors agree
  within |a - b| <= atol + rtol |b| (default 0: bit-exact after upcasting to float64).
"""
import argparse
import json
import math
import os
import re
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
import safetensors_np as stnp  # noqa: E402
from llama_reference import expected_tensors  # noqa: E402  (names / shapes only; the same HF layout)

ARCH = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM"}
TORCH_DTYPE = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}
FLAG_DTYPE = {"f32": "F32", "f16": "F16", "bf16": "BF16"}
INT_KEYS = ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "max_position_embeddings"]
FLOAT_KEYS = ["rms_norm_eps", "rope_theta"]
ROPE_REQUIRED = {"default": [], "linear": ["factor"],
                 "llama3": ["factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"]}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


class Report:
    def __init__(self):
        self.errors, self.warnings = [], []

    def error(self, msg):
        self.errors.append(msg)

    def warn(self, msg):
        self.warnings.append(msg)


# ------------------------------------------------------------------------------------------------
# config

def load_config(d, rep):
    path = os.path.join(d, "config.json")
    try:
        with open(path) as f:
            c = json.load(f)
    except (OSError, ValueError) as e:
        rep.error("%s: %s" % (path, e))
        return None
    if not isinstance(c, dict):
        rep.error("%s is not a JSON object" % path)
        return None
    return c


def rope_of(c):
    rs = c.get("rope_scaling")
    if rs is None:
        return None
    if not isinstance(rs, dict):
        return "invalid"
    rs = dict(rs)
    if "rope_type" not in rs and "type" in rs:
        rs["rope_type"] = rs.pop("type")
    rs.pop("type", None)
    if rs.get("rope_type") == "default" and len(rs) == 1:
        return None
    return rs


def effective(c, key):
    """The value HF's config class ends up with for the keys whose default depends on others."""
    mt = c.get("model_type")
    if key == "num_key_value_heads":
        kv = c.get("num_key_value_heads")
        return kv if kv is not None else c.get("num_attention_heads")
    if key == "head_dim":
        if c.get("head_dim") is not None:
            return c["head_dim"]
        if mt == "qwen3":
            return 128  # Qwen3Config's default
        return c["hidden_size"] // c["num_attention_heads"]
    if key == "attention_bias":
        return True if mt == "qwen2" else bool(c.get("attention_bias", False))  # qwen2: q/k/v always
    if key == "mlp_bias":
        return bool(c.get("mlp_bias", False)) if mt == "llama" else False
    if key == "tie_word_embeddings":
        return bool(c.get("tie_word_embeddings", False))  # Llama/Qwen2/Qwen3Config's default
    if key == "rope_scaling":
        return rope_of(c)
    return c.get(key)


def check_config(c, rep, where):
    mt = c.get("model_type")
    if mt not in ARCH:
        rep.error("%s: model_type %r is not llama / qwen2 / qwen3" % (where, mt))
        return False
    if c.get("architectures") != [ARCH[mt]]:
        rep.error("%s: architectures %r, expected [%r]" % (where, c.get("architectures"), ARCH[mt]))
    ok = True
    for k in INT_KEYS:
        if not is_int(c.get(k)) or c[k] <= 0:
            rep.error("%s: %s must be a positive integer, got %r" % (where, k, c.get(k)))
            ok = False
    for k in FLOAT_KEYS:
        if not is_num(c.get(k)) or c[k] <= 0:
            rep.error("%s: %s must be a positive number, got %r" % (where, k, c.get(k)))
            ok = False
    if not isinstance(c.get("tie_word_embeddings"), bool):
        rep.error("%s: tie_word_embeddings must be true or false, got %r"
                  % (where, c.get("tie_word_embeddings")))
    if c.get("hidden_act") != "silu":
        rep.error("%s: hidden_act must be \"silu\", got %r" % (where, c.get("hidden_act")))
    if mt == "qwen3" and not is_int(c.get("head_dim")):
        rep.error("%s: qwen3 needs head_dim (Qwen3Config's default is 128), got %r" % (where, c.get("head_dim")))
        ok = False
    if "head_dim" in c and c["head_dim"] is not None and (not is_int(c["head_dim"]) or c["head_dim"] <= 0):
        rep.error("%s: head_dim must be a positive integer, got %r" % (where, c["head_dim"]))
        ok = False
    for k in ("attention_bias", "mlp_bias"):
        if k in c and not isinstance(c[k], bool):
            rep.error("%s: %s must be true or false, got %r" % (where, k, c[k]))
    if mt == "qwen2" and c.get("attention_bias") is False:
        rep.warn("%s: qwen2 ignores attention_bias (q/k/v always have biases)" % where)
    if not ok:
        return False
    nh, nkv = c["num_attention_heads"], effective(c, "num_key_value_heads")
    if nh % nkv:
        rep.error("%s: num_attention_heads %d is not a multiple of num_key_value_heads %d" % (where, nh, nkv))
    hd = effective(c, "head_dim")
    if "head_dim" not in c and c["hidden_size"] % nh:
        rep.error("%s: hidden_size %d is not a multiple of num_attention_heads %d and there is no head_dim"
                  % (where, c["hidden_size"], nh))
    if hd % 2:
        rep.error("%s: head_dim %d is odd (RoPE needs it even)" % (where, hd))
    rs = rope_of(c)
    if rs == "invalid":
        rep.error("%s: rope_scaling must be null or an object, got %r" % (where, c.get("rope_scaling")))
    elif rs is not None:
        rt = rs.get("rope_type")
        if rt not in ROPE_REQUIRED:
            rep.error("%s: rope_scaling rope_type %r is not default / linear / llama3" % (where, rt))
        else:
            for k in ROPE_REQUIRED[rt]:
                if not is_num(rs.get(k)):
                    rep.error("%s: rope_scaling.%s missing or not a number (%r)" % (where, k, rs.get(k)))
            if rt == "llama3" and is_num(rs.get("original_max_position_embeddings")):
                if not is_int(rs["original_max_position_embeddings"]):
                    rep.error("%s: rope_scaling.original_max_position_embeddings must be an integer" % where)
                if is_num(rs.get("low_freq_factor")) and is_num(rs.get("high_freq_factor")) \
                        and rs["high_freq_factor"] <= rs["low_freq_factor"]:
                    rep.error("%s: rope_scaling high_freq_factor must exceed low_freq_factor" % where)
    td = c.get("torch_dtype", c.get("dtype"))
    if td not in ("float32", "float16", "bfloat16"):
        rep.error("%s: torch_dtype %r is not float32 / float16 / bfloat16" % (where, td))
    return True


COMPARED_KEYS = ["model_type", "architectures", "vocab_size", "hidden_size", "intermediate_size",
                 "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps",
                 "rope_theta", "rope_scaling", "max_position_embeddings", "tie_word_embeddings", "attention_bias",
                 "mlp_bias", "hidden_act", "bos_token_id", "eos_token_id", "torch_dtype"]


def same_value(a, b):
    if is_num(a) and is_num(b):
        return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b and type(a) is type(b)


def compare_configs(c, r, rep, ignore, dtype_override):
    n = 0
    for k in COMPARED_KEYS:
        if k in ignore:
            continue
        if k == "torch_dtype":
            a, b = c.get("torch_dtype", c.get("dtype")), r.get("torch_dtype", r.get("dtype"))
            if dtype_override:
                b = TORCH_DTYPE[dtype_override]
        else:
            a, b = effective(c, k), effective(r, k)
        n += 1
        if not same_value(a, b):
            rep.error("config.json %s: exported %s, reference %s" % (k, json.dumps(a), json.dumps(b)))
    return n


# ------------------------------------------------------------------------------------------------
# safetensors files

def check_file(path, rep):
    """Validates one safetensors file's framing; returns {name: {"dtype", "shape", "nbytes"}} or None."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if n > size - 8:
                rep.error("%s: header length %d past the end of the file" % (path, n))
                return None
            raw = f.read(n)
        header = json.loads(raw)
    except (OSError, ValueError, struct.error) as e:
        rep.error("%s: unreadable safetensors (%s)" % (path, e))
        return None
    if not raw.startswith(b"{"):
        rep.error("%s: header does not start with '{'" % path)
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or meta.get("format") != "pt":
        rep.error("%s: __metadata__ must be {\"format\": \"pt\"} (transformers refuses files without a valid "
                  "format), got %r" % (path, meta))
    data_len = size - 8 - n
    spans, out = [], {}
    for name, info in header.items():
        dt, shape, offs = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dt not in stnp.ITEM_BYTES or not isinstance(shape, list) or not isinstance(offs, list) or len(offs) != 2:
            rep.error("%s: %s: bad header entry %r" % (path, name, info))
            continue
        want = stnp.ITEM_BYTES[dt] * int(np.prod(shape, dtype=np.int64))
        if offs[1] - offs[0] != want:
            rep.error("%s: %s: %d bytes for %s %s (expected %d)" % (path, name, offs[1] - offs[0], dt, shape, want))
        spans.append((offs[0], offs[1], name))
        out[name] = {"dtype": dt, "shape": shape, "nbytes": offs[1] - offs[0]}
    pos = 0
    for begin, end, name in sorted(spans):
        if begin != pos:
            rep.error("%s: %s starts at %d, expected %d (data must be contiguous)" % (path, name, begin, pos))
        pos = max(pos, end)
    if pos != data_len:
        rep.error("%s: tensor data ends at %d but the data section has %d bytes" % (path, pos, data_len))
    return out


def check_weights(d, rep):
    """{name: {"dtype", "shape", "nbytes", "file"}} of a model directory, validating its layout."""
    index_path = os.path.join(d, stnp.INDEX_NAME)
    single = os.path.join(d, stnp.SINGLE_NAME)
    out = {}
    if not os.path.exists(index_path):
        if not os.path.exists(single):
            rep.error("%s: neither model.safetensors nor %s" % (d, stnp.INDEX_NAME))
            return out
        for name, info in (check_file(single, rep) or {}).items():
            out[name] = dict(info, file=stnp.SINGLE_NAME)
        return out
    if os.path.exists(single):
        rep.error("%s: both model.safetensors and %s (HF would read only the single file)" % (d, stnp.INDEX_NAME))
    try:
        with open(index_path) as f:
            index = json.load(f)
        weight_map = index["weight_map"]
        total = index["metadata"]["total_size"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        rep.error("%s: bad index (%s); it needs {\"metadata\": {\"total_size\"}, \"weight_map\"}" % (index_path, e))
        return out
    files = sorted(set(weight_map.values()))
    m = [re.fullmatch(r"model-(\d{5})-of-(\d{5})\.safetensors", f) for f in files]
    if not all(m):
        rep.error("%s: shard names %s are not model-0000i-of-0000N.safetensors" % (index_path, files))
    else:
        n = int(m[0].group(2))
        want = [stnp.shard_file_name(i + 1, n) for i in range(n)]
        if files != want:
            rep.error("%s: shards %s, expected %s" % (index_path, files, want))
    for fname in files:
        for name, info in (check_file(os.path.join(d, fname), rep) or {}).items():
            if name in out:
                rep.error("%s: %s is in both %s and %s" % (d, name, out[name]["file"], fname))
            out[name] = dict(info, file=fname)
            if weight_map.get(name) != fname:
                rep.error("%s: %s is in %s but the index maps it to %r" % (index_path, name, fname,
                                                                            weight_map.get(name)))
    for name, fname in weight_map.items():
        if name not in out:
            rep.error("%s: the index maps %s to %s, which does not hold it" % (index_path, name, fname))
    if total != sum(i["nbytes"] for i in out.values()):
        rep.error("%s: metadata.total_size %r, but the tensors hold %d bytes"
                  % (index_path, total, sum(i["nbytes"] for i in out.values())))
    return out


def check_tensors(c, tensors, rep, where):
    want = dict((n, s) for n, s in expected_tensors(c))
    for n in sorted(set(want) - set(tensors)):
        rep.error("%s: missing tensor %s %s" % (where, n, want[n]))
    for n in sorted(set(tensors) - set(want)):
        extra = " (tie_word_embeddings is true: HF ignores it)" if n == "lm_head.weight" else ""
        rep.error("%s: unexpected tensor %s%s" % (where, n, extra))
    for n in sorted(set(want) & set(tensors)):
        if tensors[n]["shape"] != want[n]:
            rep.error("%s: %s has shape %s, HF expects %s" % (where, n, tensors[n]["shape"], want[n]))
    dtypes = sorted({t["dtype"] for t in tensors.values()})
    if len(dtypes) > 1:
        rep.error("%s: mixed tensor dtypes %s" % (where, dtypes))
    elif dtypes and dtypes[0] not in TORCH_DTYPE:
        rep.error("%s: tensor dtype %s is not F32 / F16 / BF16" % (where, dtypes[0]))
    elif dtypes and TORCH_DTYPE[dtypes[0]] != c.get("torch_dtype", c.get("dtype")):
        rep.error("%s: tensors are %s but config.json says torch_dtype %r"
                  % (where, dtypes[0], c.get("torch_dtype", c.get("dtype"))))


def run(args):
    rep = Report()
    c = load_config(args.exported, rep)
    tensors = check_weights(args.exported, rep)
    n_keys = 0
    c_ok = c is not None and check_config(c, rep, "exported config.json")
    if c_ok:
        check_tensors(c, tensors, rep, "exported")
    if args.reference:
        r = load_config(args.reference, rep)
        ref_tensors = stnp.read_model_dir_header(args.reference)
        if c_ok and r is not None and check_config(r, rep, "reference config.json"):
            n_keys = compare_configs(c, r, rep, set(args.ignore_key or []), FLAG_DTYPE.get(args.dtype))
        for n in sorted(set(ref_tensors) & set(tensors)):
            a, b = tensors[n], ref_tensors[n]
            if a["shape"] != b["shape"]:
                rep.error("%s: shape %s, reference %s" % (n, a["shape"], b["shape"]))
            want_dt = FLAG_DTYPE[args.dtype] if args.dtype else b["dtype"]
            if a["dtype"] != want_dt:
                rep.error("%s: dtype %s, expected %s" % (n, a["dtype"], want_dt))
        for n in sorted(set(ref_tensors) ^ set(tensors)):
            rep.error("%s: only in the %s" % (n, "reference" if n in ref_tensors else "export"))
        if args.values and not rep.errors:
            ea, ra = stnp.read_model_dir(args.exported), stnp.read_model_dir(args.reference)
            for n in sorted(ra):
                a, b = ea[n].astype(np.float64), ra[n].astype(np.float64)
                bad = np.abs(a - b) > args.atol + args.rtol * np.abs(b)
                if bad.any():
                    i = np.unravel_index(np.argmax(np.abs(a - b)), a.shape)
                    rep.error("%s: %d values differ, worst at %s: %r vs %r"
                              % (n, int(bad.sum()), list(map(int, i)), float(a[i]), float(b[i])))
    return {"ok": not rep.errors, "errors": rep.errors, "warnings": rep.warnings, "tensors": len(tensors),
            "config_keys": n_keys}


def selftest():
    import shutil
    import tempfile
    import llama_reference as ref

    checks = []

    def expect(name, d, reference=None, ok=False, needle=None, **kw):
        a = argparse.Namespace(exported=d, reference=reference, values=kw.get("values", False), atol=0.0, rtol=0.0,
                               dtype=kw.get("dtype"), ignore_key=kw.get("ignore_key"))
        r = run(a)
        text = " | ".join(r["errors"])
        if r["ok"] != ok or (needle and needle not in text):
            raise SystemExit("selftest FAILED: %s: ok=%s errors=%s" % (name, r["ok"], r["errors"]))
        checks.append(name)

    def edit_config(d, **changes):
        path = os.path.join(d, "config.json")
        with open(path) as f:
            c = json.load(f)
        for k, v in changes.items():
            if v is KeyError:
                c.pop(k, None)
            else:
                c[k] = v
        with open(path, "w") as f:
            json.dump(c, f)

    with tempfile.TemporaryDirectory() as tmp:
        def fresh(name, variant, **kw):
            d = os.path.join(tmp, name)
            shutil.rmtree(d, ignore_errors=True)
            ref.make(d, variant, 5, kw.get("dtype", "f32"), kw.get("shards", 1))
            return d

        for v in ref.VARIANTS:
            base = fresh(v, v)
            expect(v + " ok", base, ok=True)
            expect(v + " 3 shards == single", fresh(v + "-s", v, shards=3), base, ok=True, values=True)
        base = os.path.join(tmp, "qwen3")
        expect("bf16 export of f32 reference", fresh("q3-bf16", "qwen3", dtype="bf16"), base, ok=True, dtype="bf16")
        expect("bf16 without --dtype", os.path.join(tmp, "q3-bf16"), base, needle="dtype")
        expect("values differ", fresh("q3-other-seed", "qwen3"), base, ok=True)
        d = os.path.join(tmp, "q3-other-seed")
        ref.make(d, "qwen3", 6, "f32", 1)
        expect("values differ --values", d, base, values=True, needle="values differ")

        d = fresh("x", "qwen3")
        edit_config(d, head_dim=KeyError)
        expect("qwen3 without head_dim", d, needle="head_dim")
        d = fresh("x", "llama")
        edit_config(d, architectures=["LlamaModel"])
        expect("architectures", d, needle="architectures")
        d = fresh("x", "llama")
        edit_config(d, num_key_value_heads=3)
        expect("kv heads", d, needle="multiple")
        d = fresh("x", "llama-linear")
        edit_config(d, rope_scaling={"type": "linear", "factor": 2.0})
        expect("rope_scaling 'type' spelling", d, os.path.join(tmp, "llama-linear"), ok=True)
        edit_config(d, rope_scaling={"rope_type": "linear", "factor": 4.0})
        expect("rope factor differs", d, os.path.join(tmp, "llama-linear"), needle="rope_scaling")
        d = fresh("x", "llama3-scaling")
        edit_config(d, rope_scaling={"rope_type": "llama3", "factor": 8.0})
        expect("llama3 fields", d, needle="low_freq_factor")
        d = fresh("x", "llama")
        edit_config(d, rms_norm_eps=1e-6)
        expect("eps differs", d, os.path.join(tmp, "llama"), needle="rms_norm_eps")
        d = fresh("x", "llama")
        edit_config(d, torch_dtype="bfloat16")
        expect("torch_dtype vs tensors", d, needle="torch_dtype")
        d = fresh("x", "llama")
        edit_config(d, vocab_size=321.0)
        expect("int key as float", d, needle="vocab_size")

        def rewrite(d, fn, metadata=None):
            path = os.path.join(d, stnp.SINGLE_NAME)
            t = stnp.read_safetensors(path)
            stnp.write_safetensors(path, fn(t), metadata)

        d = fresh("x", "llama-tied")
        rewrite(d, lambda t: list(t.items()) + [("lm_head.weight", t["model.embed_tokens.weight"])])
        expect("lm_head when tied", d, needle="lm_head.weight")
        d = fresh("x", "qwen2")
        rewrite(d, lambda t: [(k, a) for k, a in t.items() if k != "model.layers.1.self_attn.k_proj.bias"])
        expect("missing bias", d, needle="missing tensor model.layers.1.self_attn.k_proj.bias")
        d = fresh("x", "llama")
        rewrite(d, lambda t: [(k, a.T.copy() if k.endswith("o_proj.weight") else a) for k, a in t.items()])
        expect("transposed, square o_proj is not caught by shape", d, ok=True)
        d = fresh("x", "llama-headdim")
        rewrite(d, lambda t: [(k, a.T.copy() if k.endswith("o_proj.weight") else a) for k, a in t.items()])
        expect("transposed o_proj (head_dim)", d, needle="o_proj.weight has shape")
        d = fresh("x", "llama")
        rewrite(d, lambda t: list(t.items()), metadata={})
        expect("no format metadata", d, needle="__metadata__")
        d = fresh("x", "llama", shards=2)
        index = os.path.join(d, stnp.INDEX_NAME)
        with open(index) as f:
            j = json.load(f)
        j["metadata"]["total_size"] += 4
        with open(index, "w") as f:
            json.dump(j, f)
        expect("index total_size", d, needle="total_size")
        d = fresh("x", "llama", shards=2)
        os.rename(os.path.join(d, "model-00002-of-00002.safetensors"),
                  os.path.join(d, "model-00002-of-00003.safetensors"))
        with open(index) as f:
            text = f.read().replace("model-00002-of-00002", "model-00002-of-00003")
        with open(index, "w") as f:
            f.write(text)
        expect("shard names", d, needle="expected ['model-00001-of-00002.safetensors', 'model-00002-of-00002")
        d = fresh("x", "llama")
        with open(os.path.join(d, stnp.SINGLE_NAME), "ab") as f:
            f.write(b"\0" * 4)
        expect("trailing bytes", d, needle="data section")
    return checks


def main(argv):
    if argv == ["selftest"]:
        print(json.dumps({"ok": True, "checks": len(selftest())}))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("exported")
    ap.add_argument("reference", nargs="?")
    ap.add_argument("--values", action="store_true", help="compare tensor values too (needs REFERENCE_DIR)")
    ap.add_argument("--atol", type=float, default=0.0)
    ap.add_argument("--rtol", type=float, default=0.0)
    ap.add_argument("--dtype", choices=sorted(FLAG_DTYPE), help="the exported dtype differs from the reference's")
    ap.add_argument("--ignore-key", action="append", help="a config key not to compare (repeatable)")
    args = ap.parse_args(argv)
    if args.values and not args.reference:
        ap.error("--values needs REFERENCE_DIR")
    result = run(args)
    print(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
