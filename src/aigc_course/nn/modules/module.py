r"""``Module``: the base class of every layer and model.

A Module is a Python object with three ordered registries, filled by plain attribute
assignment (``__setattr__`` looks at the type of the value):

- ``_parameters``: :class:`~aigc_course.nn.Parameter` values (``self.weight = Parameter(...)``);
- ``_buffers``: tensors that are state but not learned (``register_buffer``);
- ``_modules``: child Modules (``self.linear1 = Linear(64, 128)``).

Everything else follows from walking that tree: ``parameters()`` for the optimizer,
``state_dict()`` with dotted names (``linear1.weight``) for saving, ``train()``/``eval()``
for layers that behave differently in training, and a nested ``repr``.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Iterator

import numpy as np

from ..._dtypes import float32, float64, to_dtype
from ..._tensor import Tensor, check_device
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict(..., strict=False)`` returns, printed like torch's."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__().replace("IncompatibleKeys", "_IncompatibleKeys", 1)


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (how torch nests child reprs)."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])


def _as_array(value, key: str) -> np.ndarray:
    """A checkpoint value as a numpy array: our Tensor, a torch tensor, or a numpy array."""
    if isinstance(value, Tensor):
        return value._data
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    raise TypeError(
        f'While copying the parameter named "{key}", expected a Tensor, a torch tensor or a '
        f"numpy array from the checkpoint but received {type(value).__name__}"
    )


class Module:
    """Base class for all neural network modules: subclass it, assign layers in ``__init__``,
    and write ``forward``. Calling the module runs ``forward``.

    >>> import aigc_course as ac
    >>> from aigc_course import nn
    >>> class TwoLayerNet(nn.Module):
    ...     def __init__(self, D_in, H, D_out):
    ...         super().__init__()
    ...         self.linear1 = nn.Linear(D_in, H)
    ...         self.linear2 = nn.Linear(H, D_out)
    ...     def forward(self, x):
    ...         return self.linear2(self.linear1(x).clamp(min=0))
    >>> model = TwoLayerNet(64, 128, 10)
    >>> [name for name, _ in model.named_parameters()]
    ['linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias']
    >>> model(ac.randn(5, 64)).shape
    aigc_course.Size([5, 10])

    See chapter 3.
    """

    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"Module.__init__() takes no arguments, but got {args} {kwargs}")
        # object.__setattr__: our own __setattr__ needs these registries to exist first
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ registration

    def _check_name(self, name, kind: str, registry: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", but got "{name}"')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter under ``name`` (``None`` reserves the name, as Linear's bias)."""
        self._check_name(name, "parameter", "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(aigc_course.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                "created explicitly: wrap the tensor in nn.Parameter(t.detach())."
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not learned (saved in ``state_dict`` if persistent)."""
        self._check_name(name, "buffer", "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (what ``self.name = module`` does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module", "_modules")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        if isinstance(value, Parameter):
            if "_parameters" not in d:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(aigc_course.nn.Parameter or None expected)"
                )
            d["_parameters"][name] = None
        elif isinstance(value, Module):
            if "_modules" not in d:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            d["_modules"][name] = value
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(Module or None expected)"
                )
            d["_modules"][name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(Tensor or None expected)"
                )
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str) -> None:
        """Remove ``name`` from the other registries (a name lives in exactly one place); in
        ``keep`` it stays where it is, so reassigning a weight keeps its position."""
        d = self.__dict__
        d.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                d[registry].pop(name, None)
        d["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name: str):
        # only called when normal lookup fails: look in the three registries
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in d.get(registry, ()):
                del d[registry][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        registered = list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(list(super().__dir__()) + registered))

    # ------------------------------------------------------------------ traversal

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ):
        """Yield ``(dotted_name, module)`` for this module and all below it, depth first."""
        memo = set() if memo is None else memo
        if remove_duplicate and id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                sub = f"{prefix}.{name}" if prefix else name
                yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)``; a parameter shared by two layers appears once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every learnable tensor, for the optimizer: ``SGD(model.parameters(), lr=0.1)``."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """``model.get_submodule("blocks.0.attn")``."""
        module = self
        for item in target.split(".") if target else []:
            if item not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = module._modules[item]
        return module

    # ------------------------------------------------------------------ state_dict

    def _state_entries(self, prefix: str = ""):
        """``(key, tensor)`` in torch's order: each module's parameters,
        then its persistent buffers, then its children's entries. Shared tensors appear under
        every name that reaches them (as in torch, so tied weights load from either key)."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                yield prefix + name, b
        for name, module in self._modules.items():
            if module is not None:
                yield from module._state_entries(prefix + name + ".")

    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Name → tensor for every parameter and persistent buffer, with dotted names.

        The tensors share memory with the model but are detached from autograd (unless
        ``keep_vars``), exactly as in torch.
        """
        return OrderedDict(
            (key, t if keep_vars else t.detach()) for key, t in self._state_entries(prefix)
        )

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values from ``state_dict`` (ours, torch's, or numpy arrays) into this model.

        Every key and shape is checked *before* anything is copied, so a failed load leaves
        the model untouched (torch may have copied some tensors by the time it raises).
        With ``strict=False``, missing and unexpected keys are returned instead of raised.
        Size mismatches always raise.
        """
        entries = list(self._state_entries())
        expected = {key for key, _ in entries}
        missing = [key for key, _ in entries if key not in state_dict]
        unexpected = [key for key in state_dict if key not in expected]
        errors, copies = [], []
        for key, target in entries:
            if key not in state_dict:
                continue
            source = _as_array(state_dict[key], key)
            if source.shape != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {list(source.shape)} "
                    f"from checkpoint, the shape in current model is {list(target.shape)}."
                )
            copies.append((target, source))
        if strict and unexpected:
            keys = ", ".join(f'"{k}"' for k in unexpected)
            errors.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
        if strict and missing:
            keys = ", ".join(f'"{k}"' for k in missing)
            errors.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with no_grad():  # in place: the optimizer keeps pointing at the same tensors
            for target, source in copies:
                target.copy_(source.astype(target._data.dtype, copy=False))
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ modes and helpers

    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and every module below it (Dropout reads it)."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, but got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """``train(False)``: Dropout becomes the identity."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter (``backward`` adds into ``.grad``)."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = p.grad.detach().zero_()

    def apply(self, fn) -> Module:
        """Call ``fn`` on every child (recursively), then on this module; e.g. custom init."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args, dtype=None, device=None) -> Module:
        """Cast floating-point parameters and buffers in place: ``model.to(torch.float64)``."""
        for a in args:
            if isinstance(a, str) or type(a).__name__ == "device":
                device = a
            else:
                dtype = a
        check_device(device)
        if dtype is not None:
            np_dtype = to_dtype(dtype).numpy_dtype
            for t in list(self.parameters()) + list(self.buffers()):
                if t.dtype.is_floating_point:
                    t._data = t._data.astype(np_dtype)
                    if t._grad is not None:
                        t._grad = t._grad.to(dtype)
        return self

    def float(self) -> Module:
        return self.to(float32)

    def double(self) -> Module:
        return self.to(float64)

    def cpu(self) -> Module:
        return self

    # ------------------------------------------------------------------ printing

    def extra_repr(self) -> str:
        """The text between the parentheses of this module's one-line repr."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): {_addindent(repr(module), 2)}" for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"
