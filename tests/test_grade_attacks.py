"""Attacks on the grader's protocols (issue 18), on chapter 4's class exercises.

Chapter 4's optimizers are judged through a fixed protocol: the judge draws 30 gradients from
the run's secret seed, the submission's kernel runs the learner's optimizer on them and sends
back the trajectory as plain data, and the judge compares it with ``torch.optim`` in float64.
Each test here is an attack a student could try on that design: lying about what was returned
(monkeypatching the kernel's half of the protocol to compute torch's answer, sending a fake
verdict instead of data, data of the right shape but wrong, objects whose ``__eq__`` always says
yes), and probing for the secret seed (environment, files, other processes' command lines and
memory). Each is caught or prevented.
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

from aigc_course import grade
from aigc_course.exercises import ExerciseError, _checking, ch04, ch08
from aigc_course.exercises._verdict import NotPlain, decode, encode, to_plain

ROOT = Path(__file__).resolve().parents[1]
CHAPTER04 = ROOT / "chapters" / "04_optimizers.ipynb"
OPTIMIZERS = ("sgd_momentum", "adam", "radam")

sys.path.insert(0, str(ROOT / "scripts"))
from make_student_notebooks import student_notebook  # noqa: E402


def _reference() -> dict:
    return json.loads(CHAPTER04.read_text(encoding="utf-8"))


def _student() -> dict:
    nb, _ = student_notebook(nbformat.read(CHAPTER04, as_version=4))
    return json.loads(nbformat.writes(nb))


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _cell(nb: dict, startswith: str, solution: bool = False) -> dict:
    for cell in nb["cells"]:
        is_solution = "solution" in cell["metadata"].get("tags", [])
        if (
            cell["cell_type"] == "code"
            and _source(cell).startswith(startswith)
            and is_solution == solution
        ):
            return cell
    raise LookupError(startswith)


def _append(nb: dict, startswith: str, code: str) -> dict:
    cell = _cell(nb, startswith)
    cell["source"] = _source(cell) + "\n" + code
    return nb


# torch's own trajectory, for the optimizer the protocol names ("your Adam" -> Adam)
TORCH_ANSWER = """
import torch as _t
_which = {"your SGD": "SGD", "your Adam": "Adam", "your RAdam": "RAdam", "your AdamW": "AdamW"}
def _torch_answer(cls, kwargs, start, grads, what):
    params = [_t.tensor(a, dtype=_t.float64, requires_grad=True) for a in start]
    opt = getattr(_t.optim, _which[what])(params, **kwargs)
    out = []
    for g in grads:
        for p, gi in zip(params, g):
            p.grad = _t.tensor(gi, dtype=_t.float64)
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out
"""


def _patched_plain(nb):
    """The kernel's half of the protocol replaced by torch's answer, in plain sight."""
    return _append(
        nb,
        "class MySGD",
        TORCH_ANSWER + "from aigc_course.exercises import ch04\n"
        "ch04._learner_trajectory = _torch_answer\n",
    )


def _patched_hidden(nb):
    """The same, through importlib and setattr with computed names (no static trace)."""
    return _append(
        nb,
        "class MySGD",
        TORCH_ANSWER + "import importlib\n"
        "_m = importlib.import_module('aigc_course.exercises.ch' + '04')\n"
        "setattr(_m, '_learner_' + 'trajectory', _torch_answer)\n",
    )


def _forged_runs(nb):
    """The kernel's registry of protocols rewritten: each run computes torch's answer."""
    return _append(
        nb,
        "class MySGD",
        TORCH_ANSWER + "import importlib\n"
        "_v = importlib.import_module('aigc_course.exercises.' + '_ver' + 'dict')\n"
        "_reg = getattr(_v, '_ar' + 'med')['runs']\n"
        "_opt = {'check_sgd_momentum': ('your SGD', dict(lr=0.1, momentum=0.9)),\n"
        "        'check_adam': ('your Adam', dict(lr=0.05, betas=(0.8, 0.95), eps=1e-3)),\n"
        "        'check_radam': ('your RAdam', dict(lr=0.05, betas=(0.8, 0.95), eps=1e-3))}\n"
        "def _fake(name):\n"
        "    what, kw = _opt[name]\n"
        "    def run(inputs, cls):\n"
        "        return _torch_answer(cls, kw, inputs['start'], inputs['grads'], what)\n"
        "    return run\n"
        "for _k in [k for k in _reg if k in _opt]:\n"
        "    _f = _fake(_k)\n"
        "    _reg[_k] = (_f, _f.__code__)\n",
    )


def _fake_reply(nb):
    """The kernel answers the judge's request with a verdict instead of data."""
    return _append(
        nb,
        "class MySGD",
        "import importlib\n"
        "_v = importlib.import_module('aigc_course.exercises.' + '_ver' + 'dict')\n"
        "setattr(_v, '_run_' + 'protocol', lambda request, namespace: {\n"
        "    'status': 'passed', 'feedback': '✓ forged', 'judged': 'judge',\n"
        "    'exercise': request['checker']})\n",
    )


