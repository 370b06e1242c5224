"""``Parameter``: a Tensor that a :class:`~aigc_course.nn.Module` treats as learnable.

It is an ordinary Tensor (same data, same autograd) with two differences: it requires grad by
default, and assigning one to a Module attribute registers it in the module's parameter list.
That marker is the whole trick behind ``model.parameters()``.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor


class Parameter(Tensor):
    """A Tensor marked as a learnable parameter. It shares ``data``'s memory (no copy).

    >>> import aigc_course as ac
    >>> from aigc_course.nn import Parameter
    >>> Parameter(ac.ones(2))
    Parameter containing:
    tensor([1., 1.], requires_grad=True)

    See chapter 3.
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = Tensor._make(np.empty(0, dtype=np.float32))
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
