r"""``Function``: one differentiable operation, its forward and its backward side by side.

Calling ``SomeFunction.apply(x, y)`` creates one *node* of the computation graph: an instance of
the class, which is both the ``ctx`` that ``forward`` writes to and the ``grad_fn`` of the result.
The node points at the nodes of its inputs through ``next_functions``, exactly as in torch, so a
graph can be walked from any result back to its leaves. Chapter 2 draws such graphs.

Two kinds of subclasses share this class:

- the package's primitives (every class in :mod:`aigc_course.ops`): ``forward`` computes on the
  numpy arrays of its tensor arguments (fast, no graph) and returns an array;
- your own, written for torch (``class MyFn(autograd.Function)``): ``forward`` receives the
  tensors themselves and returns a tensor, or a tuple of outputs (then ``backward`` receives
  one gradient per output), computed with grad mode off, as in torch.

Both write ``backward`` with Tensor operations, so that with ``create_graph=True`` the backward
pass is itself recorded and can be differentiated again. A node keeps only what its backward
needs: what ``forward`` passed to ``ctx.save_for_backward`` (and attributes set on ``ctx``).
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from .._tensor import Tensor
from . import grad_mode

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)


class Node:
    """What every graph node has: a name, its parents, and a way to run backward."""

    next_functions: tuple = ()
    _retained: tuple = ()  # weak references to tensors whose .grad we keep (retain_grad)
    _n_outputs = 1  # a Function whose forward returns a tuple has one gradient per output

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    r"""The node at a leaf that requires grad: it adds the incoming gradient into ``leaf.grad``.

    The first gradient is copied into fresh, contiguous memory that the leaf owns, so that
    ``leaf.grad`` never aliases another tensor; later ones are added *in place* into that
    same tensor ($\text{grad} \mathrel{+}= g$), as torch's AccumulateGrad does. Under
    ``create_graph=True`` the sum is recorded instead, so it can be differentiated.
    """

    def __init__(self, variable: Tensor):
        self.variable = variable

    def accumulate(self, g: Tensor, create_graph: bool) -> None:
        leaf = self.variable
        old = leaf._grad
        if old is None:
            leaf._grad = g.clone() if create_graph else Tensor._make(np.array(g._data, order="C"))
        elif create_graph or old._requires_grad:
            leaf._grad = old + g
        else:
            np.add(old._data, g._data, out=old._data)
            old._version_counter.value += 1


class _SavedOutput:
    """Marks the output among the saved values: the node keeps its array, not the tensor,
    because the tensor points at the node (``grad_fn``) and a pointer back would make a
    reference cycle, which only Python's slow cyclic garbage collector can free."""


