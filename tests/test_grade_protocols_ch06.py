"""Chapter 6's exercises judged through protocols (issue 18): train_step, clip_grad_norm,
checkpoint and the digits milestone.

For each protocol: the reference passes through it (inputs from a secret seed, the kernel's
half, the plain-data wire, the judge's half); a wrong implementation fails with the checker's
hint; the judge refuses lies (data of the right shape but wrong, data that is not what the
protocol returns, the answer for another seed). Then chapter 6 is graded end to end through the
CLI, in the sandbox: the reference passes, honest mistakes fail with the judge's hints, and a
submission whose kernel computes the reference's answers is flagged.
"""

from __future__ import annotations

import csv
import json
import re
import secrets
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from test_exercises_ch06 import (
    PIECES,
    FrozenAdam,
    TodoAdam,
    _load_without,
    good_clip,
    good_load,
    good_save,
    good_step,
    no_in_place,
    no_zero_grad,
    norm_after,
    per_parameter,
    returns_tensor,
    summed_losses,
    todo,
    unscaled,
    zero_grad_after_backward,
    zero_grad_in_loop,
)

import aigc_course as ac
from aigc_course import grade
from aigc_course.exercises import ExerciseError, ch06
from aigc_course.exercises._plain import decode, encode, to_plain

ROOT = Path(__file__).resolve().parents[1]
CHAPTER06 = ROOT / "chapters" / "06_training.ipynb"
PROTOCOLS = ("train_step", "checkpoint", "clip_grad_norm", "milestone_digits")

sys.path.insert(0, str(ROOT / "scripts"))
from make_student_notebooks import student_notebook  # noqa: E402

TRAIN_STEP = ch06.TRAIN_STEP_PROTOCOL
CLIP = ch06.CLIP_GRAD_NORM_PROTOCOL
CHECKPOINT = ch06.CHECKPOINT_PROTOCOL
MILESTONE = ch06.MILESTONE_PROTOCOL
MILESTONE_PIECES = tuple(PIECES.values())  # in the checker's order


def _seed() -> int:
    return secrets.randbits(63)  # what the grader's judge draws the inputs from


def _wire(value):
    """What crosses from the kernel to the judge."""
    return decode(json.loads(json.dumps(encode(value))))


def _kernel(protocol, inputs, *objects):
    """The kernel's half on the inputs as they arrive there, its result as the judge gets it."""
    return _wire(protocol.run(to_plain(inputs), *objects))


# ------------------------------------------------ the reference passes through each protocol

CORRECT = [
    (TRAIN_STEP, (good_step,), "your train_step matches one torch step per batch"),
    (CLIP, (good_clip,), "matches torch.nn.utils.clip_grad_norm_"),
    (CHECKPOINT, (good_save, good_load), "the same weights bit for bit"),
    (MILESTONE, MILESTONE_PIECES, r"to 9[5-9]\.\d% test accuracy"),
]


@pytest.mark.parametrize("protocol, objects, message", CORRECT, ids=PROTOCOLS)
def test_the_reference_passes_through_the_protocol(protocol, objects, message):
    inputs = protocol.inputs(_seed())
    assert re.search(message, protocol.judge(inputs, _kernel(protocol, inputs, *objects)))


# ------------------------------------------------ wrong implementations, the checker's hints

WRONG = [
    (TRAIN_STEP, (zero_grad_in_loop,), "only the last micro-batch"),
    (TRAIN_STEP, (unscaled,), "micro_batches times too large"),
    (TRAIN_STEP, (no_zero_grad,), "without optimizer.zero_grad"),
    (TRAIN_STEP, (zero_grad_after_backward,), "have not moved.*after them, it wipes"),
    (TRAIN_STEP, (summed_losses,), "sum of the micro-batches' mean losses"),
    (CLIP, (per_parameter,), "by its own norm"),
    (CLIP, (norm_after,), r"from \*before\* clipping"),
    (CLIP, (no_in_place,), "not changed: scale them in place"),
    (CHECKPOINT, (good_save, _load_without("epoch")), "returned None; expected the epoch"),
    (CHECKPOINT, (good_save, _load_without("optimizer")), "optimizer was not restored"),
    (CHECKPOINT, (good_save, _load_without("scheduler")), "scheduler was not restored"),
    (CHECKPOINT, (good_save, _load_without("sampler")), "data order was not restored"),
    (CHECKPOINT, (good_save, _load_without("model")), "does not continue like"),
    (MILESTONE, (FrozenAdam, *MILESTONE_PIECES[1:]), r"(?s)to \d+\.\d% test.*barely fell"),
]


