"""Chapter 11's protocols (issue 18): average_gradients, ring_all_reduce and milestone 4.

Each is judged in the grader's judge from plain data: the judge draws the inputs from the
run's secret seed (the ranks' parameters and gradients, the ring's vectors, the seeds of the
samples' noise and of the training problem), the submission's kernel runs the learner's code
on them (3 threaded ranks with a stand-in ``all_reduce``; the simulated ring; the samples and
two ranks' training) and sends back what each rank ended with, and the judge compares it with
what it computes itself (the mean and the sum with torch, the course's sampler, torch's
one-process training). The tests: the reference passes through each protocol, wrong
implementations fail with their hints, the judges refuse lies (wrong data of the right
shape, the answer for another seed, malformed data), and one grading through the CLI in the
sandbox: the reference passes in the judge, and a kernel whose protocol helper was replaced
to compute the answer itself is an error.
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
import torch.distributed as dist

import aigc_course as ac
from aigc_course import grade
from aigc_course.exercises import ExerciseError, ch11
from aigc_course.exercises._plain import to_plain

ROOT = Path(__file__).resolve().parents[1]
CHAPTER11 = ROOT / "chapters" / "11_scaling_out.ipynb"

sys.path.insert(0, str(ROOT / "scripts"))
from make_student_notebooks import student_notebook  # noqa: E402


def through(protocol, seed: int, *objects):
    """inputs -> run (as in the kernel) -> the plain-data wire -> the judge's data."""
    data = protocol.inputs(seed)
    return data, to_plain(protocol.run(to_plain(data), *objects))


def secret() -> int:
    return secrets.randbits(63)


def test_the_three_checkers_declare_their_protocols():
    assert ch11.check_average_gradients.protocol is ch11.AVERAGE_GRADIENTS_PROTOCOL
    assert ch11.check_ring_all_reduce.protocol is ch11.RING_PROTOCOL
    assert ch11.check_milestone_4.protocol is ch11.MILESTONE_PROTOCOL


# ------------------------------------------------------------------ 1. average gradients

P1 = ch11.AVERAGE_GRADIENTS_PROTOCOL


def good_average(model):
    for p in model.parameters():
        g = torch.from_numpy(p.grad.numpy())
        dist.all_reduce(g)
        g /= dist.get_world_size()


def sum_only(model):
    for p in model.parameters():
        dist.all_reduce(torch.from_numpy(p.grad.numpy()))


def on_a_copy(model):
    for p in model.parameters():
        g = torch.tensor(p.grad.numpy())
        dist.all_reduce(g)
        g /= dist.get_world_size()


def real_all_reduce(model, _real=dist.all_reduce):
    for p in model.parameters():
        _real(torch.from_numpy(p.grad.numpy()))


def torch_mean(data) -> list[dict]:
    """What every rank should end with, computed by torch from the judge's inputs."""
    n = len(data["params"])
    mean = [
        torch.stack([torch.from_numpy(g[i]) for g in data["grads"]]).mean(0).numpy()
        for i in range(n)
    ]
    return [
        {"params": [p.copy() for p in data["params"]], "grads": [m.copy() for m in mean]}
        for _ in range(ch11.WORLD)
    ]


def test_average_reference_passes_through_the_protocol():
    data, outputs = through(P1, secret(), good_average)
    assert "is the mean over 3 (simulated) ranks" in P1.judge(data, outputs)
    assert len(outputs) == ch11.WORLD and dist.all_reduce.__module__.startswith("torch")


@pytest.mark.parametrize(
    "wrong, hint",
    [(sum_only, "this is the sum over the ranks"), (on_a_copy, "makes a copy")],
)
def test_average_wrong_implementations_fail_in_the_judge(wrong, hint):
    data, outputs = through(P1, secret(), wrong)
    with pytest.raises(ExerciseError, match="not the mean over the 3 ranks") as e:
        P1.judge(data, outputs)
    assert hint in str(e.value)


