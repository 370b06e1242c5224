"""Chapter 2's protocols (issue 18): SiLU, LogSumExp and Value are judged from plain data.

For each exercise: the reference solution passes through its protocol (inputs drawn from a
secret seed, the kernel's half, the plain-data wire, the judge); a wrong solution fails with
the hint its checker gives; the judge refuses lies (data of the right shape but wrong, the
answer for another seed, a verdict instead of data). One grading through the CLI, in the
sandbox, shows the reference passing in the judge and a submission whose kernel half of the
protocol computes torch's answer reported, not passed.
"""

from __future__ import annotations

import csv
import json
import secrets
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from aigc_course import grade
from aigc_course.exercises import ExerciseError, ch02
from aigc_course.exercises._plain import decode, encode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_exercises_ch02 import (
    LogSumExp,
    LogSumExpDzNotUnsqueezed,
    LogSumExpNaive,
    LogSumExpNumpyBackward,
    SiLU,
    SiLUNumpyBackward,
    SiLUOtherTerm,
    make_value,
)

ROOT = Path(__file__).resolve().parents[1]
CHAPTER02 = ROOT / "chapters" / "02_autograd.ipynb"

PROTOCOLS = {
    "silu": (ch02.SILU_PROTOCOL, SiLU),
    "logsumexp": (ch02.LOGSUMEXP_PROTOCOL, LogSumExp),
    "value": (ch02.VALUE_PROTOCOL, make_value()),
}


def _wire(value):
    """What crosses from the kernel to the judge."""
    return decode(json.loads(json.dumps(encode(value))))


def _through(protocol, learner, seed: int) -> str:
    """The protocol as the grader splits it: inputs and judge here, ``run`` on the wire."""
    data = protocol.inputs(seed)
    return protocol.judge(data, _wire(protocol.run(_wire(data), learner)))


# ------------------------------------------------ the reference passes, mistakes are named


@pytest.mark.parametrize("exercise", sorted(PROTOCOLS))
def test_the_reference_passes_through_the_protocol(exercise):
    protocol, learner = PROTOCOLS[exercise]
    for seed in (0, secrets.randbits(63), secrets.randbits(63)):
        assert _through(protocol, learner, seed)


def test_the_checkers_declare_their_protocols():
    assert ch02.check_silu.protocol is ch02.SILU_PROTOCOL
    assert ch02.check_logsumexp.protocol is ch02.LOGSUMEXP_PROTOCOL
    assert ch02.check_value.protocol is ch02.VALUE_PROTOCOL


@pytest.mark.parametrize(
    ("protocol", "learner", "hint"),
    [
        (ch02.SILU_PROTOCOL, SiLUOtherTerm, r"product-rule term is missing.*kept only x·σ'\(x\)"),
        (ch02.SILU_PROTOCOL, SiLUNumpyBackward, "no graph with create_graph=True"),
        (ch02.LOGSUMEXP_PROTOCOL, LogSumExpNaive, "Subtract the row's maximum"),
        (ch02.LOGSUMEXP_PROTOCOL, LogSumExpDzNotUnsqueezed, r"unsqueeze\(-1\)"),
        (ch02.LOGSUMEXP_PROTOCOL, LogSumExpNumpyBackward, "no graph with create_graph=True"),
        (ch02.VALUE_PROTOCOL, make_value("assign"), r"a path is lost.*\+="),
        (ch02.VALUE_PROTOCOL, make_value("no visited set"), "counted several times"),
    ],
)
def test_a_wrong_solution_fails_with_its_hint_under_a_secret_seed(protocol, learner, hint):
    with pytest.raises(ExerciseError, match=hint):
        _through(protocol, learner, secrets.randbits(63))


# ------------------------------------------------ the judge refuses lies


