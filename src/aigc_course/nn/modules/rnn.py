r"""Recurrent layers: ``RNN``, ``LSTM`` and ``GRU`` (chapter 3).

A recurrent layer reads a sequence one step at a time and carries a hidden state $h_t$ from
step to step. All three share one loop (:meth:`RNNBase.forward`): for each layer and each
direction, project every input step at once (one matrix product, $W_{ih} x_t + b_{ih}$ for all
$t$), then walk through time, where each step needs the previous one. Only the *cell*, the
update of the state at one step, differs. Parameter names, shapes and gate orders are torch's,
so a torch state dict loads unchanged: for layer $k$, ``weight_ih_l{k}`` (gates·H, input),
``weight_hh_l{k}`` (gates·H, H), ``bias_ih_l{k}`` and ``bias_hh_l{k}``, with ``_reverse`` for
the backward direction of a bidirectional layer.

Shapes: input (T, B, C) (or (B, T, C) with ``batch_first=True``, or (T, C) unbatched); output
(T, B, D·H) with D = 2 if bidirectional else 1; states (D·num_layers, B, H).
"""

from __future__ import annotations

import math
import numbers
import warnings

from ..._creation import empty, zeros
from ..._tensor import Tensor
from ...ops.shape import cat, stack
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class RNNBase(Module):
    """What the three layers share: the parameters, the checks and the loop over layers,
    directions and time steps. A subclass sets ``gates`` and writes ``cell``."""

    gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if (
            not isinstance(dropout, numbers.Number)
            or isinstance(dropout, bool)
            or not 0 <= dropout <= 1
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                f"element being zeroed, got dropout={dropout}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                "dropout expects num_layers greater than 1, but got "
                f"dropout={dropout} and num_layers={num_layers}",
                stacklevel=3,
            )
        if hidden_size <= 0:
            raise ValueError(f"hidden_size must be greater than zero, got {hidden_size}")
        if num_layers <= 0:
            raise ValueError(f"num_layers must be greater than zero, got {num_layers}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        D, G, H = 2 if bidirectional else 1, self.gates, hidden_size
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:D]:
                n_in = input_size if layer == 0 else H * D
                name = f"l{layer}{suffix}"
                setattr(self, f"weight_ih_{name}", Parameter(empty(G * H, n_in, dtype=dtype)))
                setattr(self, f"weight_hh_{name}", Parameter(empty(G * H, H, dtype=dtype)))
                if bias:
                    setattr(self, f"bias_ih_{name}", Parameter(empty(G * H, dtype=dtype)))
                    setattr(self, f"bias_hh_{name}", Parameter(empty(G * H, dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Every weight and bias from $U(-1/\sqrt H, 1/\sqrt H)$, as torch does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _weights(self, layer: int, direction: int) -> tuple:
        name = f"l{layer}{'_reverse' if direction else ''}"
        return (
            getattr(self, f"weight_ih_{name}"),
            getattr(self, f"weight_hh_{name}"),
            getattr(self, f"bias_ih_{name}") if self.bias else None,
            getattr(self, f"bias_hh_{name}") if self.bias else None,
        )

    def cell(self, xw: Tensor, state: tuple, w_hh: Tensor, b_hh: Tensor | None) -> tuple:
        """One step: ``xw`` = $W_{ih} x_t + b_{ih}$ (B, gates·H) and the state before → the
        state after (a tuple: ``(h,)``, or ``(h, c)`` for the LSTM)."""
        raise NotImplementedError

    def _check_hidden(self, hx: Tensor, expected: tuple, which: str = "") -> None:
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected hidden{which} size {expected}, got {list(hx.shape)}")

    def _initial_states(self, hx, batched: bool, B: int, like: Tensor) -> list[Tensor]:
        """The initial states as a list (one tensor, or h and c), each (D·num_layers, B, H)."""
        D = 2 if self.bidirectional else 1
        n_states = 2 if isinstance(self, LSTM) else 1
        if hx is None:
            return [zeros(D * self.num_layers, B, self.hidden_size, dtype=like.dtype)] * n_states
        states = list(hx) if n_states == 2 else [hx]
        dims = [s.ndim for s in states]
        want = 3 if batched else 2
        if any(d != want for d in dims):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            if n_states == 2:
                which, got = "hx and cx", f"({dims[0]}-D, {dims[1]}-D) tensors"
            else:
                which, got = "hx", f"{dims[0]}-D tensor"
            raise RuntimeError(f"For {kind} input, {which} should also be {want}-D but got {got}")
        if not batched:
            states = [s.unsqueeze(1) for s in states]
        expected = (D * self.num_layers, B, self.hidden_size)
        for i, s in enumerate(states):
            self._check_hidden(s, expected, f"[{i}]" if n_states == 2 else "")
        return states

    def forward(self, input: Tensor, hx=None):
        name = type(self).__name__
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                "input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.shape[-1]}"
            )
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)  # (T, 1, C)
        if batched and self.batch_first:
            x = x.transpose(0, 1)  # (T, B, C): time first, so x[t] is one step
        T, B = x.shape[0], x.shape[1]
        states = self._initial_states(hx, batched, B, input)
        D = 2 if self.bidirectional else 1
        finals = [[] for _ in states]  # the last state of each layer and direction
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(D):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, direction)
                xw = F.linear(x, w_ih, b_ih)  # (T, B, gates*H): every step's input at once
                state = tuple(s[layer * D + direction] for s in states)  # each (B, H)
                hs = [None] * T
                for t in range(T) if direction == 0 else reversed(range(T)):
                    state = self.cell(xw[t], state, w_hh, b_hh)
                    hs[t] = state[0]
                outputs.append(stack(hs))  # (T, B, H)
                for final, s in zip(finals, state):
                    final.append(s)
            x = outputs[0] if D == 1 else cat(outputs, 2)  # (T, B, D*H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout)
        finals = [stack(f) for f in finals]  # each (D*num_layers, B, H)
        if not batched:
            x, finals = x.squeeze(1), [f.squeeze(1) for f in finals]
        elif self.batch_first:
            x = x.transpose(0, 1)  # (B, T, D*H)
        return x, (tuple(finals) if len(finals) == 2 else finals[0])

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    r"""The plain (Elman) recurrent layer: $h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} +
    b_{hh})$ (or ReLU with ``nonlinearity='relu'``). Returns ``(output, h_n)``.

    >>> import aigc_course as ac
    >>> out, h_n = RNN(3, 5)(ac.randn(7, 2, 3))  # (T, B, C)
    >>> out.shape, h_n.shape
    (aigc_course.Size([7, 2, 5]), aigc_course.Size([1, 2, 5]))

    See chapter 3.
    """

    def __init__(self, input_size: int, hidden_size: int, *args, nonlinearity="tanh", **kwargs):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, *args, **kwargs)

    def cell(self, xw, state, w_hh, b_hh):
        (h,) = state
        a = xw + F.linear(h, w_hh, b_hh)  # (B, H)
        return (a.tanh() if self.nonlinearity == "tanh" else a.relu(),)


