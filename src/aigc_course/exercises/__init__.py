"""Automatic checkers for the exercises, one module per chapter.

Each checker runs the learner's code on several inputs, compares it with torch, and either
prints ``✓ ...`` or raises :class:`ExerciseError` saying what is wrong ("your output has
shape (3, 1); expected (3, 4)"), never just "False".
"""

from ._checking import ExerciseError, check_tensor, passed

__all__ = ["ExerciseError", "check_tensor", "passed"]
