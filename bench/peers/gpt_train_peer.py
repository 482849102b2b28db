#!/usr/bin/python3
"""PyTorch-eager peer of `ptft pretrain` for bench/gpt_train_bench.sh (GPT, the llama family, BERT).

A preset of family llama builds bench/peers/llama_model.py's Llama instead of the GPT below (the
training step is the same); family bert builds bench/peers/bert_model.py's BertMlm, whose step is
the masked-LM one (random masked windows as ptft's MlmWindows draws them, the loss summed over the
selected positions divided by their number); --context overrides the preset's context
(n_positions / max_position_embeddings) on both sides of a benchmark.

The same GPT-2 as ptft's src/models/gpt.cpp (learned positions, pre-LayerNorm blocks, GELU tanh,
tied head, LayerNorm eps from the preset, GPT-2 init), written the way PyTorch eager users write
it (nanoGPT's CausalSelfAttention: explicit q k^T, causal mask, softmax; torch 1.13 has no
scaled_dot_product_attention). One training step is ptft's: summed next-token cross-entropy over
fp32 logits divided by the tokens, backward, global grad-norm clip to 1.0, torch.optim.AdamW
(betas 0.9/0.95, eps 1e-8, weight decay 0.1 on 2-D weights except the embeddings, as ptft's
default_param_groups), grads set to None. Batches are uniform random tokens, made before each
step's timer starts (ptft's prefetcher makes them on another thread).

  /usr/bin/python3 bench/peers/gpt_train_peer.py --preset configs/models/gpt-tiny.yaml \
      --batch-size 16 --steps 20 --warmup-steps 5 --precision fp32 --threads 2
  -> {"tokens_per_s": ..., "step_ms": ..., "peak_rss_mb": ..., "params": ..., "flops_per_token": ...}
  /usr/bin/python3 bench/peers/gpt_train_peer.py --measure-peak --threads 2
  -> {"peak_tflops_fp32": ..., "peak_tflops_bf16": ...}

Data-parallel (bench/dist_scaling_bench.sh): started by torch.distributed.run (RANK/WORLD_SIZE
set), the model is wrapped in DistributedDataParallel over Gloo (25 MB buckets, as ptft's
train.bucket_mb), each rank draws its own random batch of --batch-size, and rank 0 alone prints,
with tokens_per_s over all ranks.

--time-limit S stops a run that cannot finish in S seconds (bf16 autocast on a CPU without
native bf16 matmuls is ~20x slower than fp32): with timed steps done, their median is printed
("truncated": true); with none, "tokens_per_s" is null and "tokens_per_s_below" bounds it by the
longest step seen (the one in flight, or a finished one after the first).

flops_per_token counts a training step (forward + backward = 3 x forward) exactly as ptft's
GptImpl::flops_per_unit does for the forward: 2 per weight (all but the position embeddings;
the tied head counts once, as the wte matmul) + 4 * n_layer * n_positions * n_embd.
"""
import argparse
import json
import math
import resource
import statistics
import os
import sys
import threading
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_model  # noqa: E402  (bench/peers/bert_model.py)
import llama_model  # noqa: E402  (bench/peers/llama_model.py)


def read_preset(path, context=0):
    with open(path) as f:
        cfg = yaml.safe_load(f)
    family = cfg.get("family")
    if family not in ("gpt", "llama", "bert"):
        sys.exit(f"gpt_train_peer: {path}: family is {family!r}, expected gpt, llama or bert")
    # The family's config defaults (include/ptft/models/gpt.h, llama.h, bert.h) for keys the preset
    # leaves out.
    out = dict(llama_model.DEFAULTS) if family == "llama" else dict(bert_model.DEFAULTS) if family == "bert" else dict(
        vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12, n_inner=0, embd_pdrop=0.0,
        attn_pdrop=0.0, resid_pdrop=0.0, layer_norm_epsilon=1e-5, initializer_range=0.02)
    for k, v in cfg.items():
        if k == "family":
            continue
        if k not in out:
            sys.exit(f"gpt_train_peer: {path}: key {k!r} is not modelled by this peer")
        out[k] = v
    if family == "gpt" and (out["embd_pdrop"] or out["attn_pdrop"] or out["resid_pdrop"]):
        sys.exit(f"gpt_train_peer: {path}: dropout > 0 is not modelled by this peer")
    if context:
        out["n_positions" if family == "gpt" else "max_position_embeddings"] = context
    out["family"] = family
    return out


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_head = c["n_head"]
        self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"])
        self.c_proj = nn.Linear(c["n_embd"], c["n_embd"])
        T = c["n_positions"]
        self.register_buffer("bias", torch.tril(torch.ones(T, T)).view(1, 1, T, T), persistent=False)

    def forward(self, x, cache=None):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)                                 # 3 x (B,T,C)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)           # (B,nh,T,hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if cache is not None:                                                     # generation (generate_peer.py)
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)  # (B,nh,Tk,hs)
            cache["k"], cache["v"] = k, v
        Tk = k.size(2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))          # (B,nh,T,Tk)
        att = att.masked_fill(self.bias[:, :, Tk - T:Tk, :Tk] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v                                                               # (B,nh,T,hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        inner = c["n_inner"] or 4 * c["n_embd"]
        self.c_fc = nn.Linear(c["n_embd"], inner)
        self.c_proj = nn.Linear(inner, c["n_embd"])

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        self.attn = CausalSelfAttention(c)
        self.ln_2 = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        self.mlp = Mlp(c)

    def forward(self, x, cache=None):
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))