def test_average_calling_the_real_all_reduce_fails_in_the_kernel():
    with pytest.raises(ExerciseError, match="the real all_reduce was called"):
        P1.run(P1.inputs(secret()), real_all_reduce)


def test_average_judge_accepts_torchs_mean_and_refuses_lies():
    seed = secret()
    data = P1.inputs(seed)
    right = torch_mean(data)
    P1.judge(data, to_plain(right))

    def edited(rank, key, i, value):
        out = torch_mean(data)
        out[rank][key][i] = value
        return out

    other = torch_mean(P1.inputs(seed ^ 1))
    lies = {
        "not the mean": edited(2, "grads", 3, np.zeros(2, np.float32)),
        "changed": edited(1, "params", 0, right[1]["params"][0] + 1),
        "did not change": edited(0, "grads", 1, data["grads"][0][1]),  # the rank's own
        "float arrays": edited(0, "grads", 0, right[0]["grads"][0].ravel()),
        "float arrays of shapes": edited(0, "grads", 2, right[0]["grads"][2].astype(np.int64)),
    }
    for expected, lie in lies.items():
        with pytest.raises(ExerciseError, match=expected):
            P1.judge(data, to_plain(lie))
    for lie in ({"status": "passed"}, right[:2], [right[0], right[1], "passed"]):
        with pytest.raises(ExerciseError):
            P1.judge(data, to_plain(lie))
    with pytest.raises(ExerciseError):  # the answer for other inputs
        P1.judge(data, to_plain(other))


# ------------------------------------------------------------------ 4. ring all-reduce

P4 = ch11.RING_PROTOCOL


def good_ring(ring):
    N = ring.world_size
    chunks = [np.array_split(d.copy(), N) for d in ring.data]
    for s in range(N - 1):  # reduce-scatter
        got = ring.send_right([chunks[r][(r - s) % N] for r in range(N)])
        for r in range(N):
            chunks[r][(r - s - 1) % N] = chunks[r][(r - s - 1) % N] + got[r]
    for s in range(N - 1):  # all-gather
        got = ring.send_right([chunks[r][(r + 1 - s) % N] for r in range(N)])
        for r in range(N):
            chunks[r][(r - s) % N] = got[r]
    return [np.concatenate(c) for c in chunks]


def naive(ring):
    total = [d.copy() for d in ring.data]
    passing = [d.copy() for d in ring.data]
    for _ in range(ring.world_size - 1):
        passing = ring.send_right(passing)
        total = [t + p for t, p in zip(total, passing)]
    return total


def reduce_scatter_only(ring):
    N = ring.world_size
    chunks = [np.array_split(d.copy(), N) for d in ring.data]
    for s in range(N - 1):
        got = ring.send_right([chunks[r][(r - s) % N] for r in range(N)])
        for r in range(N):
            chunks[r][(r - s - 1) % N] = chunks[r][(r - s - 1) % N] + got[r]
    return [np.concatenate(c) for c in chunks]


def forges_the_count(ring):
    """Sums without sending anything, and claims 2(N-1) rounds."""
    ring.rounds = 2 * (ring.world_size - 1)
    return [np.sum(ring.data, axis=0)] * ring.world_size


def torch_records(cases) -> list[dict]:
    """What an honest ring reports, the sums computed by torch from the judge's inputs."""
    records = []
    for data in cases:
        N = len(data)
        total = torch.stack([torch.from_numpy(d) for d in data]).sum(0).numpy()
        records.append(
            {"rounds": 2 * (N - 1), "largest": len(data[0]) // N, "got": [total.copy()] * N}
        )
    return records


def test_ring_reference_passes_through_the_protocol():
    cases, records = through(P4, secret(), good_ring)
    assert "2(N-1) rounds of one chunk" in P4.judge(cases, records)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (naive, "Sending whole vectors is the naive all-reduce"),
        (reduce_scatter_only, "N-1 more rounds (the all-gather)"),
        (forges_the_count, "has no setter"),
    ],
)
def test_ring_wrong_implementations_fail_in_the_judge(wrong, hint):
    cases, records = through(P4, secret(), wrong)
    with pytest.raises(ExerciseError) as e:
        P4.judge(cases, records)
    assert hint in str(e.value)


