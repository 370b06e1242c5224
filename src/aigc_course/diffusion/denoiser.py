r"""The noise predictor $\epsilon_\theta(x_t, t, y)$: a residual MLP conditioned on the timestep
and on a class label.

For an 8×8 digit a U-Net is not needed: the 64 pixels go through a stack of pre-norm residual
blocks (as in a transformer's MLP half), and the conditioning vector

$$c = \operatorname{MLP}(e(t)) + E[y]$$

(a sinusoidal timestep embedding $e(t)$, see :mod:`.embeddings`, plus a learned label embedding)
is added to the input of every block's activation:

$$h \leftarrow h + W_2\,\operatorname{ReLU}\big(W_1 \operatorname{LN}(h) + c\big).$$

The label embedding has one extra row, :attr:`Denoiser.null_label` ``= num_classes``, meaning
"no label". Training replaces 10% of the labels with it, so one network learns both
$\epsilon_\theta(x_t, t, y)$ and the unconditional $\epsilon_\theta(x_t, t, \varnothing)$ that
classifier-free guidance combines (see :mod:`.sampling`). Parameter names match the torch twin
in :mod:`.torch_denoiser` one to one. See chapter 10.
"""

from __future__ import annotations

from .. import nn
from .._creation import as_tensor, from_numpy
from .._tensor import Tensor
from ..nn import functional as F
from .embeddings import timestep_embedding


class ResidualBlock(nn.Module):
    r"""$h + W_2\,\operatorname{ReLU}(W_1 \operatorname{LN}(h) + c)$."""

    def __init__(self, hidden: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.fc2 = nn.Linear(hidden, hidden)

    def forward(self, h: Tensor, c: Tensor) -> Tensor:
        return h + self.fc2(F.relu(self.fc1(self.norm(h)) + c))  # (B, C)


class Denoiser(nn.Module):
    """Predicts the noise in ``x`` (shape (B, 64) or (B, 8, 8)) at timesteps ``t`` for ``labels``.

    ``t`` is an int or B ints; ``labels`` are B ints in ``0..num_classes``, where
    ``num_classes`` (:attr:`null_label`) means "no label".

    >>> import aigc_course as ac
    >>> _ = ac.manual_seed(0)
    >>> model = Denoiser()
    >>> sum(p.numel() for p in model.parameters())
    564288
    >>> tuple(model(ac.randn(2, 8, 8), 999, [3, model.null_label]).shape)
    (2, 8, 8)
    """

    def __init__(
        self,
        num_pixels: int = 64,
        num_classes: int = 10,
        hidden: int = 256,
        num_blocks: int = 3,
    ):
        super().__init__()
        self.num_pixels, self.num_classes, self.hidden = num_pixels, num_classes, hidden
        self.null_label = num_classes
        self.time_mlp = nn.Sequential(
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden)
        )
        self.label_emb = nn.Embedding(num_classes + 1, hidden)  # row num_classes: "no label"
        self.inp = nn.Linear(num_pixels, hidden)
        self.blocks = nn.ModuleList(ResidualBlock(hidden) for _ in range(num_blocks))
        self.norm = nn.LayerNorm(hidden)
        self.out = nn.Linear(hidden, num_pixels)

    def forward(self, x: Tensor, t, labels) -> Tensor:
        B = x.shape[0]
        t = t.numpy() if isinstance(t, Tensor) else t
        t_emb = from_numpy(timestep_embedding(t, self.hidden))  # (1 or B, C)
        labels = as_tensor(labels).long()
        c = self.time_mlp(t_emb) + self.label_emb(labels)  # (B, C)
        h = self.inp(x.reshape(B, self.num_pixels)) + c  # (B, C)
        for block in self.blocks:
            h = block(h, c)  # (B, C)
        return self.out(F.relu(self.norm(h))).reshape(x.shape)  # like x
