"""Tensor basics in the style of PyTorch's "Tensors" tutorial (60-minute blitz)."""

import numpy as np
import torch

device = "cuda" if torch.cuda.is_available() else "cpu"
if torch.backends.mps.is_available():
    device = "mps"
print(f"Using {device} device; cuda devices: {torch.cuda.device_count()}")
torch.manual_seed(0)
torch.cuda.manual_seed_all(0)

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
print(x_data, x_np.dtype, x_data.type())
x_ones = torch.ones_like(x_data)
print(f"Ones Tensor: \n {x_ones} \n")
x_float = x_data.type(torch.float32)
print(x_float.type(), x_float.nelement(), x_float.numel())

shape = (2, 3)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)
print(f"Ones Tensor: \n {ones_tensor} \n Zeros Tensor: \n {zeros_tensor}")
tensor = torch.arange(12.0).reshape(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")
tensor = tensor.to(device)

print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor)
t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(t1.shape)

y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T, out=y3)
print(y1, bool((y1 == y3).all()), bool((y1 == y2).all()))
z1 = tensor * tensor
z3 = torch.empty(0)
torch.mul(tensor, tensor, out=z3)
print(z1.sum(), z3.sum())
agg = tensor.sum()
agg_item = agg.item()
print(agg_item, type(agg_item))
print(f"{tensor} \n")
tensor.add_(5)
print(tensor)

print(torch.mm(tensor, tensor.t())[0])
b = torch.arange(24.0).view(2, 3, 4)
print(torch.bmm(b, b.transpose(1, 2)))
print(torch.norm(tensor), tensor.norm(dim=1), torch.linalg.norm(tensor, ord=1, dim=0))
v = torch.tensor([3, 1, 2, 3, 1, 5])
print(torch.unique(v), v.unique(return_counts=True), torch.unique(v, return_inverse=True))
print(torch.roll(torch.arange(10), 3), torch.arange(6).view(2, 3).flip(1))
print(
    torch.tensor([1, 2, 3]).repeat_interleave(2),
    torch.repeat_interleave(torch.tensor([[1, 2], [3, 4]]), 2, dim=0),
)
print(torch.inf, -torch.inf, torch.pi, torch.e, torch.tensor([torch.inf, torch.nan]))
print(torch.tensor([1.0, -1.0]).clamp(min=0), torch.where(v > 2, v, torch.zeros_like(v)))
print(torch.div(torch.tensor([7, -7]), 2, rounding_mode="floor"), torch.tensor([7, -7]) // 2)

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x**2).sum() + torch.add(input=x, other=x, alpha=2).mean()
y.backward()
print(y, x.grad, y.grad_fn is not None, x.is_leaf)
with torch.no_grad():
    print((x * 2).requires_grad)
print(x.detach().numpy(), x.tolist())