def test_ring_judge_accepts_torchs_sum_and_refuses_lies():
    seed = secret()
    cases = P4.inputs(seed)
    P4.judge(cases, to_plain(torch_records(cases)))

    def edited(k, **changes):
        records = torch_records(cases)
        records[k].update(changes)
        return records

    N, size = ch11.RING_CASES[1]
    lies = {
        "expected the sum": edited(1, got=[np.zeros(size)] * N),
        "a message carried": edited(2, largest=8),
        "rounds of send_right": edited(3, rounds=7),
        "counts did not come back as ints": edited(0, rounds=2.0),
        "one vector per rank": edited(1, got=[np.zeros(size)] * (N - 1)),
        "the run stopped early": torch_records(cases)[:3],
        "records did not come back as a list": {"status": "passed"},
    }
    for expected, lie in lies.items():
        with pytest.raises(ExerciseError, match=expected):
            P4.judge(cases, to_plain(lie))
    with pytest.raises(ExerciseError, match="expected the sum"):  # another seed's sums
        P4.judge(cases, to_plain(torch_records(P4.inputs(seed ^ 1))))


# ------------------------------------------------------------------ milestone 4

PM = ch11.MILESTONE_PROTOCOL


def ddpm_step(eps, t, x_t, noise, alphas_cumprod):
    abar_t = alphas_cumprod[t]
    abar_prev = alphas_cumprod[t - 1] if t > 0 else ac.tensor(1.0)
    beta_t = 1 - abar_t / abar_prev
    x0 = ((x_t - (1 - abar_t).sqrt() * eps) / abar_t.sqrt()).clamp(-1, 1)
    mean = (abar_prev.sqrt() * beta_t / (1 - abar_t)) * x0 + (
        (1 - beta_t).sqrt() * (1 - abar_prev) / (1 - abar_t)
    ) * x_t
    if t == 0:
        return mean
    return mean + ((1 - abar_prev) / (1 - abar_t) * beta_t).sqrt() * noise


def cfg(model, x, t, labels, w):
    null = ac.full_like(labels, model.null_label)
    cond, uncond = model(ac.cat([x, x]), t, ac.cat([labels, null])).chunk(2)
    return uncond + w * (cond - uncond)