class LSTM(RNNBase):
    r"""Long short-term memory. Four gates (torch's order: input, forget, cell, output), from
    $W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}$ split in four:

    $$i = \sigma(\cdot),\quad f = \sigma(\cdot),\quad g = \tanh(\cdot),\quad o = \sigma(\cdot),
    \qquad c_t = f \odot c_{t-1} + i \odot g,\qquad h_t = o \odot \tanh(c_t).$$

    The cell state $c_t$ changes only by a product with $f$ and a sum, so gradients flow back
    through many steps without the repeated squashing of a plain RNN. Returns
    ``(output, (h_n, c_n))``; ``hx`` = ``(h_0, c_0)``, zeros by default.

    >>> import aigc_course as ac
    >>> lstm = LSTM(3, 5, num_layers=2, batch_first=True)
    >>> out, (h_n, c_n) = lstm(ac.randn(2, 7, 3))  # (B, T, C)
    >>> out.shape, h_n.shape, c_n.shape
    (aigc_course.Size([2, 7, 5]), aigc_course.Size([2, 2, 5]), aigc_course.Size([2, 2, 5]))
    >>> lstm.weight_ih_l0.shape  # the four gates stacked: (4 * hidden_size, input_size)
    aigc_course.Size([20, 3])

    See chapter 3.
    """

    gates = 4

    def cell(self, xw, state, w_hh, b_hh):
        h, c = state
        i, f, g, o = (xw + F.linear(h, w_hh, b_hh)).chunk(4, 1)  # each (B, H)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        return h, c


class GRU(RNNBase):
    r"""Gated recurrent unit. Three gates (torch's order: reset, update, new):

    $$r = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h + b_{hr}),\qquad
    z = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h + b_{hz}),$$
    $$n = \tanh\left(W_{in} x_t + b_{in} + r \odot (W_{hn} h + b_{hn})\right),\qquad
    h_t = (1 - z) \odot n + z \odot h_{t-1}.$$

    Subtle: the reset gate multiplies $W_{hn} h + b_{hn}$, bias included, as in torch (and
    cuDNN), not $h$ before the product as in the original paper. Returns ``(output, h_n)``.

    >>> import aigc_course as ac
    >>> out, h_n = GRU(3, 5)(ac.randn(7, 3))  # unbatched (T, C)
    >>> out.shape, h_n.shape
    (aigc_course.Size([7, 5]), aigc_course.Size([1, 5]))

    See chapter 3.
    """

    gates = 3

    def cell(self, xw, state, w_hh, b_hh):
        (h,) = state
        x_r, x_z, x_n = xw.chunk(3, 1)  # each (B, H)
        h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, 1)
        r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
        n = (x_n + r * h_n).tanh()
        return ((1 - z) * n + z * h,)
