r"""``gradcheck``: compare autograd's gradients with central differences, in float64.

For each input element $x_j$, the numerical derivative of every output element is
$\frac{f(x + \varepsilon e_j) - f(x - \varepsilon e_j)}{2\varepsilon}$,
with error $O(\varepsilon^2)$.
Autograd's Jacobian is built row by row with one backward pass per output element.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .engine import grad


class GradcheckError(RuntimeError):
    """Raised when an analytical gradient disagrees with the numerical one."""


def _jacobians_numerical(fn, inputs, eps):
    outs = []
    for x in inputs:
        if not (getattr(x, "requires_grad", False)):
            outs.append(None)
            continue
        flat = x._data.reshape(-1)  # a view: perturbing it perturbs x
        cols = []
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = fn(*inputs)._data.astype(np.float64).reshape(-1)
            flat[j] = orig - eps
            minus = fn(*inputs)._data.astype(np.float64).reshape(-1)
            flat[j] = orig
            cols.append((plus - minus) / (2 * eps))
        outs.append(np.stack(cols, axis=1) if cols else np.zeros((0, 0)))
    return outs


def gradcheck(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` (float64 tensors that require grad).

    Returns True, or raises :class:`GradcheckError` naming the input, the element and both
    values at the first disagreement.

    >>> import aigc_course as ac
    >>> x = ac.randn(3, dtype=ac.float64, requires_grad=True)
    >>> ac.autograd.gradcheck(lambda x: (x * x.sigmoid()).sum(), (x,))
    True
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for i, x in enumerate(inputs):
        if getattr(x, "requires_grad", False) and x.dtype.name != "float64":
            raise ValueError(
                f"gradcheck needs float64 inputs for accurate central differences; input {i} is "
                f"{x.dtype.name}. Use .double()."
            )
    out = fn(*inputs)
    numerical = _jacobians_numerical(fn, inputs, eps)
    wrt = [x for x in inputs if getattr(x, "requires_grad", False)]
    analytical = [np.zeros((out.numel(), x.numel())) for x in wrt]
    for k in range(out.numel()):
        seed = Tensor._make(np.zeros(out._data.shape, out._data.dtype))  # C order
        seed._data.reshape(-1)[k] = 1.0
        grads = grad(out, wrt, grad_outputs=seed, retain_graph=True, allow_unused=True)
        for a, g in zip(analytical, grads):
            if g is not None:
                a[k] = g._data.reshape(-1)
    idx = 0
    for i, x in enumerate(inputs):
        if numerical[i] is None:
            continue
        num, ana = numerical[i], analytical[idx]
        idx += 1
        bad = ~np.isclose(ana, num, rtol=rtol, atol=atol)
        if bad.any():
            k, j = map(int, np.argwhere(bad)[0])
            message = (
                f"Jacobian mismatch for output {k} with respect to input {i}, element {j} "
                f"(index {np.unravel_index(j, x.shape)}): numerical {num[k, j]:.6g} vs analytical "
                f"{ana[k, j]:.6g}"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
