"""BERT with its masked-LM head or as a sequence classifier in PyTorch eager, for
bench/peers/gpt_train_peer.py: the same model as ptft's src/models/bert.cpp (and Hugging Face's
BertForMaskedLM / BertForSequenceClassification): word + position + token-type (0) embeddings,
LayerNorm, dropout; post-LN encoder layers (separate q/k/v, softmax attention with an additive
padding mask where one is given and attention dropout, output dense + dropout + residual +
LayerNorm, erf-GELU MLP + dropout + residual + LayerNorm); the MLM head (dense, GELU, LayerNorm,
decoder tied to the word embeddings + bias) applied, as in ptft, only to the selected positions;
the classifier: tanh pooler on [CLS], dropout, linear. Written the way a PyTorch user writes it:
explicit q k^T and softmax (torch 1.13 has no scaled_dot_product_attention).

Batches: BERT's masking as ptft's MlmWindows draws it (data/mlm_windows.h): [CLS] ids [SEP] with
ids uniform over the non-special tokens, each non-special position selected with probability
0.15 (at least one per row), selected ones [MASK] with 0.8, a random token with 0.1, kept with
0.1; targets the original ids at the selected positions, -100 elsewhere.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# BertConfig's defaults (include/ptft/models/bert.h) for keys a preset leaves out.
DEFAULTS = dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                intermediate_size=3072, max_position_embeddings=512, type_vocab_size=2, hidden_dropout_prob=0.1,
                attention_probs_dropout_prob=0.1, layer_norm_eps=1e-12, initializer_range=0.02)
PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4  # ptft's BERT specials, in the order of tokenizer_specials
FIRST_WORD = 5


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        C = c["hidden_size"]
        self.nh = c["num_attention_heads"]
        self.query, self.key, self.value = nn.Linear(C, C), nn.Linear(C, C), nn.Linear(C, C)
        self.attention_out = nn.Linear(C, C)
        self.attention_norm = nn.LayerNorm(C, eps=c["layer_norm_eps"])
        self.intermediate = nn.Linear(C, c["intermediate_size"])
        self.output = nn.Linear(c["intermediate_size"], C)
        self.output_norm = nn.LayerNorm(C, eps=c["layer_norm_eps"])
        self.p_hidden, self.p_attention = c["hidden_dropout_prob"], c["attention_probs_dropout_prob"]

    def forward(self, x, add_mask=None):
        """add_mask: None, or (B,1,1,T) added to the scores (0 on tokens, -inf on padding)."""
        B, T, C = x.shape
        hs = C // self.nh
        q = self.query(x).view(B, T, self.nh, hs).transpose(1, 2)                      # (B,nh,T,hs)
        k = self.key(x).view(B, T, self.nh, hs).transpose(1, 2)
        v = self.value(x).view(B, T, self.nh, hs).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hs)                               # (B,nh,T,T)
        att = torch.softmax(scores if add_mask is None else scores + add_mask, dim=-1)
        att = F.dropout(att, self.p_attention, self.training)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        h = self.attention_norm(x + F.dropout(self.attention_out(y), self.p_hidden, self.training))
        m = F.dropout(self.output(F.gelu(self.intermediate(h))), self.p_hidden, self.training)
        return self.output_norm(h + m)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        C = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], C)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], C)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], C)
        self.embedding_norm = nn.LayerNorm(C, eps=c["layer_norm_eps"])
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))

    def forward(self, ids, attention_mask=None):
        """ids (B,T), attention_mask None or (B,T) 1 = token -> (B,T,C)."""
        T = ids.size(1)
        pos = torch.arange(T, device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(pos) + self.token_type_embeddings.weight[0]
        x = F.dropout(self.embedding_norm(x), self.c["hidden_dropout_prob"], self.training)
        add_mask = None
        if attention_mask is not None:  # HF's extended attention mask
            add_mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, add_mask)
        return x

    def forward_flops_per_token(self):
        """2 per layer weight and 4 L T C for the attention products (one forward)."""
        c = self.c
        weights = sum(p.numel() for p in self.layers.parameters())
        return 2.0 * weights + 4.0 * c["num_hidden_layers"] * c["max_position_embeddings"] * c["hidden_size"]


def init_weights(model, std):
    with torch.no_grad():  # HF's _init_weights: N(0, initializer_range), zero biases, unit norms
        for name, p in model.named_parameters():
            if "norm" in name:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            elif name.endswith("bias"):
                p.zero_()
            else:
                p.normal_(0.0, std)


class BertMlm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        C = c["hidden_size"]
        self.bert = Encoder(c)
        self.head_dense = nn.Linear(C, C)
        self.head_norm = nn.LayerNorm(C, eps=c["layer_norm_eps"])
        self.head_bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        init_weights(self, c["initializer_range"])

    def forward(self, ids, targets):
        """ids, targets (B,T) -> logits (N,V) of the N selected positions, their targets (N)."""
        x = self.bert(ids)
        where = (targets.reshape(-1) != -100).nonzero().squeeze(1)                        # (N)
        h = x.reshape(-1, x.size(-1)).index_select(0, where)                               # (N,C)
        h = self.head_norm(F.gelu(self.head_dense(h)).float())
        return F.linear(h, self.bert.word_embeddings.weight, self.head_bias), targets.reshape(-1).index_select(0, where)

    def flops_per_token(self):
        """Forward + backward (x 3): the encoder's, and the head on the 15 % selected positions."""
        C, V = self.c["hidden_size"], self.c["vocab_size"]
        return 3.0 * (self.bert.forward_flops_per_token() + 0.15 * 2.0 * (C * C + C * V))


