#!/usr/bin/python3
"""PyTorch-eager peer of `ptft generate` for bench/generate_bench.sh: greedy generation at batch 1
with a key/value cache, the way a PyTorch user writes it (bench/peers/llama_model.py's Llama or
gpt_train_peer.py's GPT-2 with per-layer caches; torch.inference_mode; argmax of the last position's logits each step).

  /usr/bin/python3 bench/peers/generate_peer.py --preset configs/models/llama-tiny.yaml \\
      --prompt-tokens 32 --new-tokens 128 --threads 2 [--vocab-size N] [--dtype bfloat16]
  -> {"tokens_per_s": ..., "first_token_ms": ..., "new_tokens": ..., "peak_rss_mb": ...}

tokens_per_s counts the generated tokens after the first over the time after the first (the
decode rate); first_token_ms is the prompt's forward pass plus the first argmax (time to first
token). Weights are random (timing does not depend on them).
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_model  # noqa: E402
from gpt_train_peer import Gpt, read_preset  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", required=True)
    ap.add_argument("--prompt-tokens", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vocab-size", type=int, default=0, help="override the preset's vocabulary")
    ap.add_argument("--context", type=int, default=0, help="override the preset's context")
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32",
                    help="the weights' and activations' type (model.to(dtype), as a user casts a model)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    c = read_preset(args.preset, args.context)
    if args.vocab_size:
        c["vocab_size"] = args.vocab_size
    torch.manual_seed(0)
    model = (llama_model.Llama(c) if c["family"] == "llama" else Gpt(c)).eval().to(getattr(torch, args.dtype))
    layers = model.layers if c["family"] == "llama" else model.transformer.h
    prompt = torch.randint(c["vocab_size"], (1, args.prompt_tokens))
    with torch.inference_mode():
        caches = [dict() for _ in layers]
        t0 = time.perf_counter()
        nxt = model(prompt, caches)[:, -1].argmax(-1, keepdim=True)         # (1,1)
        first = time.perf_counter()
        for _ in range(args.new_tokens - 1):
            nxt = model(nxt, caches)[:, -1].argmax(-1, keepdim=True)
        end = time.perf_counter()
    print(json.dumps({"tokens_per_s": (args.new_tokens - 1) / (end - first), "first_token_ms": (first - t0) * 1e3,
                      "new_tokens": args.new_tokens, "prompt_tokens": args.prompt_tokens,
                      "params": sum(p.numel() for p in model.parameters()), "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "dtype": args.dtype,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    main()