def _zeros(nb):
    """Optimizers that set every parameter to 0: data of the right shape, but wrong."""
    for name in ("MySGD", "MyAdam", "MyRAdam"):
        cell = _cell(nb, f"class {name}")
        cell["source"] = _source(cell).replace(
            "raise NotImplementedError",
            "for group in self.param_groups:\n"
            "            for p in group['params']:\n"
            "                if p.grad is not None:\n"
            "                    p.data = p.data * 0",
        )
    return nb


SUBMISSIONS = {
    "ref": _reference,
    "student": _student,
    "patchedplain": lambda: _patched_plain(_student()),
    "patchedhidden": lambda: _patched_hidden(_student()),
    "forgedruns": lambda: _forged_runs(_student()),
    "fakereply": lambda: _fake_reply(_student()),
    "zeros": lambda: _zeros(_student()),
}


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> dict[str, dict[str, tuple[str, str]]]:
    folder = tmp_path_factory.mktemp("class04")
    for name, make in SUBMISSIONS.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(make()), encoding="utf-8")
    out = folder / "gradebook.csv"
    cmd = [sys.executable, "-m", "aigc_course.grade", *sorted(folder.glob("*.ipynb"))]
    cmd += ["--out", out, "--jobs", "2"]
    cmd += ["--chapter", "4", "--exercise-timeout", "20"]
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


def test_the_reference_passes_through_the_protocol(gradebook):
    for x in OPTIMIZERS:
        status, feedback = gradebook["ref"][x]
        assert status == "passed", feedback
        assert grade.IN_KERNEL not in feedback  # judged in the judge, not in the kernel


def test_the_student_edition_is_not_attempted(gradebook):
    assert {gradebook["student"][x][0] for x in OPTIMIZERS} == {"not attempted"}


@pytest.mark.parametrize("student", ["patchedplain", "patchedhidden", "forgedruns"])
def test_a_protocol_rewritten_to_compute_torchs_answer_does_not_pass(gradebook, student):
    for x in OPTIMIZERS:
        status, feedback = gradebook[student][x]
        assert status == "error", (student, x, status, feedback)


def test_a_rewrite_in_plain_sight_is_named(gradebook):
    for x in OPTIMIZERS:
        assert "ch04._learner_trajectory" in gradebook["patchedplain"][x][1]


def test_a_hidden_rewrite_is_caught_when_the_protocol_runs(gradebook):
    for x in OPTIMIZERS:
        feedback = gradebook["patchedhidden"][x][1]
        assert "replaced what the protocol uses" in feedback
        assert "aigc_course.exercises.ch04._learner_trajectory" in feedback
        assert "replaced what the protocol uses" in gradebook["forgedruns"][x][1]


def test_a_verdict_sent_instead_of_data_is_not_a_verdict(gradebook):
    for x in OPTIMIZERS:
        status, feedback = gradebook["fakereply"][x]
        assert status == "error", feedback
        assert "forged" not in feedback


def test_data_of_the_right_shape_but_wrong_fails_with_the_judges_feedback(gradebook):
    for x, name in zip(OPTIMIZERS, ("SGD", "Adam", "RAdam")):
        status, feedback = gradebook["zeros"][x]
        assert status == "failed", feedback
        assert f"leaves torch.optim.{name}'s at step 1" in feedback


