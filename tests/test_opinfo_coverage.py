"""The registry covers every public op: each function of ``aigc_course``,
``aigc_course.nn.functional`` and ``aigc_course.linalg``, and each public ``Tensor`` method,
is called directly by some OpInfo entry (whose checks compare it with torch), or is listed,
with a comment, in ``opinfo.registry.NOT_OPS``. See ``tests/opinfo/registry.py``."""

from __future__ import annotations

import pytest
from opinfo import ALL, OpInfo
from opinfo.ops import op_fn, pick
from opinfo.registry import NAMESPACES, NOT_OPS, all_ops, covered, public_ops, uncovered
from opinfo.samples import unary

import aigc_course as ac
import aigc_course.nn.functional as F


def test_every_public_op_has_a_registry_entry():
    missing = uncovered()
    assert not missing, (
        "public ops that no OpInfo calls; declare each in tests/opinfo (or, if it is not an op, "
        f"add it to NOT_OPS with a comment): {', '.join(missing)}"
    )


def cube(input):
    """A new public op, x ** 3, that the registry does not know yet (built on ``mul``)."""
    return ac.mul(ac.mul(input, input), input)


@pytest.fixture
def new_op(monkeypatch):
    """``cube`` published where a new op would be: the top level, nn.functional (defined
    there) and a Tensor method."""

    def functional_cube(input):
        return cube(input)

    functional_cube.__module__ = F.__name__
    monkeypatch.setattr(ac, "cube", cube, raising=False)
    monkeypatch.setattr(F, "cube", functional_cube, raising=False)
    monkeypatch.setattr(ac.Tensor, "cube", cube, raising=False)
    return {"aigc_course.cube", "aigc_course.nn.functional.cube", "Tensor.cube"}


def test_the_check_reports_a_public_op_without_an_entry(new_op):
    assert new_op <= set(public_ops())
    assert new_op <= set(uncovered())


def test_an_entry_covers_each_form_it_calls(new_op):
    """An entry counts for the forms it calls: the function and the method of a plain entry,
    the callable itself when given as ``fn``."""
    top_and_method = OpInfo("cube", unary(), ALL, fn=None)
    functional = OpInfo("nn.functional.cube", unary(), ALL, fn=pick(lambda x: x**3, F.cube))
    assert covered([top_and_method]) >= {"aigc_course.cube", "Tensor.cube"}
    reached = covered([functional])
    assert "aigc_course.nn.functional.cube" in reached
    assert not reached & {"aigc_course.cube", "aigc_course.mul"}  # called inside it


def test_a_call_made_inside_another_op_does_not_count(new_op):
    """``cube`` calls ``mul`` inside: only the outermost public call, the one whose result an
    entry compares with torch, counts."""
    entry = OpInfo("cube via a lambda", unary(), ALL, fn=op_fn(lambda x: ac.cube(x)))
    reached = covered([entry])
    assert "aigc_course.cube" in reached
    assert "aigc_course.mul" not in reached


def test_the_check_leaves_the_package_as_it_found_it():
    before = {key: fn for key, fn in public_ops().items()}
    uncovered()
    assert public_ops() == before


@pytest.mark.parametrize("key", sorted(NOT_OPS))
def test_not_ops_names_exist(key):
    """Each exclusion names a real public callable (a stale line is removed, not kept)."""
    owner, name = key.rsplit(".", 1)
    assert callable(getattr(ac.Tensor if owner == "Tensor" else NAMESPACES[owner], name))


def test_every_topic_file_is_in_the_registry():
    """The registry collects every module's lists of OpInfos, the topic files added later
    (``new_ops.py``) included."""
    import importlib
    import pkgutil

    import opinfo

    ids = {id(op) for op in all_ops()}
    for module in pkgutil.iter_modules(opinfo.__path__):
        for value in vars(importlib.import_module(f"opinfo.{module.name}")).values():
            if isinstance(value, list):
                assert all(id(op) in ids for op in value if isinstance(op, OpInfo))
