"""A GRU sequence classifier trained with BCEWithLogitsLoss, in the style of the sentiment
classification tutorials: pick a device (CPU here), move the model and batches to it, a
bidirectional GRU over padded sequences with a padding index, a shuffled DataLoader under a
seeded Generator, SGD with a StepLR schedule, then accuracy and a confusion count."""

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print(f"Using {device} device")

# a toy "sentiment" task: does the sequence hold more tokens from the upper half of the vocab?
rng = np.random.default_rng(5)
vocab, max_len, n = 12, 10, 160
lengths = rng.integers(3, max_len + 1, size=n)
tokens = np.zeros((n, max_len), dtype=np.int64)  # 0 is the padding token
for i, L in enumerate(lengths):
    tokens[i, :L] = rng.integers(1, vocab, size=L)
labels = ((tokens > vocab // 2).sum(1) * 2 > lengths).astype(np.float32)
X, y = torch.from_numpy(tokens), torch.from_numpy(labels)
print("positives:", int(y.sum().item()), "of", len(y))
train_ds, test_ds = TensorDataset(X[:128], y[:128]), TensorDataset(X[128:], y[128:])


class GRUClassifier(nn.Module):
    def __init__(self, vocab, embed=8, hidden=12):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
        self.gru = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, 1)

    def forward(self, x):
        output, h_n = self.gru(self.embedding(x))  # h_n: 2 x B x hidden
        return self.fc(torch.cat([h_n[0], h_n[1]], dim=1)).squeeze(1)


model = GRUClassifier(vocab)
init = np.random.default_rng(1)
state = model.state_dict()
for name in sorted(state):  # the same starting weights in both libraries
    state[name] = torch.tensor(
        init.uniform(-0.4, 0.4, tuple(state[name].shape)), dtype=torch.float32
    )
state["embedding.weight"][0] = 0.0
model.load_state_dict(state)
model = model.to(device)
print(model)
print(
    "on",
    next(model.parameters()).device,
    "gru params",
    [(k, tuple(v.shape)) for k, v in model.gru.state_dict().items()][:4],
)

loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)


def evaluate(ds):
    model.eval()
    with torch.no_grad():
        xb, yb = ds.tensors
        logits = model(xb.to(device))
        preds = (torch.sigmoid(logits) > 0.5).float()
        return loss_fn(logits, yb).item(), (preds == yb).float().mean().item(), preds


for epoch in range(5):
    model.train()
    total = 0.0
    for xb, yb in DataLoader(train_ds, batch_size=32, shuffle=False):
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        total += loss.item() * len(xb)
    scheduler.step()
    test_loss, acc, preds = evaluate(test_ds)
    print(
        f"epoch {epoch}: train loss {total / len(train_ds):.4f} test loss {test_loss:.4f} "
        f"acc {acc:.4f} lr {scheduler.get_last_lr()[0]:.4f}"
    )

yt = test_ds.tensors[1]
tp = ((preds == 1) & (yt == 1)).sum().item()
tn = ((preds == 0) & (yt == 0)).sum().item()
print(
    "confusion: tp",
    tp,
    "tn",
    tn,
    "fp",
    int((preds == 1).sum().item()) - tp,
    "fn",
    int((preds == 0).sum().item()) - tn,
)
print(
    "padding row stays zero:",
    model.embedding.weight[0].abs().sum().item(),
    model.embedding.weight.grad[0].abs().sum().item(),
)
pos_weight = torch.tensor([2.0])
weighted = nn.BCEWithLogitsLoss(pos_weight=pos_weight)(model(X[:8]), y[:8])
print(f"weighted loss {weighted.item():.4f}")

g = torch.Generator().manual_seed(0)
batches = [len(yb) for _, yb in DataLoader(train_ds, batch_size=48, shuffle=True, generator=g)]
print("shuffled batch sizes", batches)
