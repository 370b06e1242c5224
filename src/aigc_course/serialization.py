r"""``save`` and ``load`` in torch's own file format, so files move both ways between
``aigc_course`` and torch (chapter 6 saves checkpoints).

A ``.pt`` file is an uncompressed zip archive::

    archive/data.pkl      the object (a dict of tensors, nested dicts, numbers...) pickled, with
                          each tensor written as a call to torch._utils._rebuild_tensor_v2 on a
                          *persistent id* ('storage', torch.FloatStorage, key, 'cpu', numel)
    archive/data/<key>    one storage: the tensor's raw little-endian bytes
    archive/byteorder     "little";  archive/version: "3"

Pickle can call any function a file names, so loading an untrusted pickle can run any code.
:func:`load` therefore uses a restricted unpickler (``weights_only=True``, torch's default
since 2.6): it rebuilds tensors, parameters, ``OrderedDict`` and the plain Python values, and
refuses every other global with ``pickle.UnpicklingError``. Torch itself is never imported: the
writer names torch's globals in the pickle without looking them up.

Note: each tensor gets its own storage here, holding a contiguous copy; torch shares one
storage between views of the same memory. Loaded tensors never share memory either.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np

from . import _dtypes
from ._checks import check_device, device
from ._tensor import Tensor

__all__ = ["load", "save"]

# storage class names in the pickle, by dtype (torch.FloatStorage holds float32...)
_STORAGE_NAMES = {d.name: f"{d.scalar_name}Storage" for d in _dtypes._all}
_STORAGE_DTYPES = {name: _dtypes._by_name[d] for d, name in _STORAGE_NAMES.items()}


# ---------------------------------------------------------------- writing


class _Global:
    """A global (``module.name``) named in the pickle, never looked up."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle requires a callable; this one is only ever named
        raise TypeError(f"{self.module}.{self.name} is only named in a pickle")


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_ORDERED_DICT = _Global("collections", "OrderedDict")


class _Storage:
    def __init__(self, key: str, array: np.ndarray):
        self.key, self.array = key, array


class _Pickler(pickle._Pickler):  # the pure-Python pickler, whose globals we can write by name
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file):
        super().__init__(file, protocol=2)
        self.storages: list[_Storage] = []

    def _save_named_global(self, obj: _Global) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("ascii"))
        self.memoize(obj)

    dispatch[_Global] = _save_named_global

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            name = _STORAGE_NAMES[_dtypes.from_numpy_dtype(obj.array.dtype).name]
            return ("storage", _Global("torch", name), obj.key, "cpu", obj.array.size)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            array = np.ascontiguousarray(obj._data).reshape(obj._data.shape)  # keeps 0-d
            if array.dtype.byteorder == ">":
                array = array.astype(array.dtype.newbyteorder("<"))
            storage = _Storage(str(len(self.storages)), array)
            self.storages.append(storage)
            itemsize = array.itemsize or 1
            stride = (
                tuple(s // itemsize for s in array.strides) if array.size else (1,) * array.ndim
            )
            args = (storage, 0, tuple(array.shape), stride, False, _OrderedDictCall())
            tensor = (_REBUILD_TENSOR, args)
            if type(obj).__name__ == "Parameter":
                return (_REBUILD_PARAMETER, (_Call(*tensor), obj.requires_grad, _OrderedDictCall()))
            return tensor
        if type(obj) is OrderedDict:  # as torch writes it: OrderedDict() + items (+ _metadata)
            state = vars(obj) if hasattr(obj, "__dict__") and vars(obj) else None
            return (_ORDERED_DICT, (), state, None, iter(obj.items()))
        if isinstance(obj, device):
            return (_Global("torch", "device"), (str(obj),))
        if isinstance(obj, _dtypes.dtype):
            return (_Global("torch", obj.name), ())  # not loaded back by weights_only
        return NotImplemented


class _Call:
    """``fn(*args)`` inside the pickle (a REDUCE), for a nested rebuild."""

    def __init__(self, fn: _Global, args: tuple):
        self.fn, self.args = fn, args


def _save_call(pickler: _Pickler, obj: _Call) -> None:
    pickler.save_reduce(obj.fn, obj.args, obj=obj)


class _OrderedDictCall(_Call):
    """An empty ``OrderedDict()`` (torch's backward hooks argument)."""

    def __init__(self):
        super().__init__(_ORDERED_DICT, ())


_Pickler.dispatch[_Call] = _save_call
_Pickler.dispatch[_OrderedDictCall] = _save_call


def save(obj, f, pickle_module=None, pickle_protocol: int = 2) -> None:
    """Write ``obj`` (a tensor, a state dict, nested dicts/lists of tensors and numbers) to
    ``f`` (a path or a binary file) in torch's zip format: ``torch.load`` reads it back.

    >>> import io, aigc_course as ac
    >>> buffer = io.BytesIO()
    >>> ac.save({"w": ac.tensor([1.0, 2.0])}, buffer)
    >>> ac.load(io.BytesIO(buffer.getvalue()))
    {'w': tensor([1., 2.])}
    """
    data = io.BytesIO()
    pickler = _Pickler(data)
    pickler.dump(obj)
    name = "archive"
    if isinstance(f, (str, os.PathLike)):
        name = os.path.splitext(os.path.basename(os.fspath(f)))[0] or "archive"
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(f"{name}/data.pkl", data.getvalue())
        z.writestr(f"{name}/.format_version", "1")
        z.writestr(f"{name}/.storage_alignment", "64")
        z.writestr(f"{name}/byteorder", "little")
        for s in pickler.storages:
            z.writestr(f"{name}/data/{s.key}", s.array.tobytes())
        z.writestr(f"{name}/version", "3\n")


# ---------------------------------------------------------------- reading


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, *_):
    size = tuple(size)
    if 0 in size:
        out = np.zeros(size, dtype=storage.dtype)
    else:
        strides = [s * storage.itemsize for s in stride]
        out = np.lib.stride_tricks.as_strided(storage[storage_offset:], size, strides)
    t = Tensor._make(np.array(out))  # a copy: loaded tensors own their (writable) memory
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks, *_):
    from .nn.parameter import Parameter  # nn sits above this module

    return Parameter(data, requires_grad)