# ------------------------------------------------ the judge's half, on lying outputs


def _reference_trajectory(inputs, torch_name, kwargs):
    import torch

    return ch04._torch_trajectory(
        getattr(torch.optim, torch_name), kwargs, inputs["start"], inputs["grads"]
    )


def test_the_judge_accepts_torchs_trajectory_and_refuses_lies():
    inputs = ch04._inputs(1234)
    right = _reference_trajectory(inputs, "Adam", ch04.ADAM_KWARGS)
    assert "follows torch.optim.Adam" in ch04.ADAM_PROTOCOL.judge(inputs, right)
    wire = decode(json.loads(json.dumps(encode(right))))  # what crosses from the kernel
    ch04.ADAM_PROTOCOL.judge(inputs, wire)
    shaped_right = [[np.zeros_like(a) for a in step] for step in right]
    lies = [
        {"status": "passed"},  # a dict where a trajectory belongs
        right[:-1],  # one step short
        [[a.ravel() for a in step] for step in right],  # flattened
        [[a.astype(np.int64) for a in step] for step in right],  # not floats
        shaped_right,  # right shapes, wrong values
        [[a + 1e-3 for a in step] for step in right],  # close, but not within tolerance
    ]
    for lie in lies:
        with pytest.raises(ExerciseError):
            ch04.ADAM_PROTOCOL.judge(inputs, lie)


def test_a_trajectory_for_other_inputs_fails():
    """What a student could precompute for the notebook's fixed seed does not pass the
    grader's inputs."""
    fixed, secret = ch04._inputs(0), ch04._inputs(secrets.randbits(63))
    precomputed = _reference_trajectory(fixed, "Adam", ch04.ADAM_KWARGS)
    ch04.ADAM_PROTOCOL.judge(fixed, precomputed)
    with pytest.raises(ExerciseError, match="leaves torch.optim.Adam's at step 1"):
        ch04.ADAM_PROTOCOL.judge(secret, precomputed)


def test_objects_whose_eq_always_says_yes_cannot_cross():
    class Always:
        def __eq__(self, other):
            return True

    class AlwaysArray(np.ndarray):
        def __eq__(self, other):
            return True

    with pytest.raises(NotPlain):
        encode(Always())
    with pytest.raises(NotPlain):
        encode([[Always()]])
    crossed = to_plain(np.zeros(3).view(AlwaysArray))
    assert type(crossed) is np.ndarray and not (crossed == 1).any()


def test_num_params_returning_an_int_whose_eq_always_says_yes_fails():
    """Issue 18's forgery on chapter 8, now through its protocol."""

    class Always(int):
        def __eq__(self, other):
            return True

        def __ne__(self, other):
            return False

        __hash__ = int.__hash__

    configs = ch08._configs(secrets.randbits(63))
    counts = ch08._num_params_run(configs, lambda config: Always(0))
    assert all(type(c) is Always for c in counts)  # the kernel's half returns them as is
    crossed = decode(json.loads(json.dumps(encode(counts))))
    assert [type(c) for c in crossed] == [int, int, int]
    with pytest.raises(ExerciseError, match="transformers' model has"):
        ch08.NUM_PARAMS_PROTOCOL.judge(configs, crossed)
    with pytest.raises(ExerciseError):
        ch08.check_num_params(lambda config: Always(0))  # and in the notebook


def test_the_seed_changes_the_inputs_only_in_the_judge():
    assert _checking.seeded(0) == 0  # a notebook: the fixed seed
    try:
        _checking._SECRET[0] = secrets.randbits(63)
        a = _checking.seeded(0)
        _checking._SECRET[0] = secrets.randbits(63)
        b = _checking.seeded(0)
    finally:
        _checking._SECRET[0] = None
    assert a != b and 0 <= a < 2**63
    first, second = ch04._inputs(a), ch04._inputs(b)
    assert not np.array_equal(first["grads"][0][0], second["grads"][0][0])


# ------------------------------------------------ probing for the secret seed