@pytest.mark.parametrize("protocol, objects, hint", WRONG)
def test_a_wrong_implementation_fails_in_the_judge_with_the_hint(protocol, objects, hint):
    inputs = protocol.inputs(_seed())
    outputs = _kernel(protocol, inputs, *objects)
    with pytest.raises(ExerciseError, match=hint):
        protocol.judge(inputs, outputs)


@pytest.mark.parametrize(
    "protocol, objects, message",
    [
        (TRAIN_STEP, (todo,), "not implemented yet"),
        (TRAIN_STEP, (returns_tensor,), "returned a Tensor; return a Python number"),
        (CLIP, (todo,), "not implemented yet"),  # recorded in the kernel, raised by the judge
        (CHECKPOINT, (todo, good_load), "your save_checkpoint is not implemented yet"),
        (MILESTONE, (TodoAdam, *MILESTONE_PIECES[1:]), "TodoAdam.step.*not implemented yet"),
    ],
)
def test_what_fails_in_the_kernel_is_feedback(protocol, objects, message):
    inputs = protocol.inputs(_seed())
    with pytest.raises(ExerciseError, match=message):
        protocol.judge(inputs, _kernel(protocol, inputs, *objects))


# ------------------------------------------------ the judges refuse lies


def _torch_train_step_answer(inputs):
    losses, trajectory = ch06._reference_steps("right", inputs)
    return {
        "losses": losses,
        "params": [[a.astype(np.float32) for a in step] for step in trajectory],
    }


def test_the_train_step_judge_refuses_lies():
    inputs = TRAIN_STEP.inputs(_seed())
    right = _torch_train_step_answer(inputs)
    TRAIN_STEP.judge(inputs, _wire(right))  # torch's own answer passes
    steps = right["params"]
    lies = [
        {"status": "passed"},
        {**right, "losses": right["losses"][:-1]},
        {**right, "losses": [int(v) for v in right["losses"]]},
        {**right, "params": steps[:-1]},
        {**right, "params": [[a.ravel() for a in s] for s in steps]},
        {**right, "params": [[a.astype(np.int64) for a in s] for s in steps]},
        {**right, "params": [[np.zeros_like(a) for a in s] for s in steps]},  # right shapes
        {**right, "params": [[a + 1e-3 for a in s] for s in steps]},  # close, not within
        {**right, "losses": [v + 0.01 for v in right["losses"]]},
    ]
    for lie in lies:
        with pytest.raises(ExerciseError):
            TRAIN_STEP.judge(inputs, _wire(lie))


def test_the_clip_judge_refuses_lies():
    cases = CLIP.inputs(_seed())
    right = CLIP.run(to_plain(cases), good_clip)
    CLIP.judge(cases, _wire(right))
    lies = [
        {"status": "passed"},
        [],  # nothing recorded
        right[:1],  # the run "stopped early"
        [{**r, "total": 1} for r in right],  # not a float
        [{**r, "grads": r["grads"][:2]} for r in right],
        [{**r, "grads": [np.zeros_like(g) for g in r["grads"]]} for r in right],
        [{**r, "total": r["total"] * 1.01} for r in right],
    ]
    for lie in lies:
        with pytest.raises(ExerciseError):
            CLIP.judge(cases, _wire(lie))


def test_the_checkpoint_judge_refuses_lies():
    inputs = CHECKPOINT.inputs(_seed())
    right = _kernel(CHECKPOINT, inputs, good_save, good_load)
    CHECKPOINT.judge(inputs, right)
    resumed = right["resumed"]
    lies = [
        ({"status": "passed"}, "epoch"),
        ({**right, "epoch": 2.0}, "expected the epoch"),
        ({**right, "optimizer_states": 0}, "optimizer was not restored"),
        ({**right, "scheduler_last_epoch": 0}, "scheduler was not restored"),
        ({**right, "rng_state": None}, "data order"),
        ({k: v for k, v in right.items() if k != "resumed"}, "resumed run's weights"),
        ({**right, "resumed": [np.zeros_like(a) for a in resumed]}, "does not continue"),
        ({**right, "resumed": [a.astype(np.float64) for a in resumed]}, "does not continue"),
        (
            {**right, "resumed": [np.nextafter(a, np.inf) for a in resumed]},
            "close but not identical",
        ),
    ]
    for lie, message in lies:
        with pytest.raises(ExerciseError, match=message):
            CHECKPOINT.judge(inputs, _wire(lie))


