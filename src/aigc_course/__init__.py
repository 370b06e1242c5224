"""aigc_course: PyTorch's core rebuilt from scratch on numpy, for the book
*PyTorch for Generative AI, from Scratch*.

The names mirror torch's, so ``import aigc_course as torch`` runs the book's basic snippets:

>>> import aigc_course as torch
>>> x = torch.ones(2, 2, requires_grad=True)
>>> z = ((x + 2) * (x + 2) * 3).mean()
>>> z.backward()
>>> x.grad
tensor([[4.5000, 4.5000],
        [4.5000, 4.5000]])
"""

import builtins as _builtins
import math as _math
import warnings as _warnings

import numpy as _np

# numpy reports overflow, 0/0 and log(0) with a RuntimeWarning; torch gives inf or nan silently.
# Ignore those warnings from this package's modules only (a filter, not numpy's global errstate).
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"aigc_course(\.|$)")

from .ops import tensor_methods as _tensor_methods  # noqa: E402, I001  (binds Tensor's methods, first)
from . import autograd  # noqa: E402
from ._checks import (  # noqa: E402
    Size,
    broadcast_shapes,
    device,
    get_default_device,
    set_default_device,
)
from ._creation import (  # noqa: E402
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    from_torch,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    randperm,
    tensor,
    to_torch,
    zeros,
    zeros_like,
)
from ._dtypes import bool_ as bool  # noqa: E402
from ._dtypes import (  # noqa: E402
    dtype,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from ._tensor import Tensor  # noqa: E402
from ._threads import get_num_threads, set_num_threads  # noqa: E402
from .autograd.grad_mode import (  # noqa: E402
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .ops import _out  # noqa: E402
from .ops._promotion import result_type  # noqa: E402

# ---- the ops as functions, one import list per ops/ file: aigc_course.exp(x) == x.exp()
from .ops.arithmetic import (  # noqa: E402
    add,
    div,
    eq,
    equal,
    ge,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    sub,
    true_divide,
)
from .ops.diagonal import diag, diagonal  # noqa: E402
from .ops.einsum import einsum  # noqa: E402
from .ops.elementwise import (  # noqa: E402
    abs,
    clamp,
    clip,
    clone,
    cos,
    erf,
    exp,
    log,
    masked_fill,
    nan_to_num,
    relu,
    sigmoid,
    sign,
    sin,
    sqrt,
    tanh,
    where,
)
from .ops.indexing import (  # noqa: E402
    gather,
    index_select,
    narrow,
    scatter,
    scatter_add,
    tril,
    triu,
)
from .ops.integer import (  # noqa: E402
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    floor_divide,
    remainder,
)
from .ops.linalg import bmm, matmul, mm, norm, outer  # noqa: E402
from .ops.meshgrid import meshgrid  # noqa: E402
from .ops.rearrange import flip, repeat_interleave, roll  # noqa: E402
from .ops.reduction import (  # noqa: E402
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    bincount,
    count_nonzero,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    softmax,
    std,
    sum,
    var,
)
from .ops.sampling import multinomial, randint  # noqa: E402
from .ops.scan import cumprod, cumsum  # noqa: E402
from .ops.shape import (  # noqa: E402
    cat,
    chunk,
    expand,
    flatten,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    t,
    tensor_split,
    transpose,
    unbind,
    unsqueeze,
)
from .ops.sorting import argsort, sort, topk, unique  # noqa: E402
from .random import Generator, manual_seed  # noqa: E402

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

__version__ = "0.1.0"

from . import nn  # noqa: E402, I001  (after the core it builds on)
from . import optim  # noqa: E402

# Submodules reachable after a plain ``import aigc_course as torch``, as torch's are:
# torch.cuda, torch.backends.mps, torch.utils.data, torch.nn.functional,
# torch.optim.lr_scheduler, torch.distributed.
from . import backends, cuda, distributed, linalg, utils  # noqa: E402
from .serialization import load, save  # noqa: E402
from .nn import functional as _functional  # noqa: E402
from .optim import lr_scheduler as _lr_scheduler  # noqa: E402
from .utils import data as _data  # noqa: E402

# ``out=`` where torch has it: the namespace function writes its result into ``out``
_OUT_FUNCTIONS = """
    add sub mul div true_divide pow neg maximum minimum eq ne lt le gt ge
    logical_and logical_or logical_not bitwise_and bitwise_or bitwise_xor bitwise_not
    floor_divide remainder abs exp log sqrt sin cos tanh sigmoid sign erf clamp clip where
    gather index_select tril triu matmul mm bmm norm sum mean max min amax amin argmax argmin
    logsumexp all any
    std var cumsum cumprod cat stack sort topk multinomial
    zeros ones full empty arange linspace eye rand randn randint randperm
""".split()
for _name in _OUT_FUNCTIONS:
    globals()[_name] = _out.with_out(globals()[_name])

# torch's constants (torch.inf is math.inf, the same Python floats)
inf, nan, pi, e = _math.inf, _math.nan, _math.pi, _math.e


def is_tensor(obj) -> bool:
    """Whether ``obj`` is an aigc_course Tensor."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    return input.numel()


def detach(input: Tensor) -> Tensor:
    """``input`` cut from the graph (shared memory)."""
    return input.detach()


def allclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    r"""Whether $|x - y| \le \text{atol} + \text{rtol}\,|y|$ elementwise, as ``torch.allclose``.

    >>> import aigc_course as ac
    >>> ac.allclose(ac.tensor([1.0, 2.0]), ac.tensor([1.0, 2.0 + 1e-9]))
    True
    """
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"allclose(): argument '{name}' must be Tensor, not {type(v).__name__}")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{input.dtype.name} did not match {other.dtype.name}")
    broadcast_shapes(input._data.shape, other._data.shape)  # torch's RuntimeError naming both
    return _builtins.bool(
        _np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan)
    )
