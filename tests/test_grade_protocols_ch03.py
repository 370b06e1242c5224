"""Chapter 3's protocols (issue 18): cross_entropy, MLP, module_repr, MyModule and milestone 1
are judged from plain data.

For each exercise: the reference solution passes through its protocol (inputs drawn from a
secret seed, the kernel's half, the plain-data wire, the judge); a wrong solution fails with
the hint its checker gives; the judge refuses lies (data of the right shape but wrong, the
answer for another seed, a verdict instead of data). One grading through the CLI, in the
sandbox, shows the reference passing in the judge and a submission whose kernel half of a
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
from aigc_course.exercises import ExerciseError, ch03
from aigc_course.exercises._plain import decode, encode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_exercises_ch03 import (
    Base,
    GoodMLP,
    ListMLP,
    ReluEverywhereMLP,
    Value,
    ValueMLP,
    _variant,
    good_ce,
    module_repr,
    naive_ce,
    sum_ce,
)

ROOT = Path(__file__).resolve().parents[1]
CHAPTER03 = ROOT / "chapters" / "03_modules.ipynb"

PROTOCOLS = {
    "cross_entropy": (ch03.CROSS_ENTROPY_PROTOCOL, (good_ce,)),
    "mlp": (ch03.MLP_PROTOCOL, (GoodMLP,)),
    "module_repr": (ch03.MODULE_REPR_PROTOCOL, (module_repr,)),
    "module_base": (ch03.MODULE_BASE_PROTOCOL, (Base,)),
    "milestone_moons": (ch03.MOONS_PROTOCOL, (Value, ValueMLP)),
}
QUICK = sorted(set(PROTOCOLS) - {"milestone_moons"})  # the milestone trains: ~5 s a run


def _wire(value):
    """What crosses from the kernel to the judge."""
    return decode(json.loads(json.dumps(encode(value))))


def _run(protocol, learners, data):
    return _wire(protocol.run(_wire(data), *learners))


def _through(protocol, learners, seed: int) -> str:
    """The protocol as the grader splits it: inputs and judge here, ``run`` on the wire."""
    data = protocol.inputs(seed)
    return protocol.judge(data, _run(protocol, learners, data))


# ------------------------------------------------ the reference passes, mistakes are named


@pytest.mark.parametrize("exercise", QUICK)
def test_the_reference_passes_through_the_protocol(exercise):
    protocol, learners = PROTOCOLS[exercise]
    for seed in (0, secrets.randbits(63), secrets.randbits(63)):
        assert _through(protocol, learners, seed)


def test_the_checkers_declare_their_protocols():
    for exercise, (protocol, _) in PROTOCOLS.items():
        assert getattr(ch03, f"check_{exercise}").protocol is protocol


@pytest.mark.parametrize(
    ("protocol", "learners", "hint"),
    [
        (ch03.CROSS_ENTROPY_PROTOCOL, (naive_ce,), "1e4.*log_softmax"),
        (ch03.CROSS_ENTROPY_PROTOCOL, (sum_ce,), "the sum over the batch, 4× the mean"),
        (ch03.MLP_PROTOCOL, (ListMLP,), "plain Python list.*ModuleList"),
        (ch03.MLP_PROTOCOL, (ReluEverywhereMLP,), "no ReLU after the last layer"),
        (ch03.MODULE_REPR_PROTOCOL, (_variant("no names"),), r"starts with its name"),
        (ch03.MODULE_REPR_PROTOCOL, (lambda m: repr(m),), r"called repr\(\) on a child"),
    ],
)
def test_a_wrong_solution_fails_with_its_hint_under_a_secret_seed(protocol, learners, hint):
    with pytest.raises(ExerciseError, match=hint):
        _through(protocol, learners, secrets.randbits(63))


def test_module_base_mistakes_are_named_under_a_secret_seed():
    class NoPrefix(Base):
        def named_parameters(self, prefix=""):
            yield from self._parameters.items()
            for child in self._modules.values():
                yield from child.named_parameters()

    with pytest.raises(ExerciseError, match="prefix each child's names"):
        _through(ch03.MODULE_BASE_PROTOCOL, (NoPrefix,), secrets.randbits(63))


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


@pytest.mark.parametrize("exercise", QUICK)
def test_the_judge_refuses_lies(exercise):
    protocol, learners = PROTOCOLS[exercise]
    data = protocol.inputs(secrets.randbits(63))
    right = _run(protocol, learners, data)
    protocol.judge(data, right)
    lies = [
        {"status": "passed", "feedback": "✓ forged"},  # a verdict where data belongs
        "✓ passed",
        None,
        {k: v for k, v in right.items() if k in ("name", "error")},  # everything missing
    ]
    if exercise != "module_repr":
        lies.append(_zeros_like(right))  # right shapes, wrong values
    for lie in lies:
        with pytest.raises(ExerciseError):
            protocol.judge(data, lie)


def test_wrong_texts_and_attributes_are_refused():
    data = ch03.MODULE_REPR_PROTOCOL.inputs(secrets.randbits(63))
    right = _run(ch03.MODULE_REPR_PROTOCOL, (module_repr,), data)
    for lie in (
        {"texts": right["texts"][:-1]},  # one model's text missing
        {"texts": [*right["texts"][:-1], right["texts"][-1] + " "]},
        {"texts": [*right["texts"][:2], 3, *right["texts"][3:]]},  # not a str
    ):
        with pytest.raises(ExerciseError):
            ch03.MODULE_REPR_PROTOCOL.judge(data, lie)
    data = ch03.MODULE_BASE_PROTOCOL.inputs(secrets.randbits(63))
    right = _run(ch03.MODULE_BASE_PROTOCOL, (Base,), data)
    for key, value in (
        ("plain", [right["plain"][0] + 1, right["plain"][1]]),
        ("types", ["Tensor"] * len(right["types"])),
        ("values", [v + 1 for v in right["values"]]),
        ("names", right["names"][::-1]),
    ):
        with pytest.raises(ExerciseError):
            ch03.MODULE_BASE_PROTOCOL.judge(data, {**right, key: value})


@pytest.mark.parametrize("exercise", QUICK)
def test_the_answer_for_another_seed_fails(exercise):
    """What a student could precompute for the notebook's fixed seed does not pass the
    grader's inputs."""
    protocol, learners = PROTOCOLS[exercise]
    fixed, secret = protocol.inputs(0), protocol.inputs(secrets.randbits(63))
    precomputed = _run(protocol, learners, fixed)
    protocol.judge(fixed, precomputed)
    with pytest.raises(ExerciseError):
        protocol.judge(secret, precomputed)


