"""A tiny MLP classifier: Dataset, DataLoader, train, evaluate, save and reload its state dict
(in the style of PyTorch's "Quickstart" tutorial)."""

import os
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(0)
X = rng.standard_normal((96, 4)).astype(np.float32)
y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(np.int64) + (X[:, 3] > 1).astype(np.int64)
train = TensorDataset(torch.from_numpy(X[:64]), torch.from_numpy(y[:64]))
test = TensorDataset(torch.tensor(X[64:]), torch.tensor(y[64:]))
train_dataloader = DataLoader(train, batch_size=16)
test_dataloader = DataLoader(test, batch_size=16)
for Xb, yb in test_dataloader:
    print(f"Shape of X [N, C]: {Xb.shape}; shape of y: {yb.shape} {yb.dtype}")
    break

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print(device, device.type, device.index)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)
        )

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


model = NeuralNetwork().to(device)
with torch.no_grad():  # the same starting weights in both libraries
    for p in model.parameters():
        p.copy_(torch.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)), dtype=torch.float32))
print(model)
print(sum(p.numel() for p in model.parameters()), "parameters")

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def train_loop(dataloader, model, loss_fn, optimizer):
    model.train()
    for batch, (Xb, yb) in enumerate(dataloader):
        Xb, yb = Xb.to(device), yb.to(device)
        loss = loss_fn(model(Xb), yb)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 2 == 0:
            print(
                f"loss: {loss.item():>7f}  "
                f"[{(batch + 1) * len(Xb):>3d}/{len(dataloader.dataset):>3d}]"
            )


def test_loop(dataloader, model, loss_fn):
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for Xb, yb in dataloader:
            pred = model(Xb)
            test_loss += loss_fn(pred, yb).item()
            correct += (pred.argmax(1) == yb).type(torch.float).sum().item()
    test_loss /= len(dataloader)
    correct /= len(dataloader.dataset)
    print(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")


for t in range(4):
    print(f"Epoch {t + 1}\n-------------------------------")
    train_loop(train_dataloader, model, loss_fn, optimizer)
    test_loop(test_dataloader, model, loss_fn)

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "model.pth")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 4}, path)
    checkpoint = torch.load(path, weights_only=True)
    model2 = NeuralNetwork()
    model2.load_state_dict(checkpoint["model"])
    optimizer2 = torch.optim.SGD(model2.parameters(), lr=0.1, momentum=0.9)
    optimizer2.load_state_dict(checkpoint["optimizer"])
    print("epoch", checkpoint["epoch"], sorted(checkpoint["optimizer"]["state"][0]))
    train_loop(train_dataloader, model2, loss_fn, optimizer2)
    train_loop(train_dataloader, model, loss_fn, optimizer)
    print(torch.allclose(model(torch.tensor(X)), model2(torch.tensor(X))))
    adam = torch.optim.Adam(model.parameters(), lr=1e-2)
    train_loop(train_dataloader, model, loss_fn, adam)
    torch.save(adam.state_dict(), path)
    state = torch.load(path)
    print(sorted(state["state"][0]), state["state"][0]["step"], state["param_groups"][0]["lr"])
