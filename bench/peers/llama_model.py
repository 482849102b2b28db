"""The llama family in PyTorch eager, for bench/peers/gpt_train_peer.py: the same architecture as
ptft's src/models/llama.cpp (and Hugging Face's LlamaForCausalLM / Qwen2 / Qwen3), written as a
PyTorch user writes it: RMSNorm in float32, rotary embeddings with rotate_half and cos/sin tables
made once, grouped-query attention by repeating the key/value heads, SwiGLU MLP, tied or untied
head; attention through F.scaled_dot_product_attention when this torch has it (>= 2.0), else the
explicit q k^T, causal mask and softmax. Init as LlamaImpl's: N(0, initializer_range) for
projections and embeddings, zero biases, unit norm weights.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# LlamaConfig's defaults (include/ptft/models/llama.h) for keys a preset leaves out.
DEFAULTS = dict(model_type="llama", vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                num_attention_heads=32, num_key_value_heads=0, head_dim=0, max_position_embeddings=2048,
                rms_norm_eps=1e-6, rope_theta=10000.0, rope_type="default", rope_factor=1.0,
                rope_low_freq_factor=1.0, rope_high_freq_factor=4.0, rope_original_max_position_embeddings=8192,
                qkv_bias=False, o_bias=False, mlp_bias=False, qk_norm=False, tie_word_embeddings=False,
                initializer_range=0.02)


class RmsNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        C, nh = c["hidden_size"], c["num_attention_heads"]
        self.nh, self.nkv = nh, c["num_key_value_heads"] or nh
        self.hs = c["head_dim"] or C // nh
        self.q_proj = nn.Linear(C, nh * self.hs, bias=c["qkv_bias"])
        self.k_proj = nn.Linear(C, self.nkv * self.hs, bias=c["qkv_bias"])
        self.v_proj = nn.Linear(C, self.nkv * self.hs, bias=c["qkv_bias"])
        self.o_proj = nn.Linear(nh * self.hs, C, bias=c["o_bias"])
        self.q_norm = RmsNorm(self.hs, c["rms_norm_eps"]) if c["qk_norm"] else None
        self.k_norm = RmsNorm(self.hs, c["rms_norm_eps"]) if c["qk_norm"] else None

    def forward(self, x, cos, sin, cache=None):
        """cache: None, or a dict that keeps this layer's keys/values (B,nkv,T_past,hs) across calls."""
        B, T, _ = x.shape
        past = cache["k"].shape[2] if cache and "k" in cache else 0
        q = self.q_proj(x).view(B, T, self.nh, self.hs)
        k = self.k_proj(x).view(B, T, self.nkv, self.hs)
        v = self.v_proj(x).view(B, T, self.nkv, self.hs).transpose(1, 2)           # (B,nkv,T,hs)
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = q.transpose(1, 2), k.transpose(1, 2)                                 # (B,nh,T,hs), (B,nkv,T,hs)
        cos, sin = cos[past:past + T].to(q.dtype), sin[past:past + T].to(q.dtype)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            if past:
                k, v = torch.cat((cache["k"], k), 2), torch.cat((cache["v"], v), 2)
            cache["k"], cache["v"] = k, v
        rep = self.nh // self.nkv
        k = k.repeat_interleave(rep, dim=1)                                         # (B,nh,T,hs)
        v = v.repeat_interleave(rep, dim=1)
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1 and not past)
        else:
            att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hs)                    # (B,nh,T,past+T)
            mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(diagonal=past)
            y = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1) @ v
        return self.o_proj(y.transpose(1, 2).reshape(B, T, self.nh * self.hs))


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        C, I, b = c["hidden_size"], c["intermediate_size"], c["mlp_bias"]
        self.gate_proj, self.up_proj, self.down_proj = nn.Linear(C, I, bias=b), nn.Linear(C, I, bias=b), nn.Linear(I, C, bias=b)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RmsNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RmsNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = Mlp(c)

    def forward(self, x, cos, sin, cache=None):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        if c["rope_type"] != "default":
            raise ValueError("the peer models rope_type default only")
        self.c = c
        C = c["hidden_size"]
        self.embed_tokens = nn.Embedding(c["vocab_size"], C)
        self.layers = nn.ModuleList([Block(c) for _ in range(c["num_hidden_layers"])])
        self.norm = RmsNorm(C, c["rms_norm_eps"])
        self.lm_head = None if c["tie_word_embeddings"] else nn.Linear(C, c["vocab_size"], bias=False)
        hs = c["head_dim"] or C // c["num_attention_heads"]
        inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, hs, 2, dtype=torch.int64).float() / hs))
        freqs = torch.outer(torch.arange(c["max_position_embeddings"]).float(), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if "norm.weight" in name:
                    p.fill_(1.0)
                elif name.endswith("bias"):
                    p.zero_()
                else:
                    p.normal_(0.0, c["initializer_range"])

    def forward(self, idx, caches=None):
        """caches: None, or a list with one dict per layer (filled on the first call): generation."""
        x = self.embed_tokens(idx)
        for i, block in enumerate(self.layers):
            x = block(x, self.cos, self.sin, None if caches is None else caches[i])
        x = self.norm(x)
        return self.lm_head(x) if self.lm_head is not None else F.linear(x, self.embed_tokens.weight)

    def flops_per_token(self):
        # As LlamaImpl::flops_per_unit, x3 for forward + backward.
        c = self.c
        n = sum(p.numel() for p in self.parameters())
        if not c["tie_word_embeddings"]:
            n -= c["vocab_size"] * c["hidden_size"]
        hs = c["head_dim"] or c["hidden_size"] // c["num_attention_heads"]
        forward = 2.0 * n + 4.0 * c["num_hidden_layers"] * c["max_position_embeddings"] * c["num_attention_heads"] * hs
        return 3.0 * forward
