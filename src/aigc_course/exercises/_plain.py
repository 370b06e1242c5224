"""Plain data on the wire between the grader's processes: JSON, tagged with exact types.

Only numbers, strings, lists, tuples, dicts, numpy arrays and tensors (as their numpy data)
cross between a submission's kernel and the judge; no pickle, so nothing the learner defines
can run on the other side, and an object whose ``__eq__`` always says yes arrives as the
plain value it wraps. Both ``_checking`` (the protocols) and ``_verdict`` (the judge and the
kernel's server) use it, so it sits below both.
"""

from __future__ import annotations

import base64
import json
import sys


class NotPlain(TypeError):
    """A value that the grader does not send between processes (a module, a generator...)."""


def _array(a) -> dict:
    import numpy as np

    a = np.array(a, order="C", copy=True)  # (ascontiguousarray makes 0-d arrays 1-d)
    if a.dtype.kind not in "biufc":
        raise NotPlain(f"an array of dtype {a.dtype}")
    return {
        "dtype": a.dtype.str,
        "shape": list(a.shape),
        "b64": base64.b64encode(a.tobytes()).decode(),
    }


def _unarray(d: dict):
    import numpy as np

    dtype = np.dtype(str(d["dtype"]))
    if dtype.kind not in "biufc":
        raise ValueError(f"dtype {dtype} is not plain data")
    shape = tuple(int(n) for n in d["shape"])
    data = base64.b64decode(str(d["b64"]))
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def encode(value, depth: int = 0):
    """``value`` as JSON-ready plain data, tagged with its exact type; :class:`NotPlain` else.

    Subclasses of builtins are read through the builtin's own methods, so an overridden
    ``__eq__``, ``__int__`` or ``__iter__`` is not what gets sent.
    """
    if depth > 20:
        raise NotPlain("nested more than 20 levels deep")
    if value is None:
        return {"none": 1}
    if isinstance(value, bool):
        return {"bool": bool(int.__int__(value))}
    if isinstance(value, int):
        return {"int": int.__int__(value)}
    if isinstance(value, float):
        return {"float": float.__float__(value)}
    if isinstance(value, str):
        return {"str": str.__str__(value)}
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(bytes(value)).decode()}
    if value is Ellipsis:
        return {"ellipsis": 1}
    if isinstance(value, slice):
        return {"slice": [encode(x, depth + 1) for x in (value.start, value.stop, value.step)]}
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if kind == "torch.Size":
        return {"size": [int.__int__(n) for n in tuple.__iter__(value)]}
    if isinstance(value, tuple):
        return {"tuple": [encode(x, depth + 1) for x in tuple.__iter__(value)]}
    if isinstance(value, list):
        return {"list": [encode(x, depth + 1) for x in list.__iter__(value)]}
    if isinstance(value, dict):
        return {
            "dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in dict.items(value)]
        }
    if "numpy" in sys.modules:
        import numpy as np

        if isinstance(value, np.ndarray):
            return {"ndarray": _array(value)}
        if isinstance(value, np.generic):
            return {"npscalar": _array(np.asarray(value))}
    if "torch" in sys.modules:
        import torch

        if isinstance(value, torch.Tensor):
            return {"torch": _array(value.detach().cpu().resolve_conj().resolve_neg().numpy())}
        if isinstance(value, torch.dtype):
            return {"torch_dtype": str(value).removeprefix("torch.")}
    if "aigc_course" in sys.modules:
        import aigc_course

        if isinstance(value, aigc_course.Tensor):
            return {"aigc": _array(value.detach().numpy())}
        if isinstance(value, aigc_course._dtypes.dtype):
            return {"aigc_dtype": str(value).removeprefix("aigc_course.")}
    raise NotPlain(f"a {type(value).__name__}")


def encode_argument(value):
    """As :func:`encode`, but a tensor that requires grad is not plain: the learner's code
    might call ``backward`` through it, which only works in one process."""

    def walk(v):
        if getattr(v, "requires_grad", False) is True:
            raise NotPlain("a tensor that requires grad")
        if isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        if isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk(value)
    return encode(value)


def decode(data):
    """The value that :func:`encode` described, built from exact types only."""
    ((tag, v),) = data.items()
    if tag == "none":
        return None
    if tag in ("bool", "int", "float", "str"):
        return {"bool": bool, "int": int, "float": float, "str": str}[tag](v)
    if tag == "bytes":
        return base64.b64decode(str(v))
    if tag == "ellipsis":
        return Ellipsis
    if tag == "slice":
        return slice(*(decode(x) for x in v))
    if tag == "tuple":
        return tuple(decode(x) for x in v)
    if tag == "list":
        return [decode(x) for x in v]
    if tag == "dict":
        return {decode(k): decode(x) for k, x in v}
    if tag == "ndarray":
        return _unarray(v)
    if tag == "npscalar":
        return _unarray(v)[()]
    if tag == "torch":
        import torch

        return torch.from_numpy(_unarray(v))
    if tag == "size":
        import torch

        return torch.Size(int(n) for n in v)
    if tag == "torch_dtype":
        import torch

        dtype = getattr(torch, str(v), None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f"no torch dtype {v!r}")
        return dtype
    if tag == "aigc":
        import aigc_course

        return aigc_course.tensor(_unarray(v))
    if tag == "aigc_dtype":
        import aigc_course

        dtype = getattr(aigc_course, str(v), None)
        if not isinstance(dtype, aigc_course._dtypes.dtype):
            raise ValueError(f"no aigc_course dtype {v!r}")
        return dtype
    raise ValueError(f"unknown tag {tag!r}")


def to_plain(value):
    """``value`` rebuilt from exact builtin, numpy, torch or ``aigc_course`` types.

    A checker that compares a learner's result with ``==`` can call this first, so that an
    object whose ``__eq__`` always answers ``True`` (an ``int`` subclass, say) is compared by
    its value. Raises :class:`TypeError` for what is not plain data.

    >>> class Always(int):
    ...     def __eq__(self, other):
    ...         return True
    >>> to_plain(Always(3)) == 4, type(to_plain(Always(3))).__name__
    (False, 'int')
    """
    return decode(json.loads(json.dumps(encode(value))))
