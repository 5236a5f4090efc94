"""model.py -- the Qwen2 architecture in PyTorch, computed exactly as
Monologue's C engine (and Hugging Face's Qwen2ForCausalLM) compute it:

  x = embed[tokens]
  for each layer:
      h = rmsnorm(x) ; q,k,v = h Wq + bq, h Wk + bk, h Wv + bv
      q,k = rope_neox(q,k)           (rotate_half: pairs (i, i + d/2), theta)
      x = x + Wo . softmax(q k^T / sqrt(d) + causal) v    (GQA: kv heads shared)
      x = x + Wdown (silu(Wgate rmsnorm(x)) * Wup rmsnorm(x))
  logits = rmsnorm(x) E^T            (tied embeddings)

RMSNorm runs in float32 whatever the activation dtype (as HF's Qwen2RMSNorm).
Runs on Debian's torch 1.13 (CPU, no scaled_dot_product_attention) and on
PyTorch 2.x + CUDA, where it uses F.scaled_dot_product_attention.
"""
import json
import math
from dataclasses import dataclass, asdict, fields

import torch
import torch.nn as nn
import torch.nn.functional as F

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


@dataclass
class ModelConfig:
    vocab_size: int = 8192
    hidden_size: int = 512
    intermediate_size: int = 1408
    num_hidden_layers: int = 8
    num_attention_heads: int = 8
    num_key_value_heads: int = 2
    max_position_embeddings: int = 512
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = True
    dropout: float = 0.0           # training only; the engine has none
    init_std: float = 0.02

    @property
    def head_dim(self):
        return self.hidden_size // self.num_attention_heads

    def validate(self):
        problems = []
        if self.vocab_size < 259:
            problems.append("vocab_size %d is too small (needs 256 bytes + specials)" % self.vocab_size)
        if self.vocab_size > 65536:
            problems.append("vocab_size %d exceeds the uint16 token files" % self.vocab_size)
        if self.hidden_size % self.num_attention_heads:
            problems.append("hidden_size must be a multiple of num_attention_heads")
        elif self.head_dim % 2:
            problems.append("head_dim must be even for RoPE")
        if self.num_attention_heads % self.num_key_value_heads:
            problems.append("num_attention_heads must be a multiple of num_key_value_heads")
        for f in ("hidden_size", "intermediate_size", "num_hidden_layers", "max_position_embeddings"):
            if getattr(self, f) <= 0:
                problems.append("%s must be positive" % f)
        if not self.tie_word_embeddings:
            problems.append("only tied embeddings are supported")
        if problems:
            raise ValueError("bad model config: " + "; ".join(problems))
        return self

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError("unknown model config keys: %s" % ", ".join(sorted(unknown)))
        return cls(**d).validate()

    @classmethod
    def from_json(cls, path):
        with open(path) as f:
            d = json.load(f)
        return cls.from_dict(d.get("model", d))

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        dtype = x.dtype
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xf.to(dtype)


def rope_tables(head_dim, n_pos, theta, device, offset=0):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=device) / head_dim))
    pos = torch.arange(offset, offset + n_pos, dtype=torch.float32, device=device)
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rope(x, cos, sin):
    # x: [B, H, T, D]; cos/sin: [T, D] in float32
    return (x * cos.to(x.dtype) + rotate_half(x) * sin.to(x.dtype))


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        hd = c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, c.num_attention_heads * hd, bias=True)
        self.k_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * hd, bias=True)
        self.v_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * hd, bias=True)
        self.o_proj = nn.Linear(c.num_attention_heads * hd, c.hidden_size, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        c = self.c
        hd, nh, nkv = c.head_dim, c.num_attention_heads, c.num_key_value_heads
        q = self.q_proj(x).view(B, T, nh, hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, nkv, hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, nkv, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if nkv != nh:
            k = k.repeat_interleave(nh // nkv, dim=1)
            v = v.repeat_interleave(nh // nkv, dim=1)
        p = c.dropout if self.training else 0.0
        if HAS_SDPA:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
            mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            att = att.masked_fill(mask, float("-inf"))
            att = F.softmax(att.float(), dim=-1).to(q.dtype)
            if p > 0:
                att = F.dropout(att, p)
            y = att @ v
        return self.o_proj(y.transpose(1, 2).reshape(B, T, nh * hd))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = MLP(c)
        self.dropout = c.dropout

    def forward(self, x, cos, sin):
        h = self.self_attn(self.input_layernorm(x), cos, sin)
        x = x + F.dropout(h, self.dropout, self.training)
        h = self.mlp(self.post_attention_layernorm(x))
        return x + F.dropout(h, self.dropout, self.training)


class Qwen2(nn.Module):
    """Parameter names follow Hugging Face's Qwen2ForCausalLM without the
    `model.` prefix (export.py maps them to HF and GGUF names)."""

    def __init__(self, config):
        super().__init__()
        self.config = config.validate()
        c = config
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([Block(c) for _ in range(c.num_hidden_layers)])
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.reset_parameters()

    def reset_parameters(self):
        c = self.config
        resid_std = c.init_std / math.sqrt(2 * c.num_hidden_layers)
        for name, p in self.named_parameters():
            if name.endswith("norm.weight") or "layernorm" in name:
                nn.init.ones_(p)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)
            elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                nn.init.normal_(p, 0.0, resid_std)
            else:
                nn.init.normal_(p, 0.0, c.init_std)

    def num_params(self):
        return sum(p.numel() for p in self.parameters())

    def hidden(self, tokens):
        T = tokens.shape[1]
        if T > self.config.max_position_embeddings:
            raise ValueError("sequence of %d tokens exceeds the context of %d" %
                             (T, self.config.max_position_embeddings))
        x = self.embed_tokens(tokens)
        cos, sin = rope_tables(self.config.head_dim, T, self.config.rope_theta, tokens.device)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.norm(x)

    def forward(self, tokens, targets=None):
        """tokens: [B, T] int64. Returns logits [B, T, V] (float32), and the
        mean cross-entropy against targets when given (-100 is ignored)."""
        h = self.hidden(tokens)
        logits = F.linear(h, self.embed_tokens.weight).float()
        if targets is None:
            return logits
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
        return logits, loss

    @torch.no_grad()
    def generate_greedy(self, prompt, n_new):
        """Greedy continuation without a cache (the reference for the engine)."""
        ids = list(prompt)
        for _ in range(n_new):
            ctx = ids[-self.config.max_position_embeddings:]
            logits = self.forward(torch.tensor([ctx], dtype=torch.long))
            ids.append(int(logits[0, -1].argmax()))
        return ids[len(prompt):]
