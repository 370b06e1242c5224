"""A character-level LSTM language model, in the style of the classic "char-rnn" examples and
PyTorch's word-language-model example: Embedding, a batch-first two-layer LSTM and a Linear
head, trained with Adam and gradient clipping, then sampled greedily and with multinomial."""

import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(42)
text = " ".join(json.__doc__.split())[:400].lower()  # a docstring from the standard library
chars = sorted(set(text))
vocab_size = len(chars)
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for ch, i in stoi.items()}
encode = lambda s: [stoi[c] for c in s]  # noqa: E731
decode = lambda ids: "".join(itos[i] for i in ids)  # noqa: E731
data = torch.tensor(encode(text), dtype=torch.long)
print(f"{len(text)} characters, {vocab_size} distinct; data {data.shape} {data.dtype}")
print(repr(text[:60]))


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim=16, hidden_size=32, num_layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, hidden=None):
        out, hidden = self.lstm(self.embed(idx), hidden)
        return self.head(out), hidden


model = CharLSTM(vocab_size)
rng = np.random.default_rng(7)
state = model.state_dict()
for name in sorted(state):  # the same starting weights in both libraries
    state[name] = torch.tensor(
        rng.uniform(-0.3, 0.3, tuple(state[name].shape)), dtype=torch.float32
    )
model.load_state_dict(state)
print(model)
for name, p in model.lstm.named_parameters():
    print(f"  {name:15s} {tuple(p.shape)}")

seq_len, batch_size = 32, 8
starts = torch.tensor(rng.integers(0, len(data) - seq_len - 1, size=(6, batch_size)))
optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
model.train()
for step in range(40):
    ix = starts[step % len(starts)]
    x = torch.stack([data[i : i + seq_len] for i in ix.tolist()])
    y = torch.stack([data[i + 1 : i + seq_len + 1] for i in ix.tolist()])
    logits, _ = model(x)
    loss = F.cross_entropy(logits.reshape(-1, vocab_size), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    if step % 5 == 0 or step == 39:
        print(f"step {step:2d} loss {loss.item():.4f} grad norm {norm.item():.4f}")


@torch.no_grad()
def generate(prompt, n, sample=None):
    model.eval()
    idx = torch.tensor([encode(prompt)])
    logits, hidden = model(idx)  # warm the state up on the prompt
    out = list(idx[0].tolist())
    for _ in range(n):
        probs = F.softmax(logits[:, -1, :] / 0.8, dim=-1)
        nxt = sample(probs) if sample else probs.argmax(dim=-1, keepdim=True)
        out.append(nxt.item())
        logits, hidden = model(nxt.view(1, 1), hidden)
    return decode(out)


print("greedy:", repr(generate("json ", 40)))
h, c = model(torch.tensor([encode("json")]))[1]
print("state", tuple(h.shape), tuple(c.shape), f"{h.abs().sum().item():.4f} {c.sum().item():.4f}")

g = torch.Generator().manual_seed(1234)
a = generate("the ", 30, lambda p: torch.multinomial(p, num_samples=1, generator=g))
g.manual_seed(1234)
b = generate("the ", 30, lambda p: torch.multinomial(p, num_samples=1, generator=g))
print("multinomial: reproducible", a == b, "length", len(a), "in vocabulary", set(a) <= set(chars))
draws = torch.multinomial(torch.tensor([0.0, 1.0, 0.0]), 5, replacement=True)
print("a certain outcome:", draws.tolist())

uniform = np.random.default_rng(3).random(30)  # inverse-CDF sampling with shared uniforms
u = iter(uniform.tolist())


def sample(p):
    return (p.cumsum(dim=-1) < next(u)).sum(dim=-1, keepdim=True).clamp(max=vocab_size - 1)


print("sampled:", repr(generate("the ", 30, sample)))
