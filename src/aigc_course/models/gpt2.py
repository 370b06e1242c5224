r"""GPT-2 on ``aigc_course.nn``, with transformers' names so that its weights load 1:1.

The model is a stack of pre-norm transformer blocks (Radford et al., 2019):

$$h_0 = W_{te}[x] + W_{pe}[0..T-1], \qquad
a = h + \operatorname{Attn}(\operatorname{LN}_1(h)), \qquad
h' = a + \operatorname{MLP}(\operatorname{LN}_2(a)),$$

and the logits are $\operatorname{LN}_f(h_L)\,W_{te}^\top$ (the output layer is *tied* to the
token embedding). Shapes use nanoGPT's vocabulary: ``B`` batch, ``T`` time, ``C`` channels
(``n_embd``), ``nh`` heads, ``hs`` head size, ``V`` vocabulary.

transformers stores its four projection weights in ``Conv1D`` layers, which compute
$x W + b$ with $W$ of shape (in, out); ``nn.Linear`` computes $x W^\top + b$ with $W$ of shape
(out, in). :meth:`GPT2LMHeadModel.from_hf` therefore transposes exactly these four:
``attn.c_attn``, ``attn.c_proj``, ``mlp.c_fc`` and ``mlp.c_proj``. See chapter 8.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields

import numpy as np

from .. import nn
from .._creation import arange, as_tensor, from_numpy
from .._dtypes import bool_, int64
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..generation import KVCache, check_generate_args, next_token
from ..nn import functional as F
from ..random import Generator

# transformers' Conv1D weights are (in, out): these four are transposed into nn.Linear's (out, in)
CONV1D_WEIGHTS = (
    "attn.c_attn.weight",
    "attn.c_proj.weight",
    "mlp.c_fc.weight",
    "mlp.c_proj.weight",
)

_ACTIVATIONS = {"gelu_new": "tanh", "gelu_pytorch_tanh": "tanh", "gelu": "none"}


@dataclass
class GPT2Config:
    """GPT-2's hyperparameters, with transformers' field names and defaults (the 124M model).

    >>> GPT2Config(n_layer=2, n_embd=64, n_head=4).n_positions
    1024

    See chapter 8.
    """

    vocab_size: int = 50257
    n_positions: int = 1024
    n_embd: int = 768
    n_layer: int = 12
    n_head: int = 12
    n_inner: int | None = None  # None: 4 * n_embd
    activation_function: str = "gelu_new"  # GELU with the tanh approximation
    resid_pdrop: float = 0.1
    embd_pdrop: float = 0.1
    attn_pdrop: float = 0.1
    layer_norm_epsilon: float = 1e-5
    initializer_range: float = 0.02
    scale_attn_weights: bool = True
    scale_attn_by_inverse_layer_idx: bool = False
    bos_token_id: int | None = 50256
    eos_token_id: int | None = 50256
    pad_token_id: int | None = None
    tie_word_embeddings: bool = True

    def __post_init__(self):
        if self.n_embd % self.n_head != 0:
            raise ValueError(
                f"n_embd={self.n_embd} must be divisible by n_head={self.n_head} "
                "(each head gets n_embd // n_head channels)"
            )
        if self.activation_function not in _ACTIVATIONS:
            raise ValueError(
                f"activation_function={self.activation_function!r} is not supported; "
                f"use one of {sorted(_ACTIVATIONS)}"
            )
        if not self.tie_word_embeddings:
            raise ValueError(
                "tie_word_embeddings=False is not supported: GPT-2 ties lm_head to wte"
            )

    @classmethod
    def from_hf(cls, hf_config) -> GPT2Config:
        """The same configuration from a ``transformers.GPT2Config``."""
        return cls(**{f.name: getattr(hf_config, f.name) for f in fields(cls)})


class GPT2Attention(nn.Module):
    r"""Causal multi-head self-attention:
    $\operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{hs}} + M\right)V$ per head, where the
    mask $M$ is $-\infty$ wherever a key comes after its query."""

    def __init__(self, config: GPT2Config, layer_idx: int = 0):
        super().__init__()
        C = config.n_embd
        self.n_head, self.layer_idx = config.n_head, layer_idx
        self.c_attn = nn.Linear(C, 3 * C)  # query, key and value for all heads at once
        self.c_proj = nn.Linear(C, C)
        self.attn_dropout = nn.Dropout(config.attn_pdrop)
        self.resid_dropout = nn.Dropout(config.resid_pdrop)
        self.scale = 1.0 / math.sqrt(C // config.n_head) if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            self.scale /= layer_idx + 1

    def forward(self, x: Tensor, cache: KVCache | None = None) -> Tensor:
        B, T, C = x.shape
        nh, hs = self.n_head, C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        if cache is not None:  # append to this layer's keys and values, attend to all of them
            k, v = cache.update(self.layer_idx, k, v)  # (B, nh, S, hs), S = past + T
        S = k.shape[2]
        # subtle: with a cache the T queries sit at positions S-T..S-1, not 0..T-1, so the
        # causal mask is "key position <= query position", not a plain (T, T) lower triangle
        keep = arange(S).view(1, S) <= arange(S - T, S).view(T, 1)  # (T, S)
        p = self.attn_dropout.p if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, keep, dropout_p=p, scale=self.scale)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, nh * hs): heads side by side again
        return self.resid_dropout(self.c_proj(y))  # (B, T, C)


class GPT2MLP(nn.Module):
    r"""$\operatorname{GELU}(x W_{fc}^\top + b_{fc})\,W_{proj}^\top + b_{proj}$, 4x wider inside."""

    def __init__(self, config: GPT2Config):
        super().__init__()
        C, inner = config.n_embd, config.n_inner or 4 * config.n_embd
        self.c_fc = nn.Linear(C, inner)
        self.act = nn.GELU(approximate=_ACTIVATIONS[config.activation_function])
        self.c_proj = nn.Linear(inner, C)
        self.dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, x: Tensor) -> Tensor:
        h = self.act(self.c_fc(x))  # (B, T, 4C)
        return self.dropout(self.c_proj(h))  # (B, T, C)


class GPT2Block(nn.Module):
    """One pre-norm block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPT2Config, layer_idx: int = 0):
        super().__init__()
        C, eps = config.n_embd, config.layer_norm_epsilon
        self.ln_1 = nn.LayerNorm(C, eps=eps)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(C, eps=eps)
        self.mlp = GPT2MLP(config)

    def forward(self, x: Tensor, cache: KVCache | None = None) -> Tensor:
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))  # (B, T, C)


