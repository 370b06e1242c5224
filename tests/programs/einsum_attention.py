"""Multi-head attention written with einsum, in the style of ViT/timm's ``Attention`` block and
grouped-query attention in small LLaMA-like models: a fused qkv projection split with unbind,
key/value heads shared with repeat, a padding mask filled with -inf (a fully masked row gives
NaN, found with isnan), a numerically stable softmax with amax, beam reordering with
index_select, and a state_dict saved to a file and loaded into a fresh model."""

import math
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class Attention(nn.Module):
    def __init__(self, dim, num_heads=4, num_kv_heads=2):
        super().__init__()
        self.num_heads, self.num_kv_heads = num_heads, num_kv_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim**-0.5
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(dim, 2 * num_kv_heads * self.head_dim, bias=False)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, key_padding_mask=None):
        B, N, C = x.shape
        q = self.q(x).reshape(B, N, self.num_heads, self.head_dim)
        kv = self.kv(x).reshape(B, N, 2, self.num_kv_heads, self.head_dim).permute(2, 0, 1, 3, 4)
        k, v = kv.unbind(0)  # each B x N x kv_heads x head_dim
        groups = self.num_heads // self.num_kv_heads
        k = k.repeat(1, 1, groups, 1)  # kv head j serves query heads j, j + kv_heads, ...
        v = v.repeat(1, 1, groups, 1)
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) * self.scale
        if key_padding_mask is not None:
            scores = scores.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
        attn = F.softmax(scores, dim=-1)
        out = torch.einsum("bhqk,bkhd->bqhd", attn, v).reshape(B, N, C)
        return self.proj(out), attn


dim, B, N = 16, 3, 5
model = Attention(dim)
rng = np.random.default_rng(11)
state = model.state_dict()
for name in sorted(state):  # the same starting weights in both libraries
    state[name] = torch.tensor(rng.normal(0, 0.3, tuple(state[name].shape)), dtype=torch.float32)
model.load_state_dict(state)
x = torch.tensor(rng.normal(size=(B, N, dim)), dtype=torch.float32, requires_grad=True)

lengths = torch.tensor([5, 3, 0])  # the last sequence is all padding
mask = torch.arange(N)[None, :] >= lengths[:, None]
print("mask\n", mask.int())
out, attn = model(x, key_padding_mask=mask)
print("out", tuple(out.shape), "attn", tuple(attn.shape))
nan_rows = torch.isnan(attn).any(dim=-1)
print("NaN rows per sequence:", nan_rows.sum(dim=(1, 2)).tolist(), torch.isnan(out).any().item())
print("row sums", [round(v, 4) for v in attn[0, 0].sum(-1).tolist()])
print("weights on padding", attn[1, :, :, 3:].abs().sum().item())

# an all-padding sequence has nothing to attend to: NaN flows into the gradients too, so
# training steps keep only sequences with at least one token
valid = lengths > 0
x.grad = None
out, _ = model(x[valid], key_padding_mask=mask[valid])
loss = out.pow(2).mean()
loss.backward()
print(
    f"loss {loss.item():.4f}  x.grad {x.grad.abs().sum().item():.4f}",
    "finite:",
    not torch.isnan(x.grad).any().item(),
    x.grad[2].abs().sum().item(),
)
for name, p in model.named_parameters():
    print(f"  {name:12s} grad norm {p.grad.norm().item():.4f}")

# a softmax by hand, stable thanks to amax, against F.softmax
x = x.detach()
scores = torch.einsum("bnd,bmd->bnm", x, x) / math.sqrt(dim)
print("einsum traces", [round(v, 4) for v in torch.einsum("bii->b", scores).tolist()])
scores = scores.masked_fill(torch.eye(N, dtype=torch.bool), -torch.inf)
shifted = scores - scores.amax(dim=-1, keepdim=True)
manual = shifted.exp() / shifted.exp().sum(dim=-1, keepdim=True)
print("manual softmax matches:", torch.allclose(manual, F.softmax(scores, -1), atol=1e-6))
print("amax", [round(v, 4) for v in scores.amax(dim=(1, 2)).tolist()])
print(
    "diagonal gets",
    manual.diagonal(dim1=-2, dim2=-1).sum().item(),
    torch.isinf(scores).sum().item(),
)
print("same as F.softmax:", torch.equal(manual.argmax(-1), F.softmax(scores, -1).argmax(-1)))
print("finite scores", torch.nan_to_num(scores, neginf=-1e4).amin().item() > -1e5)

# beam search keeps a cache per beam and reorders it by the surviving beams
cache = torch.arange(4 * 3, dtype=torch.float32).view(4, 3).repeat(1, 2)
beam_idx = torch.tensor([2, 2, 0, 3])
print("reordered cache\n", cache.index_select(0, beam_idx))
first, *rest = cache.unbind(dim=1)
print("unbind:", len(rest) + 1, first.tolist())

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "attention.pt")
    torch.save(model.state_dict(), path)
    fresh = Attention(dim)
    print("fresh differs:", (fresh.q.weight != model.q.weight).any().item())
    missing = fresh.load_state_dict(torch.load(path, weights_only=True))
    print(missing)
    with torch.no_grad():
        a, _ = model(x[:2], key_padding_mask=mask[:2])
        b, _ = fresh(x[:2], key_padding_mask=mask[:2])
    print("reloaded model agrees:", torch.allclose(a, b), sorted(torch.load(path).keys()))
