"""Tensor's operations, bound onto the class from one table, as torch binds its methods onto
``TensorBase`` (``python_variable_methods.cpp``).

:mod:`aigc_course._tensor` holds the class's state and autograd metadata and imports no op,
so imports run one way: this module -> the ops files -> ``_tensor``. Each entry of
:data:`METHODS` is the public function of its ops file itself when the method takes the same
arguments (``x.exp()`` *is* ``aigc_course.exp(x)``: no extra call), or a one-line adapter
below when it does not (reflected operators, other argument names). ``aigc_course``'s
``__init__`` imports this module first, so that every Tensor has its methods before any
other code runs.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd import engine
from . import arithmetic as A
from . import diagonal as D
from . import elementwise as E
from . import indexing as X
from . import inplace as I
from . import integer as N
from . import linalg as L
from . import rearrange as M
from . import reduction as R
from . import sampling as P
from . import scan as C
from . import shape as S
from . import sorting as O

# ---------------------------------------------------------------- adapters


def _is_operand(v) -> bool:
    """Whether ``v`` can be an operand of a tensor operation (a tensor or a number)."""
    return isinstance(v, (Tensor, int, float, np.number, np.bool_))


def __eq__(self, other):
    return A.eq(self, other) if _is_operand(other) else NotImplemented  # t == None: False


def __ne__(self, other):
    return A.ne(self, other) if _is_operand(other) else NotImplemented


def __radd__(self, other):
    return A.add(other, self)


def __rsub__(self, other):
    return A.sub(other, self)


def __rmul__(self, other):
    return A.mul(other, self)


def __rtruediv__(self, other):
    return A.div(other, self)


def __rpow__(self, base):
    return A.pow(base, self)


def __rmatmul__(self, other):
    return L.matmul(other, self)


def __rfloordiv__(self, other):
    return N.floor_divide(other, self)


def __rmod__(self, other):
    return N.remainder(other, self)


def __rand__(self, other):
    return N.bitwise_and(other, self)


def __ror__(self, other):
    return N.bitwise_or(other, self)


def __rxor__(self, other):
    return N.bitwise_xor(other, self)


def where(self, condition, other):
    return E.where(condition, self, other)


def flip(self, *dims):
    return M.flip(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)


def view_as(self, other):
    return S.view(self, other.shape)


def reshape_as(self, other):
    return S.reshape(self, other.shape)


def expand_as(self, other):
    return S.expand(self, other.shape)


def split(self, split_size, dim=0):
    return S.split(self, split_size, dim)


def zero_(self):
    return I.fill_(self, 0)


def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see
    :func:`aigc_course.autograd.backward`)."""
    engine.backward(self, gradient, retain_graph, create_graph, inputs=inputs)


# ---------------------------------------------------------------- the table