class Function(Node):
    """Base class of a differentiable operation.

    Subclasses write two static methods:

    - ``forward(ctx, *args, **options)``: the value. Tensors arrive as numpy arrays for the
      package's primitives, as Tensors for your own Functions. Save what backward needs with
      ``ctx.save_for_backward(...)``, and anything else as an attribute of ``ctx``.
    - ``backward(ctx, grad)``: the gradient for each positional input (``None`` for a
      non-tensor), given the gradient ``grad`` of the output: a vector-Jacobian product.
      ``ctx.saved_tensors`` gives back what forward saved, as Tensors.

    Broadcasting is undone in one place, :meth:`_backward`, which sums each gradient back to
    its input's shape; backward rules never deal with it.
    """

    forward_on_arrays = False  # True for the package's primitives (set in __init_subclass__)
    is_view = False  # True where the output may share the input's memory (view, permute...)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "forward_on_arrays" not in cls.__dict__ and cls.__module__.startswith("aigc_course.ops"):
            cls.forward_on_arrays = True

    # a node's state, until set on it: nothing saved, not freed, no retained .grad
    _saved: tuple = ()
    _saved_versions: tuple = ()
    _output = None  # (array, version counter, version) of the output, only if saved
    _freed = False

    def name(self) -> str:
        """The node's name as torch prints it: ``MulBackward0`` for the package's primitives
        (torch's name where the operation is the same, see :func:`_torch_name`), and
        ``MyFnBackward`` for your own ``MyFn``, as torch names a custom Function's node."""
        if type(self).forward_on_arrays:
            return _torch_name(self)
        return type(self).__name__ + "Backward"

    # ------------------------------------------------------------------ what forward saves

    def save_for_backward(self, *values) -> None:
        """Keep these (inputs, the output, or other arrays/tensors) for ``backward``."""
        self._saved = values

    _non_differentiable: tuple = ()
    _materialize_grads = True

    def mark_non_differentiable(self, *outputs) -> None:
        """Mark outputs of ``forward`` (the tensors it returns) as constants: they do not require
        grad, and ``backward`` receives zeros for them, as in torch (e.g. argmax indices)."""
        self._non_differentiable = outputs

    def set_materialize_grads(self, value: bool) -> None:
        """For a Function with several outputs: whether ``backward`` receives zeros (the
        default, as torch) or ``None`` for an output whose gradient never arrived."""
        self._materialize_grads = value

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        self._check_versions()
        saved = self._saved
        if self._output is None:  # the output is not among them: nothing to rebuild
            return saved
        return tuple([self._unpack(t) for t in saved])

    def _unpack(self, t):
        if t is not _SavedOutput:
            return t
        data, version_counter, _ = self._output
        out = Tensor._make(data)
        out.grad_fn, out._requires_grad, out._version_counter = self, True, version_counter
        return out

    def _check_versions(self) -> None:
        """Refuse to differentiate with values that were modified in place after forward saved
        them (each in-place op bumps its tensor's version, as torch's version counter does)."""
        for t, saved in zip(self._saved, self._saved_versions):
            if saved is None:  # nothing, or a Python number: no version to check
                continue
            if t is _SavedOutput:
                array, counter, _ = self._output
            else:
                array, counter = t._data, t._version_counter
            if counter.value != saved:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: a {array.dtype} tensor of shape {list(array.shape)}, "
                    f"saved by {self.name()}, is at version {counter.value}; expected version "
                    f"{saved} instead. Hint: change a copy (x = x + 1, or x.clone()) or make "
                    "the change before the forward pass."
                )

    def _resolve_saved(self, args, result, out) -> None:
        """After forward: turn what was saved into tensors, and note their versions."""
        saved, versions = [], []
        for v in self._saved:
            if v is None:
                saved.append(None)
                versions.append(None)
            elif v is out or v is result:  # the output: keep its array, not the tensor
                counter = out._version_counter
                self._output = (out._data, counter, counter.value)
                saved.append(_SavedOutput)
                versions.append(counter.value)
            elif type(v) in (float, int):  # a Python number operand (x * 2.0)
                saved.append(v)
                versions.append(None)
            else:
                if not isinstance(v, Tensor):  # a primitive saved an array
                    v = _input_with_array(args, v)
                saved.append(v)
                versions.append(v._version_counter.value)
        self._saved = tuple(saved)
        self._saved_versions = tuple(versions)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    # ------------------------------------------------------------------ running it

    @classmethod
    def apply(cls, *args, **options) -> Tensor:
        """Run ``forward`` with grad mode off and, if an input requires grad, record a node.

        This runs for every operation, so it is written for speed: no generator expressions,
        and the node's bookkeeping (``next_functions``, input shapes, saved values) is done
        only when a node is recorded.
        """
        ctx = object.__new__(cls)  # the node; the class holds its empty defaults
        if grad_mode._enabled:
            needs = tuple(
                [
                    isinstance(a, Tensor)
                    and (a._requires_grad or (a._base is not None and _stale(a)))
                    for a in args
                ]
            )
        else:
            needs = (False,) * len(args)
        ctx.needs_input_grad = needs
        if cls.forward_on_arrays:  # numpy does not record, so grad mode can stay as it is
            arrays = [a._data if isinstance(a, Tensor) else a for a in args]
            result = cls.forward(ctx, *arrays, **options)
        else:  # your own Function: its Tensor operations must not be recorded
            grad_on = grad_mode._enabled
            grad_mode._enabled = False
            try:
                result = cls.forward(ctx, *args, **options)
            finally:
                grad_mode._enabled = grad_on
        if type(result) is np.ndarray:
            out = Tensor._make(result)
            if cls.is_view and result.base is not None:  # shares memory, so the version count
                base = args[0]
                out._version_counter = base._version_counter
                out._base = base if base._base is None else base._base
                out._view_version = base._version_counter.value
        elif type(result) is tuple:  # several outputs
            return ctx._record_outputs(args, needs, result)
        else:
            out = _wrap_output(cls, result, args)
            if ctx._non_differentiable and _is_marked(ctx, result):
                return out
        if True in needs and out._data.dtype.kind == "f":  # integer results are never recorded
            ctx.next_functions = tuple([_edge(a) for a in args])
            ctx._shapes = tuple(
                [(a._data.shape, a._data.dtype) if isinstance(a, Tensor) else None for a in args]
            )
            if ctx._saved:
                ctx._resolve_saved(args, result, out)
            out.grad_fn = ctx
            out._requires_grad = True
        return out

    def _record_outputs(self, args, needs, result: tuple) -> tuple:
        """The outputs of a forward that returned a tuple: each float tensor that is not marked
        non-differentiable gets this node as its ``grad_fn`` and its position as ``_output_nr``
        (other items pass through). A saved output is kept as the tensor itself."""
        outputs = tuple(
            [
                _wrap_output(type(self), r, args) if isinstance(r, (Tensor, np.ndarray)) else r
                for r in result
            ]
        )  # (other items, an int or None, pass through as in torch)
        self._outputs_meta = tuple(
            [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in outputs]
        )
        if len(outputs) > 1:
            self._n_outputs = len(outputs)
        if True not in needs:
            return outputs
        recorded = False
        for i, (o, r) in enumerate(zip(outputs, result)):
            if isinstance(o, Tensor) and o._data.dtype.kind == "f" and not _is_marked(self, r):
                o.grad_fn, o._requires_grad, o._output_nr = self, True, i
                recorded = True
        if recorded:
            self.next_functions = tuple([_edge(a) for a in args])
            self._shapes = tuple(
                [(a._data.shape, a._data.dtype) if isinstance(a, Tensor) else None for a in args]
            )
            if self._saved:
                self._resolve_saved(args, None, None)
        return outputs

    def _output_grads(self, grads: list) -> list:
        """One gradient per output for ``backward``: zeros (or ``None``, if
        :meth:`set_materialize_grads` said so) where none arrived; ``None`` for a non-tensor."""
        if not self._materialize_grads:
            return grads
        return [
            Tensor._make(np.zeros(*meta)) if g is None and meta is not None else g
            for g, meta in zip(grads, self._outputs_meta)
        ]

    def _backward(self, grad) -> tuple[Tensor | None, ...]:
        """Call ``backward`` and fit each gradient to its input: undo broadcasting, cast dtype.

        ``grad`` is one tensor, or for a Function with several outputs a list of them, one per
        output. As in torch, a wrong number of gradients, or one whose shape cannot be summed
        down to its input's, raises a RuntimeError naming the Function.
        """
        if self._n_outputs == 1:
            grads = type(self).backward(self, grad)
        else:
            grads = type(self).backward(self, *self._output_grads(grad))
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(self.next_functions):
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients (expected "
                f"{len(self.next_functions)}, got {len(grads)})"
            )
        fitted = []
        for i, (g, meta, (fn, _)) in enumerate(zip(grads, self._shapes, self.next_functions)):
            if g is None or fn is None:
                fitted.append(None)
                continue
            shape, dtype = meta
            data = g._data
            if data.shape == shape and data.dtype == dtype:  # the common case: nothing to fit
                fitted.append(g)
                continue
            if g._data.shape != shape:
                if not _expandable(shape, g._data.shape):
                    raise RuntimeError(
                        f"Function {self.name()} returned an invalid gradient at index {i} - got "
                        f"{list(g._data.shape)} but expected shape compatible with {list(shape)}"
                    )
                g = g.sum_to_size(shape)
            if g._data.dtype != dtype:
                g = g.to(_dtypes.from_numpy_dtype(dtype))
            fitted.append(g)
        return tuple(fitted)

    def _free(self) -> None:
        self._saved = ()
        self._output = None
        self._freed = True


