r"""Elementwise functions: exp/log, activations, ``clamp``, ``where``, ``masked_fill``, dtype
casts and copies (chapters 1-3).

Functions of real numbers (``exp``, ``tanh``...) compute integer inputs in the default float
dtype, as torch does.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erf as _erf
from scipy.special import ndtr as _ndtr

from .. import _dtypes
from .._checks import broadcast_shapes, check_device
from .._tensor import Tensor
from ..autograd.function import Function
from ._promotion import _as_tensor, result_type
from .arithmetic import Add, Div, Mul, Neg, Pow, Sub  # noqa: F401  (chapter 2 imports Mul here)


class Exp(Function):
    r"""$z = e^x$, so $dx = dz\,z$."""

    @staticmethod
    def forward(ctx, x):
        z = np.exp(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, dz):
        (z,) = ctx.saved_tensors
        return dz * z


class Log(Function):
    r"""$z = \ln x$, so $dx = dz / x$."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.saved_tensors
        return dz / x


class Sqrt(Function):
    r"""$z = \sqrt{x}$, so $dx = dz / (2 z)$.

    With ``zero_at_zero=True`` (used by ``std``), the gradient is 0 rather than inf where
    $z = 0$, as torch's ``std`` does for a constant input.
    """

    @staticmethod
    def forward(ctx, x, zero_at_zero=False):
        ctx.zero_at_zero = zero_at_zero
        z = np.sqrt(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, dz):
        (z,) = ctx.saved_tensors
        if ctx.zero_at_zero:
            return (dz / (2 * z.masked_fill(z == 0, 1.0))).masked_fill(z == 0, 0.0)
        return dz / (2 * z)


class Sin(Function):
    r"""$z = \sin x$, so $dx = dz \cos x$."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.saved_tensors
        return dz * x.cos()


class Cos(Function):
    r"""$z = \cos x$, so $dx = -dz \sin x$."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.saved_tensors
        return -dz * x.sin()


class Tanh(Function):
    r"""$z = \tanh x$, so $dx = dz\,(1 - z^2)$."""

    @staticmethod
    def forward(ctx, x):
        z = np.tanh(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, dz):
        (z,) = ctx.saved_tensors
        return dz * (1 - z * z)


class Sigmoid(Function):
    r"""$z = \sigma(x) = 1 / (1 + e^{-x})$, so $dx = dz\,z\,(1 - z)$.

    Computed as $e^{x} / (1 + e^{x})$ for negative $x$, so that no $e^{-x}$ overflows.
    """

    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))
        z = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, dz):
        (z,) = ctx.saved_tensors
        return dz * z * (1 - z)


class Relu(Function):
    r"""$z = \max(x, 0)$, so $dx = dz$ where $x > 0$ and 0 elsewhere (torch's choice at 0).

    The backward is one primitive of its own, :class:`ReluBackward`, differentiable in $z$ with
    derivative 0, so that under ``create_graph`` the gradient stays connected to $x$ and a
    second derivative is 0, as in torch (its ``threshold_backward``).
    """

    @staticmethod
    def forward(ctx, x):
        z = np.maximum(x, 0).astype(x.dtype, copy=False)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, dz):
        (z,) = ctx.saved_tensors
        return ReluBackward.apply(dz, z)


class ReluBackward(Function):
    r"""$g = dz$ where $z > 0$, else 0. So $d(dz) = dg$ where $z > 0$ (the same mask), and
    $dz$'s other input, $z$, gets 0 (a step function)."""

    @staticmethod
    def forward(ctx, dz, z):
        mask = z > 0
        ctx.save_for_backward(mask)
        return dz * mask

    @staticmethod
    def backward(ctx, dg):
        (mask,) = ctx.saved_tensors
        return ReluBackward.apply(dg, mask.to(dg.dtype)), dg * 0


class Abs(Function):
    r"""$z = |x|$, so $dx = dz\,\mathrm{sign}(x)$ (0 at $x = 0$, as in torch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.saved_tensors
        return dz * x.sign()


class Sign(Function):
    r"""$z = \mathrm{sign}(x) \in \{-1, 0, 1\}$: a step function, so $dx = 0$ (as torch
    records it: the result requires grad, and its gradient is zero)."""

    @staticmethod
    def forward(ctx, x):
        return np.sign(x)

    @staticmethod
    def backward(ctx, dz):
        return dz * 0


class Clamp(Function):
    r"""$z = \min(\max(x, a), b)$, so $dx = dz$ where $a \le x \le b$ and 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        inside = np.ones(x.shape, dtype=x.dtype)
        if min is not None:
            inside *= x >= min
        if max is not None:
            inside *= x <= max
        ctx.save_for_backward(inside)  # a constant: which elements pass the gradient
        return np.clip(x, min, max).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dz):
        (inside,) = ctx.saved_tensors
        return dz * inside