def test_the_inputs_are_plain_data_and_change_with_the_seed():
    for exercise, (protocol, _) in PROTOCOLS.items():
        a, b = protocol.inputs(secrets.randbits(63)), protocol.inputs(secrets.randbits(63))
        assert _wire(a) is not None  # crosses the wire
        assert json.dumps(encode(a)) != json.dumps(encode(b)), exercise


# ------------------------------------------------ milestone 1


@pytest.fixture(scope="module")
def moons():
    """One secret draw and the reference's run on it (the milestone trains: run it once)."""
    data = ch03.MOONS_PROTOCOL.inputs(secrets.randbits(63))
    return data, _run(ch03.MOONS_PROTOCOL, (Value, ValueMLP), data)


def test_the_milestone_passes_under_a_secret_seed(moons):
    data, right = moons
    assert ch03.MOONS_PROTOCOL.judge(data, right).startswith("milestone 1: your Value engine")


def test_the_milestones_reference_training_is_torchs():
    """The judge's training run (exact gradients in numpy, for speed) equals the same loop
    with torch's autograd computing the gradients."""
    data = ch03.MOONS_PROTOCOL.inputs(secrets.randbits(63))
    X, t = data["X"], 2.0 * data["y"] - 1.0
    losses, trained = ch03._train_reference(data["init"], data["sizes"], X, t)
    params = torch.tensor(data["init"], dtype=torch.float64)
    for step in range(len(losses)):
        loss, grad = ch03._mse_torch(params.numpy(), data["sizes"], X, t)
        assert loss == pytest.approx(losses[step], rel=1e-12)
        params = params - ch03._MOONS_LR * torch.from_numpy(grad)
    np.testing.assert_allclose(trained, params.numpy(), rtol=1e-9, atol=1e-12)


