r"""The sinusoidal timestep embedding (Vaswani et al., 2017; Ho et al., 2020).

An integer timestep $t$ becomes a vector of $C$ features, cosines then sines at geometrically
spaced frequencies (diffusers' ``get_timestep_embedding`` with ``flip_sin_to_cos=True``):

$$f_i = 10000^{-i/(C/2)}, \qquad
e(t) = \big[\cos(t f_0), \dots, \cos(t f_{C/2-1}), \sin(t f_0), \dots, \sin(t f_{C/2-1})\big].$$

Nearby timesteps get similar vectors, and the network can read both coarse (low frequency) and
fine (high frequency) differences. The timestep carries no gradient, so this is computed in
numpy and shared by our denoiser and its torch twin: both see identical inputs. See chapter 10.
"""

from __future__ import annotations

import math

import numpy as np


def timestep_embedding(timesteps, dim: int, max_period: float = 10000.0) -> np.ndarray:
    """The (N, ``dim``) float32 embedding of N integer timesteps (``dim`` even)."""
    if dim % 2:
        raise ValueError(f"the timestep embedding needs an even dim, but got {dim}")
    t = np.asarray(timesteps, dtype=np.float64).reshape(-1)  # (N,)
    half = dim // 2
    freqs = np.exp(-math.log(max_period) * np.arange(half) / half)  # (C/2,)
    args = t[:, None] * freqs[None, :]  # (N, C/2)
    return np.concatenate([np.cos(args), np.sin(args)], axis=1).astype(np.float32)  # (N, C)