# torch's node names where they are not simply ours + "Backward0" (the trailing number is
# torch's overload: sum() is SumBackward0, sum(dim) SumBackward1)
_TORCH_NAMES = {
    "Reshape": "ViewBackward0",
    "Clamp": "ClampBackward1",
    "LayerNorm": "NativeLayerNormBackward0",
    "To": "ToCopyBackward0",
    "GeluTanh": "GeluBackward0",
    "LogSumExp": "LogsumexpBackward0",
    "Transpose": "TransposeBackward0",
    "SumToSize": "SumBackward1",
}


def _torch_name(node: Function) -> str:
    name = type(node).__name__
    if name in ("Sum", "Mean"):  # reduce everything: overload 0; along dims: 1
        return f"{name}Backward{0 if getattr(node, 'dim', None) is None else 1}"
    if name in ("Max", "Min"):
        return f"{name}Backward{1 if getattr(node, 'dim', None) is None else 0}"
    if name == "Matmul":  # torch's matmul dispatches on the operands' ranks
        shapes = getattr(node, "_shapes", None)
        ranks = tuple(len(s[0]) for s in shapes) if shapes else (2, 2)
        return {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0"}.get(
            ranks, "UnsafeViewBackward0" if ranks[0] > 2 and ranks[1] == 2 else "BmmBackward0"
        )
    if name == "Linear":  # torch: addmm with a bias, mm without, a view for batched input
        shapes = getattr(node, "_shapes", None) or (((0, 0),), None, None)
        bias = len(shapes) > 2 and shapes[2] is not None
        if len(shapes[0][0]) > 2:
            return "ViewBackward0" if bias else "UnsafeViewBackward0"
        return "AddmmBackward0" if bias else "MmBackward0"
    if name == "Index" and len(getattr(node, "steps", ())) == 1:  # one numpy index
        items = node.steps[0]
        items = items if isinstance(items, tuple) else (items,)
        if all(isinstance(i, slice) or i is Ellipsis for i in items):
            return "SliceBackward0"
        if all(isinstance(i, (int, slice)) or i is Ellipsis for i in items):
            return "SelectBackward0"
    return _TORCH_NAMES.get(name, name + "Backward0")