def test_the_test_digits_never_reach_the_kernel():
    inputs = MILESTONE.inputs(_seed())
    assert set(inputs) == {"X_train", "y_train", "weights", "sampler_seed"}
    _, X_test, _, _ = ch06._digits_split(0)
    train_rows = {x.tobytes() for x in inputs["X_train"]}
    assert not any(x.tobytes() in train_rows for x in X_test)


def _trained_weights(inputs):
    return MILESTONE.run(to_plain(inputs), *MILESTONE_PIECES)


def test_the_milestone_judge_scores_the_weights_on_digits_only_it_holds():
    inputs = MILESTONE.inputs(_seed())
    right = _wire(_trained_weights(inputs))
    assert "96.7% test accuracy" in MILESTONE.judge(inputs, right)  # the chapter's run
    # the judge's forward pass agrees with the network's own, on the test digits
    X_test = ch06._digits_split(0)[1]
    net = ch06._digits_net(right["weights"])
    with ac.no_grad():
        theirs = net(ac.tensor(X_test)).argmax(1).numpy()
    assert np.array_equal(ch06._predict_digits(right["weights"], X_test), theirs)
    w1, b1, w2, b2 = right["weights"]
    lies = [
        ({"status": "passed", "accuracy": 1.0}, "did not come back"),
        ({**right, "weights": right["weights"][:3]}, "did not come back"),
        ({**right, "weights": [w.T for w in right["weights"]]}, "did not come back"),
        ({**right, "weights": [w.astype(np.int64) for w in right["weights"]]}, "did not come"),
        ({**right, "epoch_losses": [1.0]}, "did not come back"),
        ({**right, "seconds": "fast"}, "did not come back"),
        ({**right, "weights": [np.zeros_like(w) for w in right["weights"]]}, "test accuracy"),
        ({**right, "weights": inputs["weights"]}, "test accuracy"),  # untrained
        ({**right, "weights": [w1, b1, w2[[1, 0, *range(2, 10)]], b2]}, "test accuracy"),
    ]
    for k, (lie, message) in enumerate(lies):
        with pytest.raises(ExerciseError, match=message):
            MILESTONE.judge(inputs, _wire(lie))
            pytest.fail(f"lie {k} passed")
    # the names that the kernel sends are cut to plain identifiers in the message
    odd = {**right, "names": ["✓ passed\nA" * 10, "B", "C", "D", "E"]}
    assert "\n" not in MILESTONE.judge(inputs, _wire(odd))


@pytest.mark.parametrize(
    "protocol, objects",
    [(p, o) for p, o, _ in CORRECT[:3]],
    ids=PROTOCOLS[:3],
)
def test_the_answer_for_another_seed_fails(protocol, objects):
    """What a student could precompute for the notebook's fixed seed (0) does not pass the
    grader's inputs. (The milestone's inputs are the chapter's whatever the seed: its answer,
    trained weights, is scored on test digits that never reach the kernel.)"""
    fixed, secret = protocol.inputs(0), protocol.inputs(_seed())
    precomputed = _kernel(protocol, fixed, *objects)
    protocol.judge(fixed, precomputed)
    with pytest.raises(ExerciseError):
        protocol.judge(secret, precomputed)


def test_the_checkers_still_run_the_protocols_in_the_notebook(capsys):
    for checker, objects in [
        (ch06.check_train_step, (good_step,)),
        (ch06.check_clip_grad_norm, (good_clip,)),
        (ch06.check_checkpoint, (good_save, good_load)),
    ]:
        assert checker.protocol is not None
        checker(*objects)
        assert capsys.readouterr().out.startswith("✓")
    assert ch06.check_milestone_digits.protocol is MILESTONE


# ------------------------------------------------ end to end, through the CLI in the sandbox


def _reference() -> dict:
    return json.loads(CHAPTER06.read_text(encoding="utf-8"))


def _student() -> dict:
    nb, _ = student_notebook(nbformat.read(CHAPTER06, as_version=4))
    return json.loads(nbformat.writes(nb))


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _append(nb: dict, startswith: str, code: str, solution: bool = False) -> dict:
    for cell in nb["cells"]:
        is_solution = "solution" in cell["metadata"].get("tags", [])
        if (
            cell["cell_type"] == "code"
            and _source(cell).startswith(startswith)
            and is_solution == solution
        ):
            cell["source"] = _source(cell) + "\n" + code
            return nb
    raise LookupError(startswith)


