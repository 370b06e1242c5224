"""Real PyTorch programs, unchanged, on aigc_course: each program in ``tests/programs/`` runs
twice, once with torch and once with ``aigc_course`` in torch's place
(``programs/run_as_aigc_course.py``), and every line it prints must agree: the same text and
every number equal within float32 round-off. Only the library's own name may differ
(``torch.float32`` prints as ``aigc_course.float32``)."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "programs"
PROGRAMS = sorted(
    p.name for p in HERE.glob("*.py") if p.name not in ("run_as_aigc_course.py", "conftest.py")
)
NUMBER = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:e[-+]?\d+)?|-?\binf\b|\bnan\b")


# One thread: torch's thread pool on a small shared machine makes its convolution and LSTM
# backward passes several times slower, and nothing printed depends on it.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run(args: list[str]) -> str:
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=HERE, env=ENV
    )
    assert out.returncode == 0, f"{args[-1]} failed:\n{out.stderr[-3000:]}"
    return out.stdout


def split(line: str) -> tuple[str, list[float]]:
    line = line.replace("aigc_course.", "torch.")
    numbers = [float(n) for n in NUMBER.findall(line)]
    return NUMBER.sub("#", line), numbers


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=2e-4, abs_tol=2e-5) or a == b


@pytest.mark.parametrize("program", PROGRAMS)
def test_program_runs_unchanged_and_prints_what_torch_prints(program):
    theirs = run([program]).splitlines()
    ours = run(["run_as_aigc_course.py", program]).splitlines()
    assert len(ours) == len(theirs), f"{len(ours)} lines printed, torch printed {len(theirs)}"
    for i, (o, t) in enumerate(zip(ours, theirs)):
        (o_text, o_nums), (t_text, t_nums) = split(o), split(t)
        assert o_text == t_text, f"line {i + 1}: {o!r} != torch's {t!r}"
        assert len(o_nums) == len(t_nums) and all(map(close, o_nums, t_nums)), (
            f"line {i + 1}: {o!r} != torch's {t!r}"
        )