_ALLOWED = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("collections", "OrderedDict"): OrderedDict,
    ("torch", "device"): device,
}


class _Unpickler(pickle.Unpickler):
    """Rebuilds only tensors, parameters, OrderedDicts, devices and plain Python values."""

    def __init__(self, file, archive: zipfile.ZipFile, prefix: str, weights_only: bool):
        super().__init__(file)
        self.archive, self.prefix, self.weights_only = archive, prefix, weights_only
        self.loaded: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        if module == "torch" and name in _dtypes._by_name and not self.weights_only:
            return _dtypes._by_name[name]
        if not self.weights_only:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            "Weights only load failed. aigc_course.load(weights_only=True) rebuilds tensors, "
            f"state dicts and plain Python values only; the file asks for the global "
            f"{module}.{name}. Load it with weights_only=False only if you trust its source."
        )

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id: {pid!r}")
        _, dt, key, location, numel = pid
        if not isinstance(dt, _dtypes.dtype):
            raise pickle.UnpicklingError(f"unsupported storage type: {dt!r}")
        if key not in self.loaded:
            raw = self.archive.read(f"{self.prefix}data/{key}")
            self.loaded[key] = np.frombuffer(raw, dtype=dt.numpy_dtype.newbyteorder("<"))
        return self.loaded[key].astype(dt.numpy_dtype, copy=False)


def load(f, map_location=None, pickle_module=None, *, weights_only: bool = True, mmap=None, **kw):
    """Read an object written by :func:`save` or by ``torch.save`` (torch's zip format).

    ``weights_only=True`` (the default, as in torch) refuses any global other than tensors,
    parameters, ``OrderedDict`` and devices. ``map_location`` may name the CPU; naming CUDA
    raises as a CPU-only torch build does.
    """
    if isinstance(map_location, (str, device)) and device(map_location).type != "cpu":
        if device(map_location).type == "cuda":
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() "
                "is False. If you are running on a CPU-only machine, please use torch.load with "
                "map_location=torch.device('cpu') to map your storages to the CPU."
            )
        check_device(map_location)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return _load(fh, weights_only)
    return _load(f, weights_only)


def _load(fh, weights_only: bool):
    if not zipfile.is_zipfile(fh):
        raise pickle.UnpicklingError(
            "aigc_course.load reads torch's zip format (torch.save since 1.6); this file is not "
            "a zip archive (torch's legacy format, or not a checkpoint at all)"
        )
    fh.seek(0)
    with zipfile.ZipFile(fh) as archive:
        pkl = [n for n in archive.namelist() if n.endswith("data.pkl")]
        if not pkl:
            raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found")
        prefix = pkl[0][: -len("data.pkl")]
        byteorder = f"{prefix}byteorder"
        if byteorder in archive.namelist() and archive.read(byteorder) != b"little":
            raise RuntimeError("aigc_course.load reads little-endian files only")
        data = io.BytesIO(archive.read(pkl[0]))
        return _Unpickler(data, archive, prefix, weights_only).load()
