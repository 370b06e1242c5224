r"""``einsum``: products and sums of tensors written as index equations (Einstein notation).

``einsum("ij,jk->ik", A, B)`` names each axis of each operand with a letter. Letters shared by
operands are multiplied together, letters missing from the output (after ``->``) are summed:

$$z_{ik} = \sum_j A_{ij} B_{jk}.$$

Without ``->`` the output holds the letters that appear exactly once, in alphabetical order
(``"ij,jk"`` is ``"ij,jk->ik"``); ``...`` stands for the remaining axes, which broadcast as in
``+``. A letter repeated in one operand takes the diagonal (``"ii->i"``, ``"ii"`` is the trace).

The gradient of an operand is another einsum: the output's gradient times the other operands,
with the operand's own letters as the output. Two cases need a constant operand, because einsum
can only keep letters that some operand carries:

- a letter only this operand has (summed away, ``"ij->i"``): a vector of ones carries it, and
  the gradient is copied along it;
- a repeated letter (``"ii->i"``): the identity matrix $\delta_{ii'}$ carries the second copy,
  so the gradient lands on the diagonal only.

Since the backward is itself an einsum of tensors, it differentiates again (``create_graph``).
"""

from __future__ import annotations

import string

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # torch's order: 'A' < ... < 'z'


class Einsum(Function):
    r"""$z$ = ``np.einsum`` over explicit letters (``subs``: one string per operand, ``out``: the
    output's). Operand $k$'s gradient is the einsum of $dz$ with the other operands, onto
    $k$'s letters (see the module's docstring for the ones and the identity it may need)."""

    @staticmethod
    def forward(ctx, *operands, subs, out):
        ctx.subs, ctx.out = subs, out
        ctx.save_for_backward(*operands)
        equation = ",".join(subs) + "->" + out
        z = np.asarray(np.einsum(equation, *operands, optimize=len(operands) > 1))
        return z if z.flags.c_contiguous else z.copy(order="C")  # numpy may return it transposed

    @staticmethod
    def backward(ctx, dz):
        operands = ctx.saved_tensors
        return tuple(
            _operand_grad(dz, operands, ctx.subs, ctx.out, k) if ctx.needs_input_grad[k] else None
            for k in range(len(operands))
        )


class EinsumView(Einsum):
    r"""One operand, nothing summed (``"ij->ji"``, ``"ii->i"``): numpy returns a view of it, a
    permutation or a diagonal, as torch does, so that writes through one show in the other."""

    is_view = True

    @staticmethod
    def forward(ctx, x, subs, out):
        ctx.subs, ctx.out = subs, out
        ctx.save_for_backward(x)
        if out == subs[0]:  # the identity (numpy would copy a 0-d one)
            return x.view()
        return np.einsum(f"{subs[0]}->{out}", x)


def _operand_grad(dz: Tensor, operands, subs, out: str, k: int) -> Tensor:
    """$dz$ contracted with every operand but the $k$-th, onto the $k$-th's letters."""
    own = subs[k]
    others = [(t, s) for j, (t, s) in enumerate(zip(operands, subs)) if j != k]
    carried = set(out).union(*[s for _, s in others])
    free = iter(c for c in _LETTERS if c not in carried and c not in own)
    terms, target, seen = [(dz, out), *others], "", set()
    for letter, n in zip(own, operands[k].shape):
        if letter in seen:  # a repeated letter: the identity ties the copy to the first one
            copy = next(free)
            terms.append((Tensor._make(np.eye(n, dtype=dz._data.dtype)), letter + copy))
            target += copy
            continue
        seen.add(letter)
        target += letter
        if letter not in carried:  # summed away in forward: copied back along a row of ones
            terms.append((Tensor._make(np.ones(n, dtype=dz._data.dtype)), letter))
            carried.add(letter)
    grad = Einsum.apply(*[t for t, _ in terms], subs=tuple(s for _, s in terms), out=target)
    shape = operands[k]._data.shape
    if grad._data.shape != shape:  # a letter of size 1 elsewhere: broadcast back along it
        grad = grad.expand(np.broadcast_shapes(grad._data.shape, shape))
    return grad  # (and where this operand had the size 1, Function._backward sums it)


# ---------------------------------------------------------------- parsing the equation


def _error(message: str) -> RuntimeError:
    return RuntimeError(f"einsum(): {message}")


def _terms(equation: str) -> tuple[list[str], str | None]:
    """The input terms and the output term (None without ``->``), spaces removed, each
    character checked; ``...`` is kept as one ``'.'``."""
    inputs, arrow, output = equation.partition("->")
    terms, term = [], ""
    for offset, text, is_output in ((0, inputs, False), (len(inputs) + 2, output, True)):
        i = 0
        while i < len(text):
            c = text[i]
            if c == "." and text[i : i + 3] == "...":
                if "." in term:
                    raise _error(
                        f"found '.' for operand {len(terms)} for which an ellipsis was already "
                        "found"
                    )
                term, i = term + ".", i + 3
                continue
            if c == ".":
                raise _error(f"found '.' for operand {len(terms)} that is not part of any ellipsis")
            if c == "," and not is_output:
                terms.append(term)
                term = ""
            elif c not in _LETTERS and c != " ":
                raise _error(
                    f"invalid subscript given at index {offset + i} in the equation string, "
                    "subscripts must be in [a-zA-Z]"
                )
            elif c != " ":
                term += c
            i += 1
        if not is_output:
            terms.append(term)
            term = ""
    return terms, (term if arrow else None)