class Erf(Function):
    r"""$z = \operatorname{erf}(x) = \frac{2}{\sqrt\pi}\int_0^x e^{-t^2}dt$, so
    $dx = dz\,\frac{2}{\sqrt\pi} e^{-x^2}$. Computed by ``scipy.special.erf``, vectorised."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf(x)

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.saved_tensors
        return dz * (2.0 / math.sqrt(math.pi)) * (-(x * x)).exp()


class Gelu(Function):
    r"""$z = x\,\Phi(x) = \frac x2\left(1 + \operatorname{erf}(x/\sqrt2)\right)$ (the exact GELU),
    so $dx = dz\,g(x)$ with $g(x) = \Phi(x) + x\,\varphi(x)$ and
    $\varphi(x) = e^{-x^2/2}/\sqrt{2\pi}$.

    One primitive instead of five composed ops. Forward computes $g$ too, while $\Phi$ and
    $e^{-x^2/2}$ are at hand, and saves it (torch saves $x$ and recomputes), so backward is one
    product. float32 runs :func:`_gelu_float32_kernel` (torch's float32 erf formula); other
    dtypes take $\Phi$ from ``scipy.special.ndtr`` (double precision, exact far in the left
    tail too).
    """

    @staticmethod
    def forward(ctx, x):
        needs_grad = ctx.needs_input_grad[0]
        if x.dtype == np.float32:
            z, g = _in_chunks(_gelu_float32_kernel, x, needs_grad)
        else:
            cdf = _ndtr(x)  # Phi(x) = (1 + erf(x / sqrt 2)) / 2
            z = x * cdf
            g = (
                cdf + x * np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
                if needs_grad
                else None
            )
        ctx.save_for_backward(x, g)
        return z

    @staticmethod
    def backward(ctx, dz):
        x, g = ctx.saved_tensors
        return dz * GeluDerivative.apply(x, g)


class GeluDerivative(Function):
    r"""$g(x) = \Phi(x) + x\,\varphi(x)$, the derivative of GELU, which :class:`Gelu`'s forward
    already computed (passed in as ``g``). Its own derivative, for ``create_graph``:
    $g'(x) = \varphi(x)\,(2 - x^2)$."""

    @staticmethod
    def forward(ctx, x, g):
        ctx.save_for_backward(x)
        return g

    @staticmethod
    def backward(ctx, dg):
        (x,) = ctx.saved_tensors
        pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
        return dg * pdf * (2 - x * x), None


class GeluTanh(Function):
    r"""$z = \tfrac12 x\,(1 + t)$ with $t = \tanh u$, $u = c\,(x + k x^3)$, $c = \sqrt{2/\pi}$,
    $k = 0.044715$ (GELU's tanh approximation, GPT-2's), so $dx = dz\,g(x)$ with
    $g = \tfrac12(1 + t) + \tfrac12 x\,(1 - t^2)\,u'$ and $u' = c\,(1 + 3k x^2)$.

    One primitive instead of eight composed ops; like :class:`Gelu`, forward computes $g$
    while $t$ is at hand and saves it, so backward is one product.
    """

    @staticmethod
    def forward(ctx, x):
        z, g = _in_chunks(_gelu_tanh_kernel, x, ctx.needs_input_grad[0])
        ctx.save_for_backward(x, g)
        return z

    @staticmethod
    def backward(ctx, dz):
        x, g = ctx.saved_tensors
        return dz * GeluTanhDerivative.apply(x, g)


class GeluTanhDerivative(Function):
    r"""$g(x)$ of :class:`GeluTanh`, which its forward computed (passed in as ``g``). Its own
    derivative, for ``create_graph``: with $s = 1 - t^2$ (so $s' = -2 t s u'$) and
    $u'' = 6 c k x$, $g' = s\,u' + \tfrac12 x\,s\,(u'' - 2 t u'^2)
    = s\,(u' + 3 c k x^2 - x\,t\,u'^2)$."""

    @staticmethod
    def forward(ctx, x, g):
        ctx.save_for_backward(x)
        return g

    @staticmethod
    def backward(ctx, dg):
        (x,) = ctx.saved_tensors
        c, k = math.sqrt(2 / math.pi), 0.044715
        x2 = x * x
        u = c * (x + k * x2 * x)
        eu = u.exp()
        s = 4 / (eu + 1 / eu) ** 2  # 1 - t^2 = 1 / cosh^2 u, without 1 - t's cancellation
        du = c * (1 + 3 * k * x2)
        return dg * s * (du + 3 * c * k * x2 - x * u.tanh() * du * du), None


_CHUNK = 1 << 16  # elements per pass of a fused kernel: its temporaries stay in the L2 cache


def _in_chunks(kernel, x: np.ndarray, needs_grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Run an elementwise ``kernel(x, z, g, t1, t2, t3)`` (writing $z$ and, unless ``g`` is
    None, the derivative $g$) chunk by chunk, so that its many numpy passes over a chunk run
    in cache, with three preallocated temporaries (``out=``) instead of fresh arrays."""
    flat = x.reshape(-1)
    n = flat.size
    z = np.empty(n, x.dtype)
    g = np.empty(n, x.dtype) if needs_grad else None
    m = min(_CHUNK, n)
    buffers = [np.empty(m, x.dtype) for _ in range(3)]
    for start in range(0, n, _CHUNK):
        stop = start + _CHUNK
        xs = flat[start:stop]
        k = xs.size
        kernel(xs, z[start:stop], None if g is None else g[start:stop], *[b[:k] for b in buffers])
    return z.reshape(x.shape), (g.reshape(x.shape) if needs_grad else None)


# Abramowitz & Stegun 7.1.26: erfc(u) = t (a1 + t (a2 + ... + t a5)) e^{-u^2} + eps, with
# t = 1 / (1 + p u), u >= 0 and |eps| <= 1.5e-7, float32's rounding level. torch's own
# vectorised float32 erf (ATen's Vectorized<float>::erf) is this same formula.
_AS_P = 0.3275911
_AS_HALF_A = tuple(
    a / 2 for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
)


def _gelu_float32_kernel(x, z, g, t, h, e) -> None:
    r"""$z = x\,\Phi(x)$ and $g = \Phi(x) + x\,\varphi(x)$ in float32: with $u = |x|/\sqrt2$,
    $h = \Phi(-|x|) = \tfrac12\operatorname{erfc}(u)$ by A&S 7.1.26 (the $\tfrac12$ folded into
    its coefficients), then $\Phi(x) = \tfrac12 + \operatorname{sign}(x)\,(\tfrac12 - h)$."""
    a1, a2, a3, a4, a5 = _AS_HALF_A
    np.abs(x, out=t)
    t *= _AS_P / math.sqrt(2)
    t += 1
    np.divide(1, t, out=t)  # t = 1 / (1 + p u); np.reciprocal has no SIMD loop, 2x slower
    np.multiply(t, a5, out=h)
    for a in (a4, a3, a2, a1):  # Horner
        h += a
        h *= t
    np.multiply(x, x, out=e)
    e *= -0.5
    np.exp(e, out=e)  # e^{-x^2/2} = e^{-u^2}
    h *= e  # Phi(-|x|)
    np.subtract(0.5, h, out=h)
    _times_sign_float32(h, x, sign=t.view(np.uint32))
    h += 0.5  # Phi(x)
    np.multiply(x, h, out=z)
    if g is not None:
        e *= 1 / math.sqrt(2 * math.pi)  # phi(x)
        np.multiply(e, x, out=g)
        g += h


def _times_sign_float32(h, x, sign) -> None:
    r"""$h \leftarrow \operatorname{sign}(x)\,h$ for float32 arrays: the sign bit of $x$ XORed
    into the bits of $h$ (``sign`` is a uint32 scratch buffer). Like
    ``np.copysign(h, x, out=h)`` for $h \ge 0$, in half its time: numpy's copysign has no SIMD
    loop, its integer AND and XOR have."""
    np.bitwise_and(x.view(np.uint32), 0x80000000, out=sign)
    bits = h.view(np.uint32)
    np.bitwise_xor(bits, sign, out=bits)


def _gelu_tanh_kernel(x, z, g, u, t, w) -> None:
    r"""$z$ and $g$ of :class:`GeluTanh`."""
    c, k = math.sqrt(2 / math.pi), 0.044715
    np.multiply(x, x, out=w)  # x^2, kept for g
    np.multiply(w, c * k, out=u)
    u += c
    u *= x  # u = c (x + k x^3)
    np.tanh(u, out=t)
    np.add(t, 1, out=u)
    u *= 0.5  # (1 + t) / 2
    np.multiply(x, u, out=z)
    if g is not None:
        w *= 3 * c * k
        w += c  # u' = c (1 + 3 k x^2)
        np.multiply(t, t, out=t)
        np.subtract(1, t, out=t)  # 1 - t^2
        t *= w
        t *= x
        t *= 0.5
        np.add(t, u, out=g)


class Where(Function):
    r"""$z = c\,?\,x : y$, so $dx = dz$ where $c$ and 0 elsewhere; $dy$ the other way round."""

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.save_for_backward(condition)
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, dz):
        (condition,) = ctx.saved_tensors
        zero = dz.new_zeros(())
        return None, dz.where(condition, zero), zero.where(condition, dz)


class MaskedFill(Function):
    r"""$z = x$, except $z = v$ where the mask is True; so $dx = dz$, zeroed where masked."""

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        return np.where(mask, np.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx, dz):
        (mask,) = ctx.saved_tensors
        return dz.masked_fill(mask, 0.0), None


class To(Function):
    r"""A dtype cast, $z = x$: the gradient is cast back (by ``Function._backward``)."""

    @staticmethod
    def forward(ctx, x, dtype=None):
        return x.astype(dtype.numpy_dtype)

    @staticmethod
    def backward(ctx, dz):
        return dz


class Clone(Function):
    r"""A copy into fresh memory, $z = x$, so $dx = dz$."""

    @staticmethod
    def forward(ctx, x, contiguous=False):
        # torch's preserve_format: a dense layout (a permutation, say) keeps its strides
        return np.array(x, copy=True, order="K" if _dense(x) and not contiguous else "C")

    @staticmethod
    def backward(ctx, dz):
        return dz


def _dense(a: np.ndarray) -> bool:
    """Whether ``a``'s elements fill its memory without gaps or overlaps, in some axis order."""
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return True
    expected = a.itemsize
    for size, stride in sorted(
        ((n, s) for n, s in zip(a.shape, a.strides) if n != 1), key=lambda p: p[1]
    ):
        if stride != expected:
            return False
        expected *= size
    return True


# ---------------------------------------------------------------- public functions


def _floating(x: Tensor) -> Tensor:
    return x if x._data.dtype.kind == "f" else To.apply(x, dtype=_dtypes.default_float)


def exp(input: Tensor) -> Tensor:
    r"""$e^x$ elementwise."""
    return Exp.apply(_floating(input))


def log(input: Tensor) -> Tensor:
    r"""$\ln x$ elementwise (``-inf`` at 0, ``nan`` below, as in torch)."""
    return Log.apply(_floating(input))


def sqrt(input: Tensor) -> Tensor:
    r"""$\sqrt{x}$ elementwise (nan below 0, as in torch)."""
    return Sqrt.apply(_floating(input))


def sin(input: Tensor) -> Tensor:
    r"""$\sin x$ elementwise."""
    return Sin.apply(_floating(input))


def cos(input: Tensor) -> Tensor:
    r"""$\cos x$ elementwise."""
    return Cos.apply(_floating(input))


def tanh(input: Tensor) -> Tensor:
    r"""$\tanh x$ elementwise."""
    return Tanh.apply(_floating(input))


def sigmoid(input: Tensor) -> Tensor:
    r"""$1 / (1 + e^{-x})$, without overflow for large $|x|$."""
    return Sigmoid.apply(_floating(input))


def erf(input: Tensor) -> Tensor:
    r"""The error function, differentiable (the exact GELU uses it). See chapter 3."""
    return Erf.apply(_floating(input))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    r"""The exact GELU, $x\,\Phi(x)$ (``torch.nn.functional.gelu(x)``), or with
    ``approximate='tanh'`` its tanh approximation (:class:`GeluTanh`). See chapter 3."""
    if approximate == "none":
        return Gelu.apply(_floating(input))
    if approximate == "tanh":
        return GeluTanh.apply(_floating(input))
    raise RuntimeError(f"approximate argument must be either none or tanh, but got {approximate!r}")


def relu(input: Tensor) -> Tensor:
    r"""$\max(x, 0)$."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("\"clamp_min_scalar_cpu\" not implemented for 'Bool'")
    return Relu.apply(input)


def abs(input: Tensor) -> Tensor:
    r"""$|x|$ elementwise (refused for bool, as in torch)."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("\"abs_cpu\" not implemented for 'Bool'")
    return Abs.apply(input)


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 elementwise (a bool stays bool, as in torch). Its gradient is zero."""
    if input._data.dtype.kind == "b":
        return Tensor._make(input._data.copy())
    return Sign.apply(input)


def clamp(input: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    r"""$\min(\max(x, \text{min}), \text{max})$. An int tensor clamped by a float becomes
    float, as torch promotes."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and not isinstance(bound, (int, float, np.number)):
            if isinstance(bound, Tensor) and bound.numel() == 1:
                continue
            raise TypeError(
                f"clamp(): argument '{name}' must be a number, not {type(bound).__name__}"
            )
    lo = None if min is None else _number(min)
    hi = None if max is None else _number(max)
    dt = result_type(input, *(b for b in (lo, hi) if b is not None))
    return Clamp.apply(_as_tensor(input, dt), min=lo, max=hi)


def _number(v):
    return v.item() if isinstance(v, Tensor) else v


clip = clamp


def where(condition: Tensor, input: Tensor | float, other: Tensor | float) -> Tensor:
    """Elementwise choice: ``input`` where ``condition`` is True, else ``other``."""
    if not isinstance(condition, Tensor) or condition._data.dtype.kind != "b":
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{getattr(condition, 'dtype', type(condition).__name__)}"
        )
    dt = result_type(input, other)
    x, y = _as_tensor(input, dt), _as_tensor(other, dt)
    broadcast_shapes(broadcast_shapes(condition._data.shape, x._data.shape), y._data.shape)
    return Where.apply(condition, x, y)


