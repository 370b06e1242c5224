r"""``Optimizer``: the base class that holds parameter groups and per-parameter state.

An optimizer owns three things:

- ``param_groups``: a list of dicts, each with its ``"params"`` and its own options (``lr``,
  ``weight_decay``...), so that, say, biases can train without weight decay;
- ``state``: a dict from parameter to what the algorithm remembers about it between steps,
  under torch's keys, so that state dicts move between the two libraries: Adam's ``m`` and
  ``v`` are ``exp_avg`` and ``exp_avg_sq``, SGD's momentum buffer ``b`` is
  ``momentum_buffer``, and the step count ``step`` is a 0-d float32 tensor, as in torch;
- ``defaults``: the options a group gets when it does not set them.

``step()`` reads each parameter's ``.grad`` and updates the parameter in place; a parameter
whose ``.grad`` is ``None`` is skipped, as in torch. What every algorithm does before its own
maths (skip, ``maximize``, weight decay, a fresh parameter's state, the step count) is written
once, in :meth:`Optimizer._gradients`, and each ``step`` is a loop over what it yields.
``state_dict()`` and
``load_state_dict()`` save and restore both the options and the state, so training resumes
exactly where it stopped (chapter 6).

Note: the subclasses do their arithmetic on the numpy arrays under the tensors (``p._data``,
the counterpart of torch's ``p.data``) rather than with Tensor methods: the update is not
part of any graph, and at the small sizes of this course the per-call overhead of Tensor
methods would cost more than the maths (chapter 4 measures both).
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad

__all__ = ["Optimizer", "required"]


class _Required:
    """Marks an option with no default (like torch's ``required``): SGD's ``lr`` once was."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class of all optimizers: param groups, state, ``zero_grad``, ``state_dict``.

    A subclass calls ``super().__init__(params, defaults)`` and implements ``step``, usually
    as a loop over :meth:`_gradients`. See chapter 4.
    """

    decoupled_weight_decay = False  # AdamW: weight decay shrinks theta instead of adding to g

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]):
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (the missing ones from defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, "
                    f"but one of the params is {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = {**param_group, "params": params}
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required option {name}"
                )
            group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error (as torch warns)",
                UserWarning,
                stacklevel=3,
            )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if seen & {id(p) for p in params}:
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set each ``.grad`` to ``None`` (the default) or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad._data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; subclasses implement it."""
        raise NotImplementedError

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        """torch's names for the running averages each parameter keeps, all zeros at first
        (Adam's ``exp_avg`` and ``exp_avg_sq``). An optimizer that keeps any also counts its
        steps, in ``step``. SGD keeps none here: its momentum buffer starts as the first
        gradient, which is part of its maths."""
        return ()

    def _gradients(self) -> Iterator[tuple[dict[str, Any], np.ndarray, np.ndarray, dict]]:
        """The preamble that every ``step`` shares. For each parameter that has a gradient,
        yield ``(group, theta, g, state)``: its group's options, the parameter's numpy array
        (to update in place), the gradient as the maths uses it (negated under ``maximize``,
        with the L2 term added), and its state, created on its first step under torch's keys.
        """
        for group in self.param_groups:
            lr, lam = group["lr"], group["weight_decay"]
            keys = self._state_keys(group)
            for p in group["params"]:
                if p.grad is None:
                    continue  # as in torch: no gradient, no update
                theta, g = p._data, p.grad._data  # numpy arrays; theta is updated in place
                if group["maximize"]:
                    g = -g
                if lam != 0:
                    if self.decoupled_weight_decay:
                        theta *= 1 - lr * lam  # AdamW: shrink the weights, apart from g
                    else:
                        g = g + lam * theta  # L2 penalty, added to the gradient
                state = self.state.get(p, {})
                if keys:
                    if not state:  # the first step, as torch tests it
                        state["step"] = Tensor._make(np.zeros((), dtype=np.float32))
                        state.update({key: zeros_like(p) for key in keys})
                    state["step"] += 1  # a 0-d float32 tensor, as torch keeps it
                yield group, theta, g, state
                # subtle: a generator resumes here when the loop asks for the next parameter,
                # that is, after the step's update of this one
                if state:  # SGD without momentum keeps no state, as torch
                    self.state[p] = state
                p._bump_version()  # a graph that saved the old theta now refuses to backward

    def _evaluate(self, closure: Callable[[], Any] | None):
        """Run ``closure`` (which recomputes the loss and its gradients) with grad enabled."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ saving and loading

    def state_dict(self) -> dict[str, Any]:
        """The options and the state, with parameters replaced by their index (0, 1, 2...).

        As in torch, the state's tensors are returned, not copied: ``copy.deepcopy`` the
        result (or save it to disk) to keep a snapshot while training goes on.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**group, "params": ids})
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by :meth:`state_dict` (copied, not shared)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups: "
                f"{len(groups)} != {len(self.param_groups)}"
            )
        for ours, saved in zip(self.param_groups, groups, strict=True):
            if len(ours["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group: {len(saved['params'])} != {len(ours['params'])}"
                )
        by_index = {
            i: p
            for ours, saved in zip(self.param_groups, groups, strict=True)
            for i, p in zip(saved["params"], ours["params"], strict=True)
        }
        self.state = defaultdict(dict)
        for i, s in state_dict["state"].items():
            p = by_index[int(i)]
            self.state[p] = {k: _copy_state_value(v) for k, v in s.items()}
        for ours, saved in zip(self.param_groups, groups, strict=True):
            ours.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})


def _copy_state_value(v):
    """A private copy of one state value: our tensors are cloned, torch's converted (a state
    dict from ``torch.optim`` loads as it is), anything else deep-copied."""
    if isinstance(v, Tensor):
        return Tensor._make(np.array(v._data))
    if type(v).__module__ == "torch" and hasattr(v, "numpy"):
        return Tensor._make(np.array(v.detach().cpu().numpy()))
    return copy.deepcopy(v)


def check_hyperparameter(what: str, value: float, low: float = 0.0) -> None:
    """Raise ``ValueError`` naming ``value`` unless ``value >= low``, worded as torch words it
    (``Invalid learning rate: -0.1``)."""
    if not value >= low:  # written this way so that NaN is refused too
        raise ValueError(f"Invalid {what}: {value}")


def check_betas(betas: tuple[float, float]) -> None:
    """Each beta must lie in [0, 1): it is the weight an average gives its past."""
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def zeros_like(p: Tensor) -> Tensor:
    """A new state tensor of zeros, shaped and typed like ``p``."""
    return Tensor._make(np.zeros_like(p._data))