class Gpt(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c["vocab_size"], c["n_embd"]),
            wpe=nn.Embedding(c["n_positions"], c["n_embd"]),
            h=nn.ModuleList([Block(c) for _ in range(c["n_layer"])]),
            ln_f=nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])))
        # GPT-2 init, as GptImpl's constructor: N(0, std), zero biases, unit LayerNorm weights,
        # residual projections N(0, std / sqrt(2 n_layer)).
        std = c["initializer_range"]
        with torch.no_grad():
            for name, p in self.named_parameters():
                if "ln_" in name:
                    p.fill_(1.0) if name.endswith("weight") else p.zero_()
                elif name.endswith("bias"):
                    p.zero_()
                elif "c_proj.weight" in name:
                    p.normal_(0.0, std / math.sqrt(2.0 * c["n_layer"]))
                else:
                    p.normal_(0.0, std)

    def forward(self, idx, caches=None):
        T = idx.size(1)
        past = caches[0]["k"].size(2) if caches and "k" in caches[0] else 0
        pos = torch.arange(past, past + T, dtype=torch.long, device=idx.device)          # (T)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)                        # (B,T,C)
        for i, block in enumerate(self.transformer.h):
            x = block(x, None if caches is None else caches[i])
        x = self.transformer.ln_f(x)
        return F.linear(x, self.transformer.wte.weight)                                  # tied head: (B,T,V)

    def flops_per_token(self):
        n = sum(p.numel() for p in self.parameters()) - self.c["n_positions"] * self.c["n_embd"]
        forward = 2.0 * n + 4.0 * self.c["n_layer"] * self.c["n_positions"] * self.c["n_embd"]
        return 3.0 * forward  # forward + backward


