"""A small convolutional network on scikit-learn's 8x8 digits, in the style of PyTorch's
"Training a Classifier" (CIFAR-10) tutorial and the classic MNIST example: Conv2d, BatchNorm2d,
MaxPool2d, flatten, CrossEntropyLoss and Adam over a DataLoader, train() and eval() modes."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]  # N x 1 x 8 x 8
labels = digits.target.astype(np.int64)
X_train, y_train = torch.from_numpy(images[:320]), torch.from_numpy(labels[:320])
X_test, y_test = torch.from_numpy(images[1500:1700]), torch.from_numpy(labels[1500:1700])
trainloader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=False)
testloader = DataLoader(TensorDataset(X_test, y_test), batch_size=50)
print("train", tuple(X_train.shape), "test", tuple(X_test.shape), X_train.dtype)
classes = tuple(str(d) for d in range(10))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 10)
        self.dropout = nn.Dropout(0.0)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))  # 8 x 4 x 4
        x = self.pool(F.relu(self.bn2(self.conv2(x))))  # 16 x 2 x 2
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


net = Net()
rng = np.random.default_rng(0)
state = net.state_dict()
for name, p in net.named_parameters():  # the same starting weights in both libraries
    if name.startswith(("conv", "fc")):
        fan_in = p.shape[1] * int(np.prod(p.shape[2:])) if p.dim() > 1 else p.shape[0]
        state[name] = torch.tensor(
            rng.uniform(-1, 1, tuple(p.shape)) / np.sqrt(fan_in), dtype=torch.float32
        )
net.load_state_dict(state)
print(net)
print("parameters:", sum(p.numel() for p in net.parameters() if p.requires_grad))
print("buffers:", [name for name, _ in net.named_buffers()])

criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(net.parameters(), lr=0.01)


def evaluate():
    net.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for inputs, targets in testloader:
            outputs = net(inputs)
            loss_sum += criterion(outputs, targets).item() * targets.size(0)
            _, predicted = torch.max(outputs.data, 1)
            total += targets.size(0)
            correct += (predicted == targets).sum().item()
    return loss_sum / total, correct / total


for epoch in range(3):
    net.train()
    running_loss = 0.0
    for i, (inputs, targets) in enumerate(trainloader):
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 5 == 4:
            print(f"[{epoch + 1}, {i + 1:3d}] loss: {running_loss / 5:.4f}")
            running_loss = 0.0
    test_loss, acc = evaluate()
    print(f"epoch {epoch + 1}: test loss {test_loss:.4f}, accuracy {100 * acc:.1f}%")

print("running mean", [round(v, 4) for v in net.bn1.running_mean.tolist()])
print("running var", [round(v, 4) for v in net.bn1.running_var.tolist()])
print("batches tracked", net.bn1.num_batches_tracked.item())
net.eval()
with torch.no_grad():
    logits = net(X_test[:8])
    probs = F.softmax(logits, dim=1)
    pred = logits.argmax(dim=1)
print("predicted:", " ".join(classes[j] for j in pred.tolist()))
print("truth:    ", " ".join(classes[j] for j in y_test[:8].tolist()))
print("confidence", [f"{p:.4f}" for p in probs.max(dim=1).values.tolist()])
correct_per_class = torch.zeros(10, dtype=torch.long)
with torch.no_grad():
    all_pred = net(X_test).argmax(1)
for c in range(10):
    mask = y_test == c
    correct_per_class[c] = (all_pred[mask] == c).sum()
per_class = torch.bincount(y_test, minlength=10).tolist()
print("correct per class", correct_per_class.tolist(), "of", per_class)