def real_digits() -> np.ndarray:
    """One real digit of each class, scaled to [-1, 1]: what the classifier reads best."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return np.stack([X[list(y).index(d)].reshape(8, 8) / 8.0 - 1.0 for d in range(10)])


def reference_outputs(data) -> dict:
    """The samples of the course's sampler and torch's one-process parameters, twice."""
    from aigc_course.distributed import workers

    one = workers.train_torch(ch11._digits_problem(data["problem_seed"]))
    return {
        "images": ch11._reference_samples(data["sample_seed"]),
        "ranks": [dict(one), {k: v.copy() for k, v in one.items()}],
    }


def test_milestone_reference_passes_through_the_protocol():
    data, outputs = through(PM, secret(), ddpm_step, cfg, good_ring)
    assert PM.judge(data, outputs).startswith("milestone 4: your ddpm_step and cfg drew 0-9")


def test_milestone_step_that_hands_back_real_digits_fails_on_the_reference_samples():
    """A ddpm_step that passes chapter 10's check (1,000-step table) but, on the milestone's
    respaced table, returns real digits at the last step: the classifier reads all 10, and
    the judge's comparison with the course's sampler fails it."""
    digits = real_digits()

    def step_then_real(eps, t, x_t, noise, alphas_cumprod):
        if len(alphas_cumprod) == ch11.MILESTONE_STEPS and t == 0:
            return ac.tensor(digits.astype(np.float32))
        return ddpm_step(eps, t, x_t, noise, alphas_cumprod)

    data, outputs = through(PM, secret(), step_then_real, cfg, good_ring)
    with pytest.raises(ExerciseError, match="differ by up to .* from the course's sampler"):
        PM.judge(data, outputs)


def test_milestone_judge_accepts_the_reference_and_refuses_lies():
    seed = secret()
    data, other = PM.inputs(seed), PM.inputs(seed ^ 1)
    right = reference_outputs(data)
    PM.judge(data, to_plain(right))
    theirs = reference_outputs(other)
    name = "2.bias"
    lies = [
        ("differ by up to", {**right, "images": real_digits()}),
        ("differ by up to", {**right, "images": theirs["images"]}),  # another seed's noise
        ("differs from one process's", {**right, "ranks": theirs["ranks"]}),
        ("did not come back as \\[", {**right, "ranks": [right["ranks"][0], {}]}),
        (
            "a float array of shape",
            {**right, "ranks": [right["ranks"][0], {**right["ranks"][1], name: np.zeros(3)}]},
        ),
        ("\\(10, 8, 8\\) float images", {**right, "images": right["images"][:9]}),
        ("two ranks' parameters", {**right, "ranks": right["ranks"][:1]}),
        ("read only", {**right, "images": np.zeros((10, 8, 8))}),
    ]
    for expected, lie in lies:
        with pytest.raises(ExerciseError, match=expected):
            PM.judge(data, to_plain(lie))
    nan = right["images"].copy()
    nan[0, 0, 0] = np.nan
    with pytest.raises(ExerciseError, match="NaN or inf"):
        PM.judge(data, to_plain({**right, "images": nan}))
    with pytest.raises(ExerciseError):
        PM.judge(data, to_plain({"status": "passed"}))


# ------------------------------------------------------------------ through the CLI


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _student() -> dict:
    nb, _ = student_notebook(nbformat.read(CHAPTER11, as_version=4))
    return json.loads(nbformat.writes(nb))


#: The kernel's helper of the ring protocol replaced, behind importlib and computed names, by
#: one that sums with numpy and reports an honest ring's counts (no static trace).
FORGERY = """
import importlib
import numpy as _np
_m = importlib.import_module('aigc_course.exercises.ch' + '11')
def _fake(fn, data, what):
    N = len(data)
    total = _np.sum(data, axis=0)
    return {'rounds': 2 * (N - 1), 'largest': len(data[0]) // N, 'got': [total] * N}
setattr(_m, '_ring_' + 'record', _fake)
"""


def _forged() -> dict:
    nb = _student()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and _source(cell).startswith("def ring_all_reduce"):
            cell["source"] = _source(cell) + "\n" + FORGERY
            return nb
    raise LookupError("def ring_all_reduce")


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> dict[str, dict[str, tuple[str, str]]]:
    folder = tmp_path_factory.mktemp("class11")
    (folder / "ref.ipynb").write_text(CHAPTER11.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "forged.ipynb").write_text(json.dumps(_forged()), encoding="utf-8")
    out = folder / "gradebook.csv"
    cmd = [sys.executable, "-m", "aigc_course.grade", *sorted(folder.glob("*.ipynb"))]
    cmd += ["--out", out, "--jobs", "2", "--chapter", "11", "--exercise-timeout", "90"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, cwd=folder)
    assert proc.returncode == 0, proc.stderr[-3000:]
    book: dict = {}
    with open(out, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            book.setdefault(Path(row["notebook"]).stem, {})[row["exercise"]] = (
                row["status"],
                row["feedback"],
            )
    return book


MOVED = ("average_gradients", "ring_all_reduce", "milestone_4")


def test_the_reference_passes_in_the_judge(gradebook):
    for x in MOVED:
        status, feedback = gradebook["ref"][x]
        assert status == "passed", (x, feedback)
        assert grade.IN_KERNEL not in feedback


def test_a_protocol_helper_replaced_to_compute_the_sum_is_an_error(gradebook):
    for x in MOVED:
        status, feedback = gradebook["forged"][x]
        assert status == "error", (x, status, feedback)
        assert "replaced what the protocol uses" in feedback
        assert "aigc_course.exercises.ch11._ring_record" in feedback
