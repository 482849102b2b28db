#!/usr/bin/env python3
"""Checks ptft's `llama` family against Hugging Face transformers' own classes, where transformers is
installed (it is not on the development machines: no PyPI; scripts/gpu-check.sh runs this on a GPU machine
whose PyTorch install often has it).

  transformers_check.py PTFT_BINARY WORK_DIR [--variants v1,v2,...]

For each variant of tests/models/llama_reference.py (MHA, GQA, llama3 rope, linear rope, head_dim != C/heads,
tied + shards, Qwen2 biases, Qwen3 q/k norm; f32, one bf16):
  1. llama_reference.py make  -> a random-weight HF directory REF
  2. PTFT_BINARY export --model REF --format hf --out EXP   (ptft reads REF and writes it back)
  3. transformers: AutoModelForCausalLM.from_pretrained(REF) and (EXP) in float32, eager attention:
     - both are the class REF's config.json names (LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM);
     - logits of EXP == logits of REF within 1e-5 abs (the same weights, whatever ptft did to them);
     - logits of REF == the numpy reference within 2e-4 abs (the reference that ptft's own golden tests
       in tests/io/hf_llama_test.cpp match: so ptft == reference == transformers);
     - greedy continuation of 8 tokens from EXP == the numpy reference's.
Prints one JSON line per variant and a summary {"ok": bool, "variants": n, "failed": [...]}; exit 0 when all
pass, 1 when one fails, 3 when transformers (or torch) cannot be imported (nothing checked).
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "llama_reference.py")
VARIANTS = [("llama", "f32"), ("llama-gqa", "f32"), ("llama3-scaling", "f32"), ("llama-linear", "f32"),
            ("llama-headdim", "f32"), ("llama-tied", "f32"), ("qwen2", "bf16"), ("qwen3", "f32")]
IDS = [1, 5, 9, 42, 7, 100, 3, 250, 17, 64, 2, 11]
LOGIT_ATOL_EXPORT = 1e-5
LOGIT_ATOL_REFERENCE = 2e-4


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def hf_logits(model, torch, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].double()


def hf_greedy(model, torch, ids, new):
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=new, do_sample=False, eos_token_id=None,
                             pad_token_id=0, min_new_tokens=new)
    return out[0, len(ids):].tolist()


def check_variant(ptft, work, variant, dtype, torch, transformers):
    ref = os.path.join(work, variant + "-ref")
    exp = os.path.join(work, variant + "-export")
    subprocess.run(["rm", "-rf", ref, exp], check=True)
    made = run_json([sys.executable, REFERENCE, "make", ref, "--variant", variant, "--dtype", dtype,
                     "--shards", "2" if variant in ("llama-tied", "qwen3") else "1"])
    subprocess.run([ptft, "export", "--model", ref, "--format", "hf", "--out", exp], check=True,
                   capture_output=True, text=True)
    load = dict(torch_dtype=torch.float32, attn_implementation="eager")
    m_ref = transformers.AutoModelForCausalLM.from_pretrained(ref, **load).eval()
    m_exp = transformers.AutoModelForCausalLM.from_pretrained(exp, **load).eval()
    errors = []
    want_class = made["config"]["architectures"][0]
    for name, m in (("reference dir", m_ref), ("export", m_exp)):
        if type(m).__name__ != want_class:
            errors.append(f"{name} loads as {type(m).__name__}, expected {want_class}")
    ids = [i % made["config"]["vocab_size"] for i in IDS]
    l_ref, l_exp = hf_logits(m_ref, torch, ids), hf_logits(m_exp, torch, ids)
    d_export = (l_ref - l_exp).abs().max().item()
    numpy_logits = torch.tensor(run_json([sys.executable, REFERENCE, "logits", ref, "--ids",
                                          ",".join(map(str, ids))])["logits"], dtype=torch.float64)
    d_reference = (l_ref - numpy_logits).abs().max().item()
    if d_export > LOGIT_ATOL_EXPORT:
        errors.append(f"export logits differ from the reference directory's by {d_export:.3g} > {LOGIT_ATOL_EXPORT}")
    if d_reference > LOGIT_ATOL_REFERENCE:
        errors.append(f"transformers and the numpy reference differ by {d_reference:.3g} > {LOGIT_ATOL_REFERENCE}")
    greedy_hf = hf_greedy(m_exp, torch, ids, 8)
    greedy_np = run_json([sys.executable, REFERENCE, "greedy", ref, "--ids", ",".join(map(str, ids)),
                          "--new", "8"])["ids"]
    if greedy_hf != greedy_np:
        errors.append(f"greedy ids differ: transformers {greedy_hf}, reference {greedy_np}")
    return {"variant": variant, "dtype": dtype, "class": type(m_exp).__name__, "max_abs_export": d_export,
            "max_abs_reference": d_reference, "ok": not errors, "errors": errors}


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    ptft, work = argv[0], argv[1]
    wanted = None
    if len(argv) >= 4 and argv[2] == "--variants":
        wanted = set(argv[3].split(","))
    try:
        import torch
        import transformers
    except ImportError as e:
        print(json.dumps({"ok": False, "skipped": f"cannot import transformers/torch: {e}"}))
        return 3
    os.makedirs(work, exist_ok=True)
    failed = []
    count = 0
    for variant, dtype in VARIANTS:
        if wanted and variant not in wanted:
            continue
        count += 1
        try:
            r = check_variant(ptft, work, variant, dtype, torch, transformers)
        except subprocess.CalledProcessError as e:
            r = {"variant": variant, "ok": False, "errors": [f"{e.cmd[:3]} exited {e.returncode}: {e.stderr}"]}
        print(json.dumps(r), flush=True)
        if not r["ok"]:
            failed.append(variant)
    print(json.dumps({"ok": not failed, "variants": count, "failed": failed,
                      "transformers": transformers.__version__, "torch": torch.__version__}))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