class GPT2Model(nn.Module):
    """Embeddings, the blocks and the final LayerNorm: token ids (B, T) → states (B, T, C)."""

    def __init__(self, config: GPT2Config):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.drop = nn.Dropout(config.embd_pdrop)
        self.h = nn.ModuleList(GPT2Block(config, i) for i in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)

    def forward(self, input_ids: Tensor, cache: KVCache | None = None) -> Tensor:
        B, T = input_ids.shape
        past = 0 if cache is None else cache.length
        if past + T > self.config.n_positions:
            raise ValueError(
                f"sequence length {past + T} (past {past} + new {T}) is longer than "
                f"n_positions={self.config.n_positions}"
            )
        pos = arange(past, past + T)  # (T,)
        x = self.drop(self.wte(input_ids) + self.wpe(pos))  # (B, T, C)
        for block in self.h:
            x = block(x, cache)
        if cache is not None:
            cache.advance(T)  # every layer has written its T new keys and values
        return self.ln_f(x)  # (B, T, C)


class GPT2LMHeadModel(nn.Module):
    """GPT-2 with its language-model head: token ids (B, T) → next-token logits (B, T, V).

    Parameter names match transformers' (``transformer.wte.weight``,
    ``transformer.h.0.attn.c_attn.weight``, ..., ``lm_head.weight``), and ``lm_head`` shares
    its weight with ``transformer.wte``.

    >>> import aigc_course as ac
    >>> model = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_positions=16, n_embd=12, n_layer=1,
    ...                                    n_head=3))
    >>> model(ac.tensor([[1, 2, 3]])).shape
    aigc_course.Size([1, 3, 50])

    See chapters 8 and 9.
    """

    def __init__(self, config: GPT2Config):
        super().__init__()
        self.config = config
        self.transformer = GPT2Model(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied: one (V, C) matrix
        self._init_weights()

    def _init_weights(self) -> None:
        """GPT-2's initialisation: N(0, 0.02) weights, zero biases, and the two residual
        projections scaled down by sqrt(2 n_layer) so the residual stream does not grow with
        depth."""
        std = self.config.initializer_range
        with no_grad():
            for name, p in self.named_parameters():
                if name.endswith("bias"):
                    nn.init.zeros_(p)
                elif ".ln_" in name or name.startswith("transformer.ln_f"):
                    nn.init.ones_(p)
                elif name.endswith("c_proj.weight"):
                    nn.init.normal_(p, 0.0, std / math.sqrt(2 * self.config.n_layer))
                else:
                    nn.init.normal_(p, 0.0, std)

    def forward(self, input_ids: Tensor, cache: KVCache | None = None) -> Tensor:
        input_ids = _as_ids(input_ids)
        return self.lm_head(self.transformer(input_ids, cache))  # (B, T, V)

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_hf(cls, hf_model) -> GPT2LMHeadModel:
        """Copy a ``transformers.GPT2LMHeadModel`` (any configuration) into ours.

        Every key is checked in both directions and every shape is compared, with the
        four Conv1D weights transposed first; errors name the key and both shapes.
        """
        model = cls(GPT2Config.from_hf(hf_model.config))
        theirs = {k: v.detach().cpu().numpy() for k, v in hf_model.state_dict().items()}
        ours = model.state_dict()
        missing = sorted(set(ours) - set(theirs))
        unexpected = sorted(set(theirs) - set(ours))
        if missing or unexpected:
            raise RuntimeError(
                f"transformers' state_dict does not match GPT2LMHeadModel: missing keys "
                f"{missing}, unexpected keys {unexpected}"
            )
        state = {}
        for key, target in ours.items():
            value = theirs[key]
            if key.endswith(CONV1D_WEIGHTS):
                value = value.T  # Conv1D (in, out) -> Linear (out, in)
            if value.shape != tuple(target.shape):
                raise RuntimeError(
                    f"size mismatch for {key}: transformers has {tuple(theirs[key].shape)}"
                    f"{' (transposed from Conv1D)' if key.endswith(CONV1D_WEIGHTS) else ''}, "
                    f"ours expects {tuple(target.shape)}"
                )
            state[key] = np.ascontiguousarray(value, dtype=np.float32)
        model.load_state_dict(state)
        return model.eval()

    @classmethod
    def from_pretrained(cls, name_or_path: str) -> GPT2LMHeadModel:
        """Load through transformers: a local directory (``save_pretrained``'s format) always
        works; a hub name such as ``"gpt2"`` only when the hub is reachable and allowed."""
        import transformers  # optional: only loading goes through it

        try:
            hf_model = transformers.GPT2LMHeadModel.from_pretrained(name_or_path)
        except OSError as error:
            if os.path.isdir(name_or_path):
                raise
            offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
            reason = "the hub is switched off (HF_HUB_OFFLINE=1)" if offline else str(error)
            raise OSError(
                f"cannot load {name_or_path!r} from the Hugging Face hub: {reason}. "
                "Offline, pass a local directory written by save_pretrained instead, for "
                "example the small GPT-2 shipped with aigc_course (see chapter 9)."
            ) from error
        return cls.from_hf(hf_model)

    # ------------------------------------------------------------------ generation

    def generate(
        self,
        input_ids: Tensor,
        max_new_tokens: int,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        eos_token_id: int | None = None,
        use_cache: bool = True,
        seed: int | None = None,
    ) -> Tensor:
        """Append up to ``max_new_tokens`` tokens to each prompt in ``input_ids`` (B, T).

        Greedy by default (the most likely token each step); with ``do_sample=True`` the
        logits go through temperature, top-k and top-p (in transformers' order) and the token
        is drawn from the softmax. A sequence that produced ``eos_token_id`` is padded with
        it; generation stops when every sequence has. With ``use_cache`` each step feeds only
        the newest token and reads the earlier keys and values from a :class:`KVCache`;
        without it, each step recomputes the whole sequence. Dropout is off (decoding is
        inference). ``input_ids`` may be a Tensor, a numpy array, a torch tensor or a nested
        list; ``seed`` makes sampling repeatable without touching the global generator.
        Returns the ids (B, T + new) as an int64 Tensor.
        """
        ids = _as_ids(input_ids).numpy()
        V = self.config.vocab_size
        if ids.size and (ids.min() < 0 or ids.max() >= V):
            bad = ids[(ids < 0) | (ids >= V)].flat[0]
            raise IndexError(f"token id {bad} is not in [0, {V - 1}] (vocab_size={V})")
        check_generate_args(
            ids.shape, self.config.n_positions, max_new_tokens, temperature, top_k, top_p
        )
        generator = Generator().manual_seed(seed) if seed is not None else None
        B, T = ids.shape
        finished = np.zeros(B, dtype=bool)
        cache = KVCache(self.config, B, T + max_new_tokens) if use_cache else None
        feed = ids
        with no_grad():
            for _ in range(max_new_tokens):
                logits = from_numpy(self._next_token_logits(feed, cache))  # (B, V)
                new = next_token(
                    logits, do_sample, temperature, top_k, top_p, generator
                ).numpy()  # (B,)
                if eos_token_id is not None:
                    new = np.where(finished, eos_token_id, new)  # finished rows keep padding
                    finished |= new == eos_token_id
                ids = np.concatenate([ids, new[:, None]], axis=1)  # (B, T + 1)
                if finished.all():
                    break
                feed = new[:, None] if use_cache else ids  # (B, 1) with a cache, else (B, T + 1)
        return from_numpy(ids)

    def _next_token_logits(self, ids: np.ndarray, cache: KVCache | None) -> np.ndarray:
        """:meth:`forward` again, for decoding: the same operations in the same order on the
        numpy arrays inside the parameters, returning only the last position's logits (B, V).

        Why a second copy: at batch 1 each step is a few hundred tiny operations around twelve
        weight-sized matrix-vector products. The products are bound by memory bandwidth and
        cost the same either way, but wrapping every tiny operation in a Tensor (dtype checks,
        autograd bookkeeping) made each step of the 124M model about 1.7x slower (14 against
        24 tokens/s, benchmarks/bench_gpt2_decode.py). :meth:`forward` stays the readable
        definition, and the tests check that the two agree.
        """
        cfg, tr = self.config, self.transformer
        B, T = ids.shape
        C, nh = cfg.n_embd, cfg.n_head
        hs = C // nh
        past = 0 if cache is None else cache.length
        if past + T > cfg.n_positions:
            raise ValueError(
                f"sequence length {past + T} (past {past} + new {T}) is longer than "
                f"n_positions={cfg.n_positions}"
            )
        S = past + T
        x = _np(tr.wte.weight)[ids] + _np(tr.wpe.weight)[past:S]  # (B, T, C)
        hidden = np.arange(S)[None, :] > np.arange(past, S)[:, None]  # (T, S): future keys
        for i, block in enumerate(tr.h):
            attn, mlp = block.attn, block.mlp
            qkv = _linear(_layer_norm(x, block.ln_1), attn.c_attn)  # (B, T, 3C)
            q, k, v = np.split(qkv, 3, axis=2)  # 3 x (B, T, C)
            q = q.reshape(B, T, nh, hs).transpose(0, 2, 1, 3)  # (B, nh, T, hs)
            k = k.reshape(B, T, nh, hs).transpose(0, 2, 1, 3)  # (B, nh, T, hs)
            v = v.reshape(B, T, nh, hs).transpose(0, 2, 1, 3)  # (B, nh, T, hs)
            if cache is not None:  # write into the preallocated buffers; read all S positions
                k, v = cache.update(i, k, v)  # (B, nh, S, hs), numpy views of the buffers
            att = (q @ k.transpose(0, 1, 3, 2)) * attn.scale  # (B, nh, T, S)
            att[..., hidden] = -np.inf
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            att /= att.sum(axis=-1, keepdims=True)
            y = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, C)  # (B, T, C)
            x = x + _linear(y, attn.c_proj)
            h = _linear(_layer_norm(x, block.ln_2), mlp.c_fc)  # (B, T, 4C)
            if mlp.act.approximate == "tanh":
                h = 0.5 * h * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * h * h * h)))
            else:
                h = mlp.act(from_numpy(h)).numpy()
            x = x + _linear(h, mlp.c_proj)  # (B, T, C)
        if cache is not None:
            cache.advance(T)
        x = _layer_norm(x[:, -1], tr.ln_f)  # (B, C): only the last position is needed
        return x @ _np(tr.wte.weight).T  # (B, V)


def _np(parameter: Tensor) -> np.ndarray:
    return parameter.detach().numpy()  # the parameter's own memory, not a copy


def _linear(x: np.ndarray, layer: nn.Linear) -> np.ndarray:
    return x @ _np(layer.weight).T + _np(layer.bias)  # (*, out_features)


def _layer_norm(x: np.ndarray, ln: nn.LayerNorm) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)  # (*, 1)
    centered = x - mu
    var = (centered * centered).mean(axis=-1, keepdims=True)  # (*, 1), biased like torch
    return centered / np.sqrt(var + ln.eps) * _np(ln.weight) + _np(ln.bias)


def _as_ids(input_ids) -> Tensor:
    """Token ids as an int64 Tensor (B, T); accepts Tensors, numpy arrays, torch tensors and
    nested lists."""
    ids = input_ids if isinstance(input_ids, Tensor) else as_tensor(np.asarray(input_ids))
    if ids.dtype.is_floating_point or ids.dtype is bool_:
        raise RuntimeError(f"input_ids must hold integer token ids, but got dtype {ids.dtype}")
    if ids.ndim != 2:
        raise ValueError(f"input_ids must have shape (B, T), but got shape {tuple(ids.shape)}")
    return ids if ids.dtype is int64 else ids.long()
