r"""Convolution as one matrix product: *im2col*, then a matmul (chapter 3).

A 2-D convolution slides a (C, kh, kw) kernel over the image and takes a dot product at each
position. Written as loops that is six nested ``for``s; written as linear algebra it is

1. :class:`Im2col`: copy every window the kernel sees into one column, giving, per image, a
   matrix of shape (C·kh·kw, oh·ow). numpy's stride tricks make the windows a *view* of the
   padded image first (no copy, no Python loop over pixels), then one copy lays them out;
2. one matrix product of the weight, reshaped (O, C·kh·kw), with those columns: (O, oh·ow),
   which is already the output's (O, oh, ow) layout.

Both steps are linear, so the backward is the same two steps transposed: the matmul's two
backward products, then :class:`Col2im`, which *adds* each column back into the pixels it came
from (windows overlap, so a pixel collects the gradient of every window that saw it).
:class:`Im2col` and :class:`Col2im` are each other's adjoint, so each is the other's backward,
and second derivatives come for free.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import grad_mode
from ..autograd.function import Function

Pair = tuple[int, int]


def out_size(size: int, k: int, stride: int, dilation: int, pad_total: int) -> int:
    r"""Positions of a window of $k$ taps, $d$ apart, stepping by $s$ over $n$ padded pixels:
    $\lfloor (n - d(k-1) - 1)/s \rfloor + 1$."""
    return (size + pad_total - dilation * (k - 1) - 1) // stride + 1


def im2col(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, padding, value=0.0):
    """The windows of ``x`` (B, C, H, W) as a contiguous array (B, C, kh, kw, oh, ow).

    ``padding`` is ((top, bottom), (left, right)), filled with ``value`` (0 for a convolution,
    -inf for max pooling). ``cols[b, c, p, q, i, j] = xpad[b, c, i*sh + p*dh, j*sw + q*dw]``.
    """
    (pt, pb), (pl, pr) = padding
    if pt or pb or pl or pr:
        B, C, H, W = x.shape
        padded = np.full((B, C, pt + H + pb, pl + W + pr), value, dtype=x.dtype)
        padded[:, :, pt : pt + H, pl : pl + W] = x
        x = padded
    B, C, H, W = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = out_size(H, kh, sh, dh, 0), out_size(W, kw, sw, dw, 0)
    sB, sC, sH, sW = x.strides
    windows = as_strided(  # a view: a kernel tap moves by the dilation, a window by the stride
        x, (B, C, kh, kw, oh, ow), (sB, sC, sH * dh, sW * dw, sH * sh, sW * sw), writeable=False
    )
    return np.ascontiguousarray(windows)  # (B, C, kh, kw, oh, ow): the one copy


def col2im(cols: np.ndarray, shape, kernel: Pair, stride: Pair, dilation: Pair, padding):
    """The adjoint of :func:`im2col`: add each window's values back into an image of ``shape``.

    One Python loop over the kh·kw kernel taps (not over pixels): tap (p, q) of every window
    lands on a strided grid of pixels, which one vectorised ``+=`` fills.
    """
    B, C, H, W = shape
    (pt, pb), (pl, pr) = padding
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = cols.shape[4:]
    xp = np.zeros((B, C, H + pt + pb, W + pl + pr), dtype=cols.dtype)
    for p in range(kh):
        for q in range(kw):
            rows = slice(p * dh, p * dh + sh * (oh - 1) + 1, sh)
            columns = slice(q * dw, q * dw + sw * (ow - 1) + 1, sw)
            xp[:, :, rows, columns] += cols[:, :, p, q]  # (B, C, oh, ow)
    return xp[:, :, pt : pt + H, pl : pl + W]  # drop the padding (a view: no copy)


class Im2col(Function):
    r"""$\text{cols} = \text{im2col}(x)$: (B, C, H, W) → (B, C, kh, kw, oh, ow).

    Linear in $x$, so $dx = \text{col2im}(d\,\text{cols})$ (:class:`Col2im`)."""

    forward_on_arrays = True

    @staticmethod
    def forward(ctx, x, *, kernel, stride, dilation, padding, value=0.0):
        ctx.shape, ctx.geometry = x.shape, (kernel, stride, dilation, padding)
        return im2col(x, kernel, stride, dilation, padding, value)

    @staticmethod
    def backward(ctx, dcols):
        kernel, stride, dilation, padding = ctx.geometry
        return Col2im.apply(
            dcols,
            shape=ctx.shape,
            kernel=kernel,
            stride=stride,
            dilation=dilation,
            padding=padding,
        )


class Col2im(Function):
    r"""$x = \text{col2im}(\text{cols})$, the adjoint of :class:`Im2col`, so
    $d\,\text{cols} = \text{im2col}(dx)$."""

    forward_on_arrays = True

    @staticmethod
    def forward(ctx, cols, *, shape, kernel, stride, dilation, padding):
        ctx.geometry = (kernel, stride, dilation, padding)
        return col2im(cols, shape, kernel, stride, dilation, padding)

    @staticmethod
    def backward(ctx, dx):
        kernel, stride, dilation, padding = ctx.geometry
        return Im2col.apply(dx, kernel=kernel, stride=stride, dilation=dilation, padding=padding)


class Conv2d(Function):
    r"""$y = W \star x + b$ for ``x`` (B, C, H, W) and ``weight`` (O, C/G, kh, kw).

    With each image's windows as columns, $X_{col}$ (K = C/G·kh·kw values per group $g$, for
    each of the L = oh·ow positions) and the weight as a matrix $W_g$ (O/G, K), each image and
    group is one product, and its backward two more:

    $$Y_g = W_g\, X_{col,g} + b_g,\qquad dW_g = \textstyle\sum_{\text{images}} dY_g\,
    X_{col,g}^\top,\qquad dX_{col,g} = W_g^\top dY_g,\qquad dx = \text{col2im}(dX_{col}),
    \qquad db = \textstyle\sum dY.$$

    Forward runs on numpy arrays (one copy for im2col, one batched BLAS call). Backward is
    written with Tensor operations, so that ``create_graph=True`` records it; the saved
    windows are then recomputed from $x$ with :class:`Im2col`, so that they are recorded too.
    """

    forward_on_arrays = True

    @staticmethod
    def forward(ctx, x, weight, bias, *, stride, padding, dilation, groups):
        O, Cg, kh, kw = weight.shape
        G, kernel = groups, (kh, kw)
        ctx.geometry, ctx.groups, ctx.x_shape = (kernel, stride, dilation, padding), G, x.shape
        cols = im2col(x, kernel, stride, dilation, padding)  # (B, C, kh, kw, oh, ow)
        B, oh, ow = x.shape[0], cols.shape[4], cols.shape[5]
        w = weight.reshape(G, O // G, Cg * kh * kw)  # (G, O/G, K)
        y = np.matmul(w, cols.reshape(B, G, Cg * kh * kw, oh * ow))  # (B, G, O/G, L)
        y = y.reshape(B, O, oh, ow)
        if bias is not None:
            y += bias.reshape(O, 1, 1)
        needs_x, needs_w, _ = ctx.needs_input_grad
        # backward needs the windows for dW and the weight for dx
        ctx.save_for_backward(
            x if needs_w else None, weight if needs_x else None, cols if needs_w else None
        )
        return y  # (B, O, oh, ow)

    @staticmethod
    def backward(ctx, dy):
        x, weight, cols = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        kernel, stride, dilation, padding = ctx.geometry
        G, (B, C) = ctx.groups, ctx.x_shape[:2]
        O, oh, ow = dy.shape[1:]
        K = C // G * kernel[0] * kernel[1]
        dy = dy.reshape(B, G, O // G, oh * ow)  # (B, G, O/G, L)
        dx = dweight = dbias = None
        if needs_w:
            if grad_mode.is_grad_enabled():  # create_graph: the windows as a function of x
                cols = Im2col.apply(
                    x, kernel=kernel, stride=stride, dilation=dilation, padding=padding
                )
            cols = cols.reshape(B, G, K, oh * ow)  # (B, G, K, L)
            dweight = (dy @ cols.mT).sum(0).reshape(O, C // G, *kernel)  # (G, O/G, K) summed
        if needs_x:
            dcols = weight.reshape(G, O // G, K).mT @ dy  # (B, G, K, L)
            dx = Col2im.apply(
                dcols.reshape(B, C, *kernel, oh, ow),
                shape=ctx.x_shape,
                kernel=kernel,
                stride=stride,
                dilation=dilation,
                padding=padding,
            )
        if needs_b:
            dbias = dy.sum((0, 3)).reshape(O)  # (O,)
        return dx, dweight, dbias


# ---------------------------------------------------------------- arguments, checked torch's way


def pair(value, name: str) -> Pair:
    """An int or a sequence of 1 or 2 ints, as (height, width)."""
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) == 1:
        return (value[0], value[0])
    if len(value) != 2:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of 2 values to match the "
            f"convolution dimensions, but got {name}={list(value)}"
        )
    return value


def check_conv2d(x, weight, bias, stride, padding, dilation, groups) -> dict:
    """Validate a batched ``conv2d`` call; return its stride, per-side padding and dilation."""
    if x.ndim != 4:
        raise RuntimeError(
            "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: "
            f"{list(x.shape)}"
        )
    if weight.ndim != 4:
        raise RuntimeError(
            "weight should have 4 dimensions (out_channels, in_channels / groups, kH, kW), but "
            f"got weight of size {list(weight.shape)}"
        )
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"\"conv2d\" not implemented for '{x.dtype.name}'")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != x.dtype:
            raise RuntimeError(
                f"Input type ({x.dtype.name}) and {name} type ({t.dtype.name}) should be the same"
            )
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    if min(stride) <= 0:
        raise RuntimeError(f"non-positive stride is not supported, got stride={list(stride)}")
    if min(dilation) <= 0:
        raise RuntimeError(f"non-positive dilation is not supported, got dilation={list(dilation)}")
    if groups <= 0:
        raise RuntimeError(f"non-positive groups is not supported, got groups={groups}")
    O, Cg, kh, kw = weight.shape
    C = x.shape[1]
    if O % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {list(weight.shape)} instead"
        )
    if Cg * groups != C:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {Cg * groups} channels, but got {C} channels instead"
        )
    if bias is not None and tuple(bias.shape) != (O,):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
            f"{O} elements, but got bias of size {list(bias.shape)} instead"
        )
    eff = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)  # the kernel's reach
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        elif padding == "same":
            if stride != (1, 1):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            # total d (k - 1) per axis; an odd total puts the extra pixel after, as torch does
            pads = tuple(((e - 1) // 2, (e - 1) - (e - 1) // 2) for e in eff)
        else:
            raise RuntimeError(f"Invalid padding string: {padding!r}")
    else:
        ph, pw = pair(padding, "padding")
        if min(ph, pw) < 0:
            raise RuntimeError(f"negative padding is not supported, got padding={[ph, pw]}")
        pads = ((ph, ph), (pw, pw))
    H, W = x.shape[2] + sum(pads[0]), x.shape[3] + sum(pads[1])
    if eff[0] > H or eff[1] > W:
        raise RuntimeError(
            f"Calculated padded input size per channel: ({H} x {W}). Kernel size: "
            f"({eff[0]} x {eff[1]}). Kernel size can't be greater than actual input size"
        )
    return dict(stride=stride, padding=pads, dilation=dilation)


def check_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, avg=False) -> dict:
    """Validate a batched pooling call; return the kernel, stride, dilation, the per-side
    padding that :func:`im2col` needs (``ceil_mode`` may add some after) and the output shape."""
    if x.ndim != 4 or x.numel() == 0:
        raise RuntimeError(
            "non-empty 3D or 4D (batch mode) tensor expected for input, got input of size "
            f"{list(x.shape)}"
        )
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] else pair(stride, "stride")
    padding, dilation = pair(padding, "padding"), pair(dilation, "dilation")
    if min(stride) == 0:
        raise RuntimeError(f"stride should not be zero, got stride={list(stride)}")
    B, C, H, W = x.shape
    out, pads = [], []
    for n, k, s, p, d in zip((H, W), kernel, stride, padding, dilation):
        reach = d * (k - 1) + 1
        if p > (k // 2 if avg else reach // 2):
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
        o = (n + 2 * p - reach + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:  # the last window must start inside the image
            o -= 1
        out.append(o)
        pads.append((p, max(p, (o - 1) * s + reach - n - p)))  # ceil_mode may need more after
    if min(out) <= 0:
        raise RuntimeError(
            f"Given input size: ({C}x{H}x{W}). Calculated output size: ({C}x{out[0]}x{out[1]}). "
            "Output size is too small"
        )
    return dict(
        kernel=kernel,
        stride=stride,
        dilation=dilation,
        pads=tuple(pads),
        out_shape=(B, C, *out),
    )


def pool_divisor(size, geo: dict, count_include_pad: bool) -> np.ndarray:
    """How many values each average-pooling window divides by, (oh, ow): its taps inside the
    padded image (``count_include_pad``) or inside the image itself (torch's rule)."""
    counts = []
    for n, k, s, (p, _), o in zip(
        size, geo["kernel"], geo["stride"], geo["pads"], geo["out_shape"][2:]
    ):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)  # taps past the padding never count
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts.append(end - start)
    return np.outer(counts[0], counts[1]).astype(np.float64)