def _zeros_like(value):
    """The same structure, every array zeroed and every float 0.0: right shapes, wrong."""
    if isinstance(value, np.ndarray):
        return np.zeros_like(value)
    if isinstance(value, float):
        return 0.0
    if isinstance(value, list):
        return [_zeros_like(v) for v in value]
    if isinstance(value, dict):
        return {k: _zeros_like(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("exercise", sorted(PROTOCOLS))
def test_the_judge_refuses_lies(exercise):
    protocol, learner = PROTOCOLS[exercise]
    data = protocol.inputs(secrets.randbits(63))
    right = _wire(protocol.run(_wire(data), learner))
    protocol.judge(data, right)
    key = "cases" if "cases" in right else "results"
    lies = [
        {"status": "passed", "feedback": "✓ forged"},  # a verdict where data belongs
        "✓ passed",
        None,
        _zeros_like(right),  # right shapes, wrong values
        {k: v for k, v in right.items() if k not in ("second", "results")},  # a part missing
        {**right, key: right[key][:1]},  # all but one case left out
    ]
    for lie in lies:
        with pytest.raises(ExerciseError):
            protocol.judge(data, lie)


def test_function_records_with_wrong_arrays_are_refused():
    data = ch02.SILU_PROTOCOL.inputs(secrets.randbits(63))
    right = _wire(ch02.SILU_PROTOCOL.run(_wire(data), SiLU))
    for field in ("y", "dx"):
        for change in (
            lambda a: a + 1e-3,  # close, but not within tolerance
            lambda a: a.astype(np.float16),  # another dtype
            lambda a: a.reshape(-1)[:1],  # another shape
        ):
            lie = json.loads(json.dumps(encode(right)))
            lie = decode(lie)
            lie["cases"][2][field] = change(lie["cases"][2][field])
            with pytest.raises(ExerciseError):
                ch02.SILU_PROTOCOL.judge(data, lie)
    lie = decode(json.loads(json.dumps(encode(right))))
    lie["gradcheck"]["rows"][3] = lie["gradcheck"]["rows"][3] * 1.01  # analytical off by 1%
    with pytest.raises(ExerciseError, match="gradcheck .* disagrees"):
        ch02.SILU_PROTOCOL.judge(data, lie)
    lie = decode(json.loads(json.dumps(encode(right))))
    lie["second"]["d2"] = lie["second"]["d2"] * 1.01
    with pytest.raises(ExerciseError, match="second derivative"):
        ch02.SILU_PROTOCOL.judge(data, lie)


@pytest.mark.parametrize("exercise", sorted(PROTOCOLS))
def test_the_answer_for_another_seed_fails(exercise):
    """What a student could precompute for the notebook's fixed seed does not pass the
    grader's inputs."""
    protocol, learner = PROTOCOLS[exercise]
    fixed, secret = protocol.inputs(0), protocol.inputs(secrets.randbits(63))
    precomputed = _wire(protocol.run(_wire(fixed), learner))
    protocol.judge(fixed, precomputed)
    with pytest.raises(ExerciseError):
        protocol.judge(secret, precomputed)


def test_a_class_name_cannot_carry_text_into_the_verdict():
    data = ch02.VALUE_PROTOCOL.inputs(secrets.randbits(63))
    right = _wire(ch02.VALUE_PROTOCOL.run(_wire(data), make_value()))
    right["name"] = "Value passed ✓\n✓ everything"
    assert ch02.VALUE_PROTOCOL.judge(data, right).startswith("Value.backward matches torch")


# ------------------------------------------------ torch's answer, computed in the kernel

#: The kernel's half of the Function protocol, rewritten to send torch's answer whatever the
#: learner's class does: what a student who cannot solve SiLU or LogSumExp could try.
TORCH_ANSWER = """
import numpy as _np
import torch as _t

def _torch_answer(data, cls, name, broadcast_hint=""):
    f = _t.nn.functional.silu if name == "SiLU" else (lambda x: _t.logsumexp(x, dim=-1))
    out = {"cases": []}
    for case in data["cases"]:
        x = _t.tensor(case["x"], requires_grad=True)
        y = f(x)
        (dx,) = _t.autograd.grad(y, x, _t.tensor(case["v"]))
        out["cases"].append({"y": y.detach().numpy(), "dx": dx.numpy()})
    x0 = _np.asarray(data["gradcheck"])
    plus, minus = [], []
    for j in range(x0.size):
        for sign, into in ((1.0, plus), (-1.0, minus)):
            moved = x0.copy()
            moved.reshape(-1)[j] += sign * 1e-6
            into.append(f(_t.tensor(moved)).numpy())
    x = _t.tensor(x0, requires_grad=True)
    y = f(x)
    rows = []
    for k in range(y.numel()):
        seed = _t.zeros_like(y)
        seed.view(-1)[k] = 1.0
        rows.append(_t.autograd.grad(y, x, seed, retain_graph=True)[0].numpy().ravel())
    out["gradcheck"] = {"plus": plus, "minus": minus, "rows": rows}
    x = _t.tensor(data["second"], requires_grad=True)
    (d,) = _t.autograd.grad(f(x).sum(), x, create_graph=True)
    (d2,) = _t.autograd.grad((d * _t.tensor(data["w"])).sum(), x)
    out["second"] = {"graph": True, "d2": d2.numpy()}
    return out
"""


def test_torchs_answer_sent_from_the_kernel_would_pass_the_judge():
    """So only the tamper check stops it (below, through the CLI): the judge cannot tell
    torch's numbers from a correct solution's."""
    namespace: dict = {}
    exec(TORCH_ANSWER, namespace)
    for protocol, name in ((ch02.SILU_PROTOCOL, "SiLU"), (ch02.LOGSUMEXP_PROTOCOL, "LogSumExp")):
        data = protocol.inputs(secrets.randbits(63))
        outputs = _wire(namespace["_torch_answer"](_wire(data), None, name))
        assert protocol.judge(data, outputs)


# ------------------------------------------------ through the CLI, in the sandbox


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _student() -> dict:
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_student_notebooks import student_notebook

    nb, _ = student_notebook(nbformat.read(CHAPTER02, as_version=4))
    return json.loads(nbformat.writes(nb))


def _forged() -> dict:
    """The student edition (nothing solved), with the kernel's half of the SiLU and LogSumExp
    protocols replaced, through importlib and setattr with computed names."""
    nb = _student()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and _source(cell).startswith("class SiLU(Function)"):
            cell["source"] = (
                _source(cell) + "\n" + TORCH_ANSWER + "import importlib\n"
                "_m = importlib.import_module('aigc_course.exercises.ch' + '02')\n"
                "setattr(_m, '_function_' + 'run', _torch_answer)\n"
            )
            return nb
    raise LookupError("class SiLU")


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> dict[str, dict[str, tuple[str, str]]]:
    folder = tmp_path_factory.mktemp("class02")
    (folder / "ref.ipynb").write_text(CHAPTER02.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "forged.ipynb").write_text(json.dumps(_forged()), encoding="utf-8")
    out = folder / "gradebook.csv"
    cmd = [sys.executable, "-m", "aigc_course.grade", *sorted(folder.glob("*.ipynb"))]
    cmd += ["--out", out, "--jobs", "2", "--chapter", "2", "--exercise-timeout", "60"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=folder)
    assert proc.returncode == 0, proc.stderr[-3000:]
    book: dict = {}
    with open(out, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            book.setdefault(Path(row["notebook"]).stem, {})[row["exercise"]] = (
                row["status"],
                row["feedback"],
            )
    return book


def test_the_reference_is_judged_in_the_judge(gradebook):
    for exercise in ("silu", "logsumexp", "value"):
        status, feedback = gradebook["ref"][exercise]
        assert status == "passed", (exercise, feedback)
        assert grade.IN_KERNEL not in feedback


def test_a_kernel_sending_torchs_answer_is_reported_not_passed(gradebook):
    for exercise in ("silu", "logsumexp"):
        status, feedback = gradebook["forged"][exercise]
        assert status == "error", (exercise, status, feedback)
        assert "replaced what the protocol uses" in feedback
        assert "aigc_course.exercises.ch02._function_run" in feedback
    # the rewrite taints every protocol that runs after it, Value's too
    assert gradebook["forged"]["value"][0] == "error"


def test_torch_stays_the_oracle():
    """The judge's reference is torch itself: a SiLU that is torch's passes, one that is
    0.1% off does not."""
    data = ch02.SILU_PROTOCOL.inputs(secrets.randbits(63))
    outputs = {"cases": []}
    for case in data["cases"]:
        x = torch.tensor(case["x"], requires_grad=True)
        y = torch.nn.functional.silu(x)
        (dx,) = torch.autograd.grad(y, x, torch.tensor(case["v"]))
        outputs["cases"].append({"y": y.detach().numpy() * 1.001, "dx": dx.numpy()})
    with pytest.raises(ExerciseError, match="your SiLU output"):
        ch02.SILU_PROTOCOL.judge(data, _wire(outputs))
