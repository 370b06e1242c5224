r"""Data parallelism for ``aigc_course`` modules, with ``torch.distributed`` as the transport.

Each of the $N$ ranks holds a full copy of the model and computes the gradient of the mean loss
over its own shard of $b$ samples of the global batch of $B = N b$. Because the loss is a mean and
the shards are equal,

$$
\nabla_\theta \frac{1}{B}\sum_{i=1}^{B} \ell_i
= \frac{1}{N}\sum_{r=1}^{N} \underbrace{\nabla_\theta \frac{1}{b}\sum_{i \in \text{shard}_r}
\ell_i}_{g_r},
$$

so averaging the ranks' gradients $\bar g = \frac{1}{N}\sum_r g_r$ (one all-reduce, then a division)
gives every rank the gradient of the whole batch, and identical optimizer steps keep the copies
identical. Our arrays travel through ``torch.distributed.all_reduce`` as zero-copy
``torch.from_numpy`` views: torch never owns them, it only reads and writes their memory.

See chapter 11.
"""

from __future__ import annotations

import numpy as np

from ..nn import Module

__all__ = ["all_reduce_gradients", "broadcast_parameters", "flat_buffer"]


def _dist():
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        raise ValueError(  # the type torch.distributed.all_reduce raises here
            "Default process group has not been initialized; run this inside "
            "aigc_course.distributed.launch (or after torch.distributed.init_process_group)"
        )
    return torch, dist


def _zero_copy(torch, array: np.ndarray, what: str):
    """A torch view of ``array``'s memory; refuse anything that is not one contiguous block."""
    if not array.flags.c_contiguous:
        raise RuntimeError(f"{what} is not contiguous (strides {array.strides})")
    view = torch.from_numpy(array)
    if view.data_ptr() != array.__array_interface__["data"][0] or not view.is_contiguous():
        raise RuntimeError(f"{what}: torch.from_numpy made a copy, not a view")
    return view


def flat_buffer(arrays: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One contiguous buffer holding ``arrays`` back to back, and a view of it for each array.

    >>> flat, views = flat_buffer([np.ones((2, 2), np.float32), np.zeros(3, np.float32)])
    >>> flat.shape, [v.shape for v in views], np.shares_memory(flat, views[1])
    ((7,), [(2, 2), (3,)], True)
    """
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) > 1:
        raise TypeError(f"one bucket holds one dtype, got {sorted(map(str, dtypes))}")
    sizes = [a.size for a in arrays]
    flat = np.empty(sum(sizes), dtype=arrays[0].dtype if arrays else np.float32)
    offsets = np.cumsum([0, *sizes])
    views = [flat[o : o + a.size].reshape(a.shape) for o, a in zip(offsets, arrays)]
    for view, a in zip(views, arrays):
        view[...] = a
    return flat, views


def all_reduce_gradients(module: Module) -> None:
    r"""Average every parameter's ``.grad`` across the ranks, in place: $g \leftarrow
    \frac{1}{N}\sum_r g_r$.

    Like DDP, it packs the gradients into one flat bucket per dtype and makes one
    ``all_reduce`` call per bucket (not one per parameter: each call has a fixed latency),
    then unpacks the average back into the gradients' own arrays. A parameter without a
    gradient raises ``RuntimeError`` naming it (torch's DDP does the same unless told
    ``find_unused_parameters=True``): skipping it on one rank only would deadlock the others.

    See chapter 11.
    """
    torch, dist = _dist()
    world_size = dist.get_world_size()
    grads: dict[np.dtype, list[np.ndarray]] = {}
    for name, p in module.named_parameters():
        if p.grad is None:
            raise RuntimeError(
                f"parameter {name!r} has no gradient on rank {dist.get_rank()}: did it take part "
                "in the loss? Every rank must all-reduce the same parameters"
            )
        g = p.grad.numpy()
        if not g.flags.c_contiguous:
            raise RuntimeError(f"the gradient of {name!r} is not contiguous (strides {g.strides})")
        grads.setdefault(g.dtype, []).append(g)
    for dtype, arrays in grads.items():
        flat, views = flat_buffer(arrays)
        bucket = _zero_copy(torch, flat, f"the {dtype} gradient bucket")
        dist.all_reduce(bucket, op=dist.ReduceOp.SUM)  # sum, then divide by N, as DDP does
        flat /= np.asarray(world_size, dtype=flat.dtype)  # stays float32 (NEP 50)
        for g, view in zip(arrays, views):
            g[...] = view


def broadcast_parameters(module: Module, src: int = 0) -> None:
    """Copy rank ``src``'s parameters into every rank's module, in place (DDP does this in its
    constructor, so that all copies start equal).

    See chapter 11.
    """
    torch, dist = _dist()
    for name, p in module.named_parameters():
        dist.broadcast(_zero_copy(torch, p.detach().numpy(), f"parameter {name!r}"), src=src)