METHODS = {
    # autograd (the engine, and the in-place machinery's view refresh)
    "backward": backward,
    "_refresh_view": I._refresh_view,
    # ops/arithmetic.py
    "__add__": A.add,
    "__radd__": __radd__,
    "__sub__": A.sub,
    "__rsub__": __rsub__,
    "__mul__": A.mul,
    "__rmul__": __rmul__,
    "__truediv__": A.div,
    "__rtruediv__": __rtruediv__,
    "__pow__": A.pow,
    "__rpow__": __rpow__,
    "__neg__": A.neg,
    "__eq__": __eq__,
    "__ne__": __ne__,
    "__lt__": A.lt,
    "__le__": A.le,
    "__gt__": A.gt,
    "__ge__": A.ge,
    "add": A.add,
    "sub": A.sub,
    "mul": A.mul,
    "div": A.div,
    "pow": A.pow,
    "neg": A.neg,
    "maximum": A.maximum,
    "minimum": A.minimum,
    "eq": A.eq,
    "ne": A.ne,
    "lt": A.lt,
    "le": A.le,
    "gt": A.gt,
    "ge": A.ge,
    "isnan": A.isnan,
    "isinf": A.isinf,
    "isfinite": A.isfinite,
    "logical_not": A.logical_not,
    "logical_and": A.logical_and,
    "logical_or": A.logical_or,
    "equal": A.equal,
    # ops/elementwise.py
    "exp": E.exp,
    "log": E.log,
    "sqrt": E.sqrt,
    "sin": E.sin,
    "cos": E.cos,
    "tanh": E.tanh,
    "sigmoid": E.sigmoid,
    "relu": E.relu,
    "abs": E.abs,
    "sign": E.sign,
    "erf": E.erf,
    "clamp": E.clamp,
    "clip": E.clamp,
    "where": where,
    "to": E.to,
    "clone": E.clone,
    "contiguous": E.contiguous,
    "masked_fill": E.masked_fill,
    "nan_to_num": E.nan_to_num,
    # ops/reduction.py
    "sum": R.sum,
    "mean": R.mean,
    "max": R.max,
    "min": R.min,
    "amax": R.amax,
    "amin": R.amin,
    "argmax": R.argmax,
    "argmin": R.argmin,
    "var": R.var,
    "std": R.std,
    "softmax": R.softmax,
    "log_softmax": R.log_softmax,
    "logsumexp": R.logsumexp,
    "all": R.all,
    "any": R.any,
    "bincount": R.bincount,
    "count_nonzero": R.count_nonzero,
    # ops/linalg.py
    "__matmul__": L.matmul,
    "__rmatmul__": __rmatmul__,
    "matmul": L.matmul,
    "mm": L.mm,
    "bmm": L.bmm,
    "norm": L.norm,
    "outer": L.outer,
    # ops/diagonal.py
    "diagonal": D.diagonal,
    "diag": D.diag,
    # ops/rearrange.py
    "roll": M.roll,
    "flip": flip,
    "repeat": M.repeat,
    "repeat_interleave": M.repeat_interleave,
    # ops/shape.py
    "view": S.view,
    "reshape": S.reshape,
    "view_as": view_as,
    "reshape_as": reshape_as,
    "flatten": S.flatten,
    "unsqueeze": S.unsqueeze,
    "squeeze": S.squeeze,
    "permute": S.permute,
    "transpose": S.transpose,
    "t": S.t,
    "T": property(S.T),
    "mT": property(lambda self: S.transpose(self, -2, -1)),
    "expand": S.expand,
    "expand_as": expand_as,
    "sum_to_size": S.sum_to_size,
    "split": split,
    "chunk": S.chunk,
    "unbind": S.unbind,
    "tensor_split": S.tensor_split,
    "__getitem__": S.getitem,
    # ops/inplace.py (recorded by autograd; each bumps the version counter)
    "__setitem__": I.setitem,
    "add_": I.add_,
    "sub_": I.sub_,
    "mul_": I.mul_,
    "div_": I.div_,
    "__iadd__": I.add_,
    "__isub__": I.sub_,
    "__imul__": I.mul_,
    "__itruediv__": I.div_,
    "clamp_": I.clamp_,
    "masked_fill_": I.masked_fill_,
    "copy_": I.copy_,
    "fill_": I.fill_,
    "zero_": zero_,
    "uniform_": I.uniform_,
    "normal_": I.normal_,
    "floor_divide_": I.floor_divide_,
    "remainder_": I.remainder_,
    "bitwise_and_": I.bitwise_and_,
    "bitwise_or_": I.bitwise_or_,
    "bitwise_xor_": I.bitwise_xor_,
    "bitwise_not_": I.bitwise_not_,
    "__ifloordiv__": I.floor_divide_,
    "__imod__": I.remainder_,
    "__iand__": I.bitwise_and_,
    "__ior__": I.bitwise_or_,
    "__ixor__": I.bitwise_xor_,
    "scatter_": I.scatter_,
    "scatter_add_": I.scatter_add_,
    "tril_": I.tril_,
    "triu_": I.triu_,
    # ops/integer.py
    "__floordiv__": N.floor_divide,
    "__rfloordiv__": __rfloordiv__,
    "__mod__": N.remainder,
    "__rmod__": __rmod__,
    "__and__": N.bitwise_and,
    "__rand__": __rand__,
    "__or__": N.bitwise_or,
    "__ror__": __ror__,
    "__xor__": N.bitwise_xor,
    "__rxor__": __rxor__,
    "__invert__": N.bitwise_not,
    "floor_divide": N.floor_divide,
    "remainder": N.remainder,
    "bitwise_and": N.bitwise_and,
    "bitwise_or": N.bitwise_or,
    "bitwise_xor": N.bitwise_xor,
    "bitwise_not": N.bitwise_not,
    # ops/indexing.py
    "gather": X.gather,
    "scatter": X.scatter,
    "scatter_add": X.scatter_add,
    "index_select": X.index_select,
    "narrow": X.narrow,
    "tril": X.tril,
    "triu": X.triu,
    # ops/sorting.py
    "sort": O.sort,
    "argsort": O.argsort,
    "topk": O.topk,
    "unique": O.unique,
    # ops/scan.py
    "cumsum": C.cumsum,
    "cumprod": C.cumprod,
    # ops/sampling.py
    "multinomial": P.multinomial,
}

for _name, _method in METHODS.items():
    setattr(Tensor, _name, _method)