def test_the_milestones_judge_refuses_lies(moons):
    data, right = moons
    judge = ch03.MOONS_PROTOCOL.judge
    trained = np.array(right["trained"])
    lies = [
        {"status": "passed"},
        {k: v for k, v in right.items() if k not in ("losses", "trained")},  # no training
        {**right, "trained": (trained * 1.001).tolist()},  # close, not within tolerance
        {**right, "losses": [x * 0.9 for x in right["losses"]]},  # a better-looking run
        {**right, "grad": [0.0] * len(right["grad"])},
        {**right, "forward": [0.0] * 4},
        {**right, "value": {"name": "Value", "results": []}},  # chapter 2's check skipped
    ]
    for lie in lies:
        with pytest.raises(ExerciseError):
            judge(data, lie)
    # the reference's trained parameters, sent with this run's losses: accepted only because
    # they are the right answer for these inputs; for another draw they are not
    other = ch03.MOONS_PROTOCOL.inputs(secrets.randbits(63))
    with pytest.raises(ExerciseError):
        judge(other, right)


def test_the_milestones_trained_parameters_are_checked_not_trusted(moons):
    """Parameters that separate the moons but are not the checker's run (a student's own
    longer training, say) do not pass: the judge compares with the reference's run."""
    data, right = moons
    X, t = data["X"], 2.0 * data["y"] - 1.0
    values = np.array(right["trained"])
    for _ in range(50):  # keep training past the checker's 100 steps
        values = values - ch03._MOONS_LR * ch03._mse_numpy(values, data["sizes"], X, t)[1]
    with pytest.raises(ExerciseError, match="leave the reference's run"):
        ch03.MOONS_PROTOCOL.judge(data, {**right, "trained": values.tolist()})


# ------------------------------------------------ through the CLI, in the sandbox


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _student() -> dict:
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_student_notebooks import student_notebook

    nb, _ = student_notebook(nbformat.read(CHAPTER03, as_version=4))
    return json.loads(nbformat.writes(nb))


#: The kernel's half of module_repr's protocol, rewritten to send torch's repr of the same
#: five models, through importlib and setattr with computed names (no static trace).
TORCH_REPR_DEF = """
import importlib
import torch as _t
_m = importlib.import_module('aigc_course.exercises.ch' + '03')
def _torch_repr(config, fn):
    return {'texts': [repr(m) for m in _m._repr_models(_t.nn, _t, config)]}
"""
TORCH_REPR = TORCH_REPR_DEF + "setattr(_m, '_module_repr_' + 'run', _torch_repr)\n"


def test_torchs_repr_sent_from_the_kernel_would_pass_the_judge():
    """So only the tamper check stops it (below, through the CLI)."""
    namespace: dict = {}
    exec(TORCH_REPR_DEF, namespace)
    data = ch03.MODULE_REPR_PROTOCOL.inputs(secrets.randbits(63))
    outputs = _wire(namespace["_torch_repr"](_wire(data), None))
    assert ch03.MODULE_REPR_PROTOCOL.judge(data, outputs)


def _forged() -> dict:
    """The student edition (nothing solved), module_repr's protocol rewritten."""
    nb = _student()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and _source(cell).startswith("def module_repr("):
            cell["source"] = _source(cell) + "\n" + TORCH_REPR
            return nb
    raise LookupError("def module_repr(")


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> dict[str, dict[str, tuple[str, str]]]:
    folder = tmp_path_factory.mktemp("class03")
    (folder / "ref.ipynb").write_text(CHAPTER03.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "forged.ipynb").write_text(json.dumps(_forged()), encoding="utf-8")
    out = folder / "gradebook.csv"
    cmd = [sys.executable, "-m", "aigc_course.grade", *sorted(folder.glob("*.ipynb"))]
    cmd += ["--out", out, "--jobs", "2", "--chapter", "3", "--exercise-timeout", "120"]
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
    for exercise in PROTOCOLS:
        status, feedback = gradebook["ref"][exercise]
        assert status == "passed", (exercise, feedback)
        assert grade.IN_KERNEL not in feedback


def test_a_kernel_sending_torchs_repr_is_reported_not_passed(gradebook):
    status, feedback = gradebook["forged"]["module_repr"]
    assert status == "error", (status, feedback)
    assert "replaced what the protocol uses" in feedback
    assert "aigc_course.exercises.ch03._module_repr_run" in feedback
    assert not any(status == "passed" for status, _ in gradebook["forged"].values())