class BertClassifier(nn.Module):
    CLASSES = 4  # the bench's classification data has 4 labels

    def __init__(self, c):
        super().__init__()
        self.c = c
        C = c["hidden_size"]
        self.bert = Encoder(c)
        self.pooler = nn.Linear(C, C)
        self.classifier = nn.Linear(C, self.CLASSES)
        init_weights(self, c["initializer_range"])

    def forward(self, ids, attention_mask):
        """ids, attention_mask (B,T) -> logits (B,K)."""
        pooled = torch.tanh(self.pooler(self.bert(ids, attention_mask)[:, 0]))
        return self.classifier(F.dropout(pooled, self.c["hidden_dropout_prob"], self.training))

    def flops_per_token(self):
        """Forward + backward (x 3) of the encoder; pooler and classifier are negligible."""
        return 3.0 * self.bert.forward_flops_per_token()


def classification_batch(B, T, V):
    """(input ids, attention mask, labels): full-length [CLS] ids [SEP] windows, as ptft's
    batches of texts longer than the context; random labels of 4 classes."""
    ids = torch.randint(FIRST_WORD, V, (B, T))
    ids[:, 0], ids[:, -1] = CLS, SEP
    return ids, torch.ones(B, T, dtype=torch.long), torch.randint(BertClassifier.CLASSES, (B,))


def mlm_batch(B, T, V, p=0.15):
    """(input ids, targets), each (B,T) int64, as the module docstring says."""
    words = torch.randint(FIRST_WORD, V, (B, T))
    words[:, 0], words[:, -1] = CLS, SEP
    inner = torch.zeros(B, T, dtype=torch.bool)
    inner[:, 1:-1] = True
    selected = (torch.rand(B, T) < p) & inner
    none = ~selected.any(1)
    selected[none, 1] = True  # at least one per row
    targets = torch.where(selected, words, torch.full_like(words, -100))
    roll = torch.rand(B, T)
    ids = words.clone()
    ids[selected & (roll < 0.8)] = MASK
    swap = selected & (roll >= 0.8) & (roll < 0.9)
    ids[swap] = torch.randint(FIRST_WORD, V, (int(swap.sum()),))
    return ids, targets