def masked_fill(input: Tensor, mask: Tensor, value: float | Tensor) -> Tensor:
    """``value`` wherever ``mask`` is True (how attention hides future positions)."""
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_fill only supports boolean masks, but got mask with {got}")
    shape = broadcast_shapes(input._data.shape, mask._data.shape)
    if shape != input._data.shape:  # a larger mask: the result takes the broadcast shape
        input = input.expand(shape)
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s)."
            )
        if value._requires_grad:  # the gradient also flows to the value: a where
            return where(mask, value.to(input.dtype), input)
        value = value.item()
    return MaskedFill.apply(input, mask, value=value)


def to(input: Tensor, *args, dtype=None, device=None, copy: bool = False) -> Tensor:
    """``x.to(aigc_course.float64)``, ``x.to("cpu")``, ``x.to(other)``."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) or type(a).__name__ == "device":
            device = a
        else:
            dtype = a
    check_device(device)
    if dtype is None:
        return Clone.apply(input) if copy else input
    dt = _dtypes.to_dtype(dtype)
    if dt.numpy_dtype == input._data.dtype and not copy:
        return input
    return To.apply(input, dtype=dt)


def clone(input: Tensor) -> Tensor:
    """A copy with its own memory; gradients flow through it unchanged."""
    return Clone.apply(input)


def contiguous(input: Tensor) -> Tensor:
    return input if input._data.flags.c_contiguous else Clone.apply(input, contiguous=True)


class NanToNum(Function):
    r"""$z = x$ where $x$ is finite, else the replacement (a constant), so
    $dx = dz \cdot [x \text{ finite}]$."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.finite = np.isfinite(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, dz):
        return dz * Tensor._make(ctx.finite.astype(dz._data.dtype))


def nan_to_num(
    input: Tensor,
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
) -> Tensor:
    r"""NaN, $+\infty$ and $-\infty$ replaced by ``nan``, ``posinf`` and ``neginf``; the
    infinities default to the dtype's largest and lowest finite values. Integers and bools
    have none of the three: a copy.

    >>> import aigc_course as ac
    >>> ac.nan_to_num(ac.tensor([float("nan"), float("inf"), -1.0]), posinf=9.0)
    tensor([ 0.,  9., -1.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(
            f"nan_to_num(): argument 'input' (position 1) must be Tensor, not "
            f"{type(input).__name__}"
        )
    for name, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.number))):
            raise TypeError(
                f"nan_to_num(): argument '{name}' must be float, not {type(v).__name__}"
            )
    if input._data.dtype.kind != "f":
        return Clone.apply(input)
    info = np.finfo(input._data.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    with np.errstate(over="ignore"):  # torch casts a too-large replacement to inf
        values = [np.array(v).astype(input._data.dtype) for v in (nan, posinf, neginf)]
    return NanToNum.apply(input, nan=values[0], posinf=values[1], neginf=values[2])