def param_groups(model, weight_decay):
    # ptft's ModelImpl::no_weight_decay: no decay for < 2-D tensors and the embeddings.
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        skip = p.dim() < 2 or any(s in name for s in ("embed", "wte", "wpe"))
        (no_decay if skip else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def train(args):
    c = read_preset(args.preset, args.context)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    models = {"gpt": Gpt, "llama": llama_model.Llama, "bert": bert_model.BertMlm}
    classify = c["family"] == "bert" and args.task == "classify"
    model = (bert_model.BertClassifier(c) if classify else models[c["family"]](c)).to(device)
    model.train()
    trained = model
    if world > 1:
        import torch.distributed as dist
        dist.init_process_group("gloo")
        trained = torch.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=25)
        torch.manual_seed(args.seed + rank)  # each rank its own batches
    # On CUDA the fused AdamW (torch >= 2.0), as a PyTorch user on a GPU would take.
    fast = dict(fused=True) if device.type == "cuda" else dict(foreach=args.foreach)
    opt = torch.optim.AdamW(param_groups(model, 0.1), lr=3e-4, betas=(0.9, 0.95), eps=1e-8, **fast)
    B, V = args.batch_size, c["vocab_size"]
    T = c["n_positions"] if c["family"] == "gpt" else c["max_position_embeddings"]
    amp = args.precision == "bf16"
    params = sum(p.numel() for p in model.parameters())
    result = {"peak_rss_mb": None, "params": params, "flops_per_token": model.flops_per_token(),
              "precision": args.precision, "threads": torch.get_num_threads(),
              "adamw": "fused" if device.type == "cuda" else "foreach" if args.foreach else "for-loop",
              "torch": torch.__version__,
              "batch_size": B, "context": T, "world_size": world, "device": str(device)}
    times, warm_times = [], []
    state = {"step": 0, "t0": time.perf_counter()}
    lock = threading.Lock()

    def report(extra):
        if rank != 0:
            return
        out = dict(result, **extra)
        out["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(out), flush=True)

    def on_time_limit():
        with lock:
            if times:
                step_s = statistics.median(times)
                report({"tokens_per_s": B * T / step_s, "step_ms": step_s * 1e3, "steps": len(times),
                        "truncated": True})
            else:
                slowest = max([time.perf_counter() - state["t0"]] + warm_times[1:])
                report({"tokens_per_s": None, "tokens_per_s_below": B * T / slowest, "step_ms_above": slowest * 1e3,
                        "steps": 0, "step_in_flight": state["step"] + 1, "time_limit_s": args.time_limit})
            os._exit(0)

    if args.time_limit > 0:
        watchdog = threading.Timer(args.time_limit, on_time_limit)
        watchdog.daemon = True
        watchdog.start()
    for step in range(args.warmup_steps + args.steps):
        if classify:
            x, mask, y = (t.to(device) for t in bert_model.classification_batch(B, T, V))  # (B,T) x2, (B)
        elif c["family"] == "bert":
            x, y = (t.to(device) for t in bert_model.mlm_batch(B, T, V))                  # (B,T) each
        else:
            window = torch.randint(V, (B, T + 1)).to(device)                             # (B,T+1)
            x, y = window[:, :-1].contiguous(), window[:, 1:].contiguous()
        t0 = time.perf_counter()
        with lock:
            state.update(step=step, t0=t0)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            if classify:
                out = trained(x, mask), y
            else:
                out = trained(x, y) if c["family"] == "bert" else (trained(x), y.view(-1))
        logits, targets = out
        loss_sum = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets, reduction="sum")
        (loss_sum / targets.numel()).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss = loss_sum.item() / targets.numel()
        if not math.isfinite(loss):
            sys.exit(f"gpt_train_peer: loss {loss} at step {step}")
        with lock:
            (times if step >= args.warmup_steps else warm_times).append(time.perf_counter() - t0)
    with lock:
        step_s = statistics.median(times)
        report({"tokens_per_s": B * T * world / step_s, "step_ms": step_s * 1e3, "steps": len(times), "loss": loss})
        os._exit(0)  # the watchdog must not fire after this line


def measure_peak(args):
    """Best TFLOP/s of a square torch.mm in fp32 and bf16: the device peak for MFU. Each size is
    first run for a second or more (clock ramp-up, BLAS threads, first-touch page faults), then
    timed --peak-reps times. bf16 uses half the size: its fallback kernel is ~30x slower here."""
    out = {}
    for name, dtype, n in (("fp32", torch.float32, args.peak_size), ("bf16", torch.bfloat16, args.peak_size // 2)):
        a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
        t_end = time.perf_counter() + 1.0
        torch.mm(a, b)
        while time.perf_counter() < t_end:
            torch.mm(a, b)
        best = float("inf")
        for _ in range(args.peak_reps):
            t0 = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - t0)
        out["peak_tflops_" + name] = 2.0 * n ** 3 / best / 1e12
        out["matmul_size_" + name] = n
    out["threads"] = torch.get_num_threads()
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", help="ptft model preset YAML (configs/models/*.yaml)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--context", type=int, default=0, help="tokens per window; 0 = the preset's context")
    ap.add_argument("--steps", type=int, default=10, help="timed steps")
    ap.add_argument("--warmup-steps", type=int, default=3, help="untimed steps first")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                    help="bf16 = torch.autocast('cpu', dtype=torch.bfloat16) around the forward")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (scripts/gpu-check.sh)")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--foreach", action=argparse.BooleanOptionalAction, default=True,
                    help="AdamW's multi-tensor (foreach) implementation; --no-foreach = the for-loop one")
    ap.add_argument("--task", choices=("lm", "classify"), default="lm",
                    help="bert: classify = the sequence classifier's step (BertForSequenceClassification)")
    ap.add_argument("--time-limit", type=float, default=0, help="seconds; 0 = none (see the header)")
    ap.add_argument("--measure-peak", action="store_true", help="print the matmul peak and exit")
    ap.add_argument("--peak-size", type=int, default=2048)
    ap.add_argument("--peak-reps", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.measure_peak:
        measure_peak(args)
    elif args.preset:
        train(args)
    else:
        ap.error("--preset is required (or --measure-peak)")


if __name__ == "__main__":
    main()
