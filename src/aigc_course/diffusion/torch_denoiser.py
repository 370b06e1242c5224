"""The same network as :class:`.denoiser.Denoiser`, written in torch, with the same parameter
names: the shipped weights are trained with it (``scripts/train_digits_ddpm.py``), and the
benchmark and chapter 10 compare the two engines on it. torch is imported only here.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .embeddings import timestep_embedding


class TorchResidualBlock(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.fc2 = nn.Linear(hidden, hidden)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return h + self.fc2(F.relu(self.fc1(self.norm(h)) + c))


class TorchDenoiser(nn.Module):
    """:class:`.denoiser.Denoiser` in torch; ``load_state_dict`` works across the two."""

    def __init__(
        self, num_pixels: int = 64, num_classes: int = 10, hidden: int = 256, num_blocks: int = 3
    ):
        super().__init__()
        self.num_pixels, self.num_classes, self.hidden = num_pixels, num_classes, hidden
        self.null_label = num_classes
        self.time_mlp = nn.Sequential(
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden)
        )
        self.label_emb = nn.Embedding(num_classes + 1, hidden)
        self.inp = nn.Linear(num_pixels, hidden)
        self.blocks = nn.ModuleList(TorchResidualBlock(hidden) for _ in range(num_blocks))
        self.norm = nn.LayerNorm(hidden)
        self.out = nn.Linear(hidden, num_pixels)

    def forward(self, x: torch.Tensor, t, labels) -> torch.Tensor:
        B = x.shape[0]
        t = t.cpu().numpy() if isinstance(t, torch.Tensor) else t
        t_emb = torch.from_numpy(timestep_embedding(t, self.hidden)).to(x.device)
        labels = torch.as_tensor(labels, device=x.device).long()
        c = self.time_mlp(t_emb) + self.label_emb(labels)
        h = self.inp(x.reshape(B, self.num_pixels)) + c
        for block in self.blocks:
            h = block(h, c)
        return self.out(F.relu(self.norm(h))).reshape(x.shape)