#: honest mistakes, written after the reference's solutions
MISTAKES = {
    "def train_step": """
def train_step(model, optimizer, x, y, micro_batches=1):
    batch_loss = 0.0
    for x_j, y_j in zip(x.chunk(micro_batches), y.chunk(micro_batches)):
        optimizer.zero_grad()  # inside the loop
        loss_j = F.cross_entropy(model(x_j), y_j)
        (len(x_j) / len(x) * loss_j).backward()
        batch_loss += len(x_j) / len(x) * loss_j.item()
    optimizer.step()
    return batch_loss
""",
    "def clip_grad_norm": """
def clip_grad_norm(parameters, max_norm):
    total = math.sqrt(sum((p.grad**2).sum().item() for p in parameters))
    with aigc_course.no_grad():
        for p in parameters:
            own = math.sqrt((p.grad**2).sum().item())
            p.grad.mul_(min(1.0, max_norm / (own + 1e-6)))
    return total
""",
    "def save_checkpoint": """
def load_checkpoint(path, model, optimizer, scheduler, sampler):
    with open(path, "rb") as f:
        checkpoint = pickle.load(f)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    return checkpoint["epoch"]  # the sampler's generator is not restored
""",
    "# the solutions of chapter 4": """
class MyAdam(MyAdam):
    def step(self):
        pass  # never moves anything
""",
}

#: the kernel's halves rewritten to compute the reference's answers: torch's clipping, and
#: the digits network trained with the course's own Adam, samplers and collate
FORGERY = """
import importlib as _il
import torch as _t
import aigc_course as _ac
_ch = _il.import_module('aigc_course.exercises.ch' + '06')
_runs = getattr(_il.import_module('aigc_course.exercises._ver' + 'dict'), '_ar' + 'med')['runs']

def _clip_answer(cases, fn):
    out = []
    for case in cases:
        ps = [_t.zeros(g.shape, requires_grad=True) for g in case['grads']]
        for p, g in zip(ps, case['grads']):
            p.grad = _t.tensor(g)
        total = _t.nn.utils.clip_grad_norm_(ps, case['max_norm']).item()
        out.append({'total': total, 'grads': [p.grad.numpy() for p in ps]})
    return out

def _milestone_answer(inputs, *pieces):
    from aigc_course.utils import data as _d
    return _runs['_saved'][0](inputs, _ac.optim.Adam, _d.RandomSampler, _d.BatchSampler,
                              _d.default_collate, _train_step)

def _train_step(model, optimizer, x, y, micro_batches=1):
    optimizer.zero_grad()
    loss = _ac.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()

_runs['_saved'] = _runs['check_milestone_digits']
_runs['check_clip_grad_norm'] = (_clip_answer, _clip_answer.__code__)
_runs['check_milestone_digits'] = (_milestone_answer, _milestone_answer.__code__)
"""


def _mistaken() -> dict:
    nb = _reference()
    for startswith, code in MISTAKES.items():
        _append(nb, startswith, code, solution=True)
    return nb


def _forged() -> dict:
    return _append(_student(), "def clip_grad_norm", FORGERY)


SUBMISSIONS = {"ref": _reference, "mistaken": _mistaken, "forged": _forged}


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> dict[str, dict[str, tuple[str, str]]]:
    folder = tmp_path_factory.mktemp("class06")
    for name, make in SUBMISSIONS.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(make()), encoding="utf-8")
    out = folder / "gradebook.csv"
    cmd = [sys.executable, "-m", "aigc_course.grade", *sorted(folder.glob("*.ipynb"))]
    cmd += ["--out", out, "--jobs", "2", "--chapter", "6", "--exercise-timeout", "60"]
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


def test_the_reference_passes_in_the_judge(gradebook):
    for x in PROTOCOLS:
        status, feedback = gradebook["ref"][x]
        assert status == "passed", (x, feedback)
        assert grade.IN_KERNEL not in feedback  # judged in the judge, not in the kernel


def test_honest_mistakes_fail_with_the_judges_hints(gradebook):
    hints = {
        "train_step": "only the last micro-batch",
        "clip_grad_norm": "by its own norm",
        "checkpoint": "data order was not restored",
        "milestone_digits": "barely fell",
    }
    for x, hint in hints.items():
        status, feedback = gradebook["mistaken"][x]
        assert status == "failed", (x, feedback)
        assert hint in feedback and grade.IN_KERNEL not in feedback, (x, feedback)


def test_a_kernel_that_computes_the_reference_is_flagged(gradebook):
    for x in ("clip_grad_norm", "milestone_digits"):
        status, feedback = gradebook["forged"][x]
        assert status == "error", (x, status, feedback)
        assert "replaced what the protocol uses" in feedback
        assert f"aigc_course.exercises.ch06.check_{x}.protocol.run" in feedback
