"""A character-level bigram language model, counted then trained (in the style of makemore)."""

import numpy as np
import torch
import torch.nn.functional as F

words = "emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily".split()
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
V = len(stoi)

N = torch.zeros((V, V), dtype=torch.int32)
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        N[stoi[ch1], stoi[ch2]] += 1
P = (N + 1).float()
P /= P.sum(1, keepdim=True)
print(P.shape, P[0].sum().item(), P.sum())

log_likelihood = 0.0
n = 0
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        log_likelihood += torch.log(P[stoi[ch1], stoi[ch2]])
        n += 1
print(f"{log_likelihood=}")
print(f"nll={-log_likelihood / n}")

xs, ys = [], []
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        xs.append(stoi[ch1])
        ys.append(stoi[ch2])
xs, ys = torch.tensor(xs), torch.tensor(ys)
num = xs.nelement()
print("number of examples:", num)

rng = np.random.default_rng(2147483647)
W = torch.tensor(rng.standard_normal((V, V)), dtype=torch.float32, requires_grad=True)
for k in range(30):
    xenc = F.one_hot(xs, num_classes=V).float()
    logits = xenc @ W
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
    if k % 5 == 0:
        print(k, loss.item())
    W.grad = None
    loss.backward()
    W.data += -10 * W.grad

loss2 = F.cross_entropy(F.one_hot(xs, V).float() @ W, ys)
print("final cross entropy", loss2.item())
for _ in range(3):  # greedy decoding: the most likely next character
    out, ix = [], 0
    for _ in range(8):
        ix = int(
            torch.argmax(F.one_hot(torch.tensor([ix]), num_classes=V).float() @ W, dim=1).item()
        )
        if ix == 0:
            break
        out.append(itos[ix])
    print("".join(out))