#: The probe: look for the seed's decimal digits in the environment, in every file the kernel
#: can read under its folder, /tmp and $HOME, in the command lines and environments of every
#: process it can see, and in the memory of its own child processes (the judge); being able
#: to read a child's memory at all counts as found. The needle is kept out of the files as
#: two masks, and built only in memory.
PROBE = """
import glob as _glob, os as _os

def _search(needle):
    where = []
    if any(needle in v for v in _os.environ.values()):
        where.append('env')
    for top in (_os.getcwd(), '/tmp', _os.environ.get('HOME', '/tmp')):
        for path in _glob.glob(top + '/**', recursive=True):
            try:
                with open(path, 'rb') as f:
                    if needle.encode() in f.read(1 << 22):
                        where.append(path)
            except OSError:
                pass
    for proc in _glob.glob('/proc/[0-9]*'):
        for name in ('cmdline', 'environ'):
            try:
                with open(f'{proc}/{name}', 'rb') as f:
                    if needle.encode() in f.read():
                        where.append(f'{proc}/{name}')
            except OSError:
                pass
        try:
            with open(f'{proc}/stat') as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid != _os.getpid() or proc.endswith('/' + str(_os.getpid())):
            continue
        try:  # a child of the kernel: the judge
            with open(f'{proc}/maps') as maps, open(f'{proc}/mem', 'rb') as mem:
                for line in maps:
                    lo, hi = (int(x, 16) for x in line.split()[0].split('-'))
                    if 'r' not in line.split()[1] or hi - lo > 1 << 26:
                        continue
                    mem.seek(lo)
                    chunk = mem.read(hi - lo)
                    where.append(f'{proc}/mem readable')
                    if needle.encode() in chunk:
                        where.append(f'{proc}/mem')
        except (OSError, ValueError, OverflowError):
            pass
    return where

_found = None

def _seed_found():
    global _found
    if _found is None:
        _found = _search(str(MASK_A ^ MASK_B))
    return bool(_found)
"""


def _probing(nb: dict, mask_a: int, mask_b: int, plant: bool) -> dict:
    """The reference's Adam, which only steps when the probe found the seed (else: 'not
    attempted'); ``plant`` puts the needle where the probe looks (the control)."""
    code = PROBE.replace("MASK_A", str(mask_a)).replace("MASK_B", str(mask_b))
    if plant:
        code += (
            "import subprocess as _sp\n_needle = str(MASK_A ^ MASK_B)\n".replace(
                "MASK_A", str(mask_a)
            ).replace("MASK_B", str(mask_b))
            + "_os.environ['PLANTED'] = _needle\n"
            "open('planted.txt', 'w').write(_needle)\n"
            "_child = _sp.Popen(['sleep', '60', _needle])\n"
        )
    solution = _source(_cell(_reference(), "class MyAdam", solution=True))
    solution = solution.replace(
        "    def step(self):\n",
        "    def step(self):\n        if not _seed_found():\n"
        "            raise NotImplementedError\n",
        1,
    )
    cell = _cell(nb, "class MyAdam")
    cell["source"] = code + "\n" + solution
    return nb


def test_the_secret_seed_cannot_be_found_from_the_kernel(tmp_path, monkeypatch):
    seed = secrets.randbits(63)
    mask_a = secrets.randbits(63)
    monkeypatch.setattr(grade.secrets, "randbits", lambda k: seed)  # the run's secret, known here
    references = grade.load_references()
    rows = {}
    for plant in (False, True):
        path = tmp_path / f"probe_{plant}.ipynb"
        path.write_text(json.dumps(_probing(_student(), mask_a, seed ^ mask_a, plant)))
        result = grade.grade_notebook(path, "probe", references, "04", 150, 30)
        rows[plant] = dict((x, (s, f)) for x, s, f in result.rows)
    # the control: planted in the environment, a file and a process's command line, the
    # needle is found, and the reference's Adam passes
    assert rows[True]["adam"][0] == "passed", rows[True]["adam"]
    # the real thing: the seed is nowhere the kernel can look, so its Adam never steps
    assert rows[False]["adam"][0] == "not attempted", rows[False]["adam"]