def _edge(t) -> tuple:
    """Where the gradient for argument ``t`` goes: its ``grad_fn``, its leaf's AccumulateGrad,
    or nowhere (``None``) for a constant or a non-tensor."""
    if not isinstance(t, Tensor):
        return (None, 0)
    if t._base is not None and t._version_counter.value != t._view_version:
        t._refresh_view()  # its base was changed in place after the view was taken
    fn = t.grad_fn
    if fn is not None:
        return (fn, 0) if fn._n_outputs == 1 else (fn, t._output_nr)
    if t._requires_grad:
        if t._accumulator is None:
            t._accumulator = AccumulateGrad(t)
        return (t._accumulator, 0)
    return (None, 0)


def _stale(t: Tensor) -> bool:
    """Whether ``t`` is a view whose base has since been changed in place into a tensor that
    requires grad (``buf[1] = w * 3`` makes ``buf``, and so its views, require grad)."""
    return t._base._requires_grad and t._version_counter.value != t._view_version


def _input_with_array(args, array: np.ndarray) -> Tensor:
    """The input tensor whose array forward saved, or a constant tensor for a new array."""
    for a in args:
        if isinstance(a, Tensor) and a._data is array:
            return a
    return Tensor._make(np.asarray(array))


def _wrap_output(cls, result, args) -> Tensor:
    """The output tensor for what forward returned, other than a numpy array."""
    if isinstance(result, Tensor):
        if any(result is a for a in args):  # forward returned an input: a new tensor on it
            alias = Tensor._make(result._data)
            alias._version_counter = result._version_counter
            return alias
        return result.detach() if result.grad_fn is not None else result
    return Tensor._make(np.asarray(result))  # a numpy scalar (ufuncs return them for 0-d)


def _is_marked(ctx: Function, output) -> bool:
    """Whether ``ctx.mark_non_differentiable`` named this output (by identity)."""
    return any(output is t for t in ctx._non_differentiable)


def _expandable(shape: tuple, target: tuple) -> bool:
    """Whether ``shape`` broadcasts to ``target`` (so a gradient of ``target`` sums back)."""
    if len(shape) > len(target):
        return False
    return all(n == 1 or n == m for n, m in zip(reversed(shape), reversed(target)))