def _explicit(equation: str, operands) -> tuple[tuple[str, ...], str]:
    """Every term spelled with letters only: ``...`` replaced by letters the equation does not
    use (right-aligned, so that they broadcast), and the implicit output made explicit."""
    terms, output = _terms(equation)
    if len(terms) > len(operands):
        raise _error("fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise _error("more operands were provided than specified in the equation")
    n_ellipsis = 0
    for k, (term, t) in enumerate(zip(terms, operands)):
        n_letters, ndim = len(term.replace(".", "")), t._data.ndim
        if "." in term:
            if n_letters > ndim:
                raise _error(
                    f"the number of subscripts in the equation ({n_letters}) is more than the "
                    f"number of dimensions ({ndim}) for operand {k}"
                )
            n_ellipsis = max(n_ellipsis, ndim - n_letters)
        elif n_letters != ndim:
            raise _error(
                f"the number of subscripts in the equation ({n_letters}) does not match the "
                f"number of dimensions ({ndim}) for operand {k} and no ellipsis was given"
            )
    used = set(equation)
    spare = [c for c in _LETTERS if c not in used][:n_ellipsis]
    subs = tuple(
        term.replace(".", "".join(spare[n_ellipsis - (t._data.ndim - len(term) + 1) :]))
        for term, t in zip(terms, operands)
    )
    if output is None:  # the letters seen once, alphabetically, after the ellipsis' letters
        counts = {c: "".join(terms).count(c) for c in set("".join(terms)) - {"."}}
        output = "".join(spare) + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        for c in output.replace(".", ""):
            if output.count(c) > 1:
                raise _error(f"output subscript {c} appears more than once in the output")
            if not any(c in term for term in terms):
                raise _error(
                    f"output subscript {c} does not appear in the equation for any input operand"
                )
        output = output.replace(".", "".join(spare))
    return subs, output


def _check_sizes(subs, operands) -> None:
    """torch's rule: the sizes a letter has in different operands broadcast (equal, or 1);
    a letter repeated within one operand has one size."""
    sizes: dict[str, int] = {}
    for k, (term, t) in enumerate(zip(subs, operands)):
        own: dict[str, int] = {}
        for c, n in zip(term, t._data.shape):
            if c in own and own[c] != n:
                raise _error(
                    f"subscript {c} is repeated for operand {k} but the sizes don't "
                    f"match, {own[c]} != {n}"
                )
            own[c] = n
        for c, n in own.items():
            seen = sizes.get(c, 1)
            if n != seen and n != 1 and seen != 1:
                raise _error(
                    f"subscript {c} has size {n} for operand {k} which does not "
                    f"broadcast with previously seen size {seen}"
                )
            sizes[c] = max(seen, n) if n else 0


def _from_sublists(args) -> tuple[str, list]:
    """torch's second form, ``einsum(x, [0, 1], y, [1, 2], [0, 2])``: integers in [0, 52) for
    letters, ``...`` (``Ellipsis``) for the ellipsis."""

    def letters(sublist) -> str:
        return "".join("..." if s is Ellipsis else _LETTERS[s] for s in sublist)

    pairs, output = (args[:-1], args[-1]) if len(args) % 2 else (args, None)
    equation = ",".join(letters(s) for s in pairs[1::2])
    if output is not None:
        equation += "->" + letters(output)
    return equation, list(pairs[0::2])


def einsum(equation, *operands) -> Tensor:
    r"""Sums of products of ``operands``, as ``equation`` names their axes (torch's forms:
    explicit ``"ij,jk->ik"``, implicit ``"ij,jk"``, ``...`` for the remaining axes, the
    operands as one list, or torch's sublist form).

    >>> import aigc_course as ac
    >>> a, b = ac.tensor([[1.0, 2.0], [3.0, 4.0]]), ac.tensor([1.0, 1.0])
    >>> ac.einsum("ij,j->i", a, b)  # a @ b
    tensor([3., 7.])
    >>> ac.einsum("ii", a)  # the trace
    tensor(5.)
    >>> ac.einsum("...ij->...ji", a).shape  # a transpose, any batch axes
    aigc_course.Size([2, 2])
    """
    if not isinstance(equation, str):
        if not isinstance(equation, Tensor):
            raise TypeError(
                "einsum(): argument 'equation' (position 1) must be str, not "
                f"{type(equation).__name__}"
            )
        equation, operands = _from_sublists((equation, *operands))
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 1, but got {type(t).__name__}"
            )
    subs, output = _explicit(equation, operands)
    _check_sizes(subs, operands)
    first = operands[0].dtype if operands else None
    for t in operands[1:]:
        if t.dtype is not first:
            raise RuntimeError(
                f"expected scalar type {first.scalar_name} but found {t.dtype.scalar_name}"
            )
    if first is not None and first.name == "bool" and len(operands) > 1:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    if len(operands) == 1 and set(subs[0]) == set(output):
        return EinsumView.apply(*operands, subs=subs, out=output)
    return Einsum.apply(*operands, subs=subs, out=output)
