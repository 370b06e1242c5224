"""Chapter 10's cfg and sample_digits judged through protocols (issue 18).

For each protocol: the reference passes through it (inputs from a secret seed, the kernel's
half, the plain-data wire, the judge's half); a wrong implementation fails with the checker's
hint; the judge refuses lies (data of the right shape but wrong, data that is not what the
protocol returns, the answer for another seed). Then chapter 10 is graded end to end through
the CLI, in the sandbox, in one notebook: the reference's cfg passes in the judge, and
sample_digits, whose kernel half is rewritten to hand back the course's own sampler's answer,
is flagged.
"""

from __future__ import annotations

import csv
import json
import secrets
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_exercises_ch10 import cfg, cfg_batched, sample_digits

import aigc_course as ac
from aigc_course import grade
from aigc_course.exercises import ExerciseError, ch10
from aigc_course.exercises._plain import decode, encode, to_plain

ROOT = Path(__file__).resolve().parents[1]
CHAPTER10 = ROOT / "chapters" / "10_diffusion.ipynb"
CFG, SAMPLER = ch10.CFG_PROTOCOL, ch10.SAMPLER_PROTOCOL


def _seed() -> int:
    return secrets.randbits(63)  # what the grader's judge draws the inputs from


def _wire(value):
    """What crosses from the kernel to the judge."""
    return decode(json.loads(json.dumps(encode(value))))


def _kernel(protocol, inputs, *objects):
    """The kernel's half on the inputs as they arrive there, its result as the judge gets it."""
    return _wire(protocol.run(to_plain(inputs), *objects))


def _through(protocol, solution, seed=None) -> str:
    inputs = protocol.inputs(_seed() if seed is None else seed)
    return protocol.judge(inputs, _kernel(protocol, inputs, solution))


def reversed_cfg(m, x, t, y, w):
    return m(x, t, y) + w * (m(x, t, ac.full_like(y, m.null_label)) - m(x, t, y))


def paper_cfg(m, x, t, y, w):  # Ho & Salimans' (1 + w) eps_c - w eps_u
    return (1 + w) * m(x, t, y) - w * m(x, t, ac.full_like(y, m.null_label))


def not_written(*args):
    raise NotImplementedError


# ------------------------------------------------ the reference passes through each protocol


def test_cfg_passes_through_the_protocol_batched_or_not():
    assert _through(CFG, cfg_batched).endswith("with one batched model call")
    assert "you made 3 model calls" in _through(CFG, cfg)


def test_sample_digits_passes_through_the_protocol():
    assert _through(SAMPLER, sample_digits).startswith("sample_digits walks the respaced chain")


@pytest.mark.parametrize(
    "protocol, solution, hint",
    [
        (CFG, reversed_cfg, "the direction is reversed"),
        (CFG, paper_cfg, "Ho & Salimans' convention"),
        (CFG, lambda m, x, t, y, w: w * m(x, t, y), "not w \\* eps_cond"),
        (CFG, lambda m, x, t, y, w: m(x, t, y), "null_label"),
        (SAMPLER, lambda *a: sample_digits(*a, mistake="full_table"), "goes to t - k"),
        (SAMPLER, lambda *a: sample_digits(*a, mistake="index_to_model"), "real timesteps"),
    ],
)
def test_a_wrong_implementation_fails_in_the_judge_with_the_hint(protocol, solution, hint):
    with pytest.raises(ExerciseError, match=hint):
        _through(protocol, solution)


def test_the_sampler_judge_names_a_wrong_number_of_model_calls():
    """An x_0 that is no known mistake, from a sampler that called the model three times a
    step: the count that came back is the hint."""

    def three_calls(model, labels, w, abar, x, noises):
        for _ in range(3 * len(noises)):
            model(x, 0, labels)
        return x

    with pytest.raises(ExerciseError, match="the model was called 60 times"):
        _through(SAMPLER, three_calls)


@pytest.mark.parametrize("protocol", [CFG, SAMPLER])
def test_what_fails_in_the_kernel_is_feedback(protocol):
    with pytest.raises(ExerciseError, match="not implemented yet"):
        _through(protocol, not_written)
    with pytest.raises(ExerciseError, match="raised ZeroDivisionError"):
        _through(protocol, lambda *args: 1 / 0)
    with pytest.raises(ExerciseError, match="returned NoneType; expected a tensor"):
        _through(protocol, lambda *args: None)


# ------------------------------------------------ the judge refuses lies


@pytest.mark.parametrize("protocol, solution", [(CFG, cfg_batched), (SAMPLER, sample_digits)])
def test_the_judge_refuses_lies(protocol, solution):
    inputs = protocol.inputs(_seed())
    right = _kernel(protocol, inputs, solution)
    protocol.judge(inputs, right)
    zeros = [{**r, "value": np.zeros_like(r["value"])} for r in right]
    close = [{**r, "value": r["value"] + 1e-2} for r in right]
    lies = [
        {"status": "passed"},  # a verdict where records belong
        right[:-1],  # one case short
        [{"value": r["value"]} for r in right],  # no model-call counts
        [{**r, "value": r["value"].tolist()} for r in right],  # not an array
        [{**r, "value": r["value"].astype(bool)} for r in right],  # not numbers
        [{**r, "calls": "1"} for r in right],  # a count that is not an int
        [{**r, "verdict": "passed"} for r in right],  # an extra key
        [{**r, "error": ""} for r in right],  # two answers in one record
        [{**r, "value": r["value"][..., :-1]} for r in right],  # the wrong shape
        zeros,  # right shapes, wrong values
        close,  # close, but not within tolerance
    ]
    for lie in lies:
        with pytest.raises(ExerciseError):
            protocol.judge(inputs, lie)


@pytest.mark.parametrize("protocol, solution", [(CFG, cfg_batched), (SAMPLER, sample_digits)])
def test_the_answer_for_another_seed_fails(protocol, solution):
    """What a student could precompute for the notebook's fixed seed does not pass the
    grader's inputs."""
    fixed, secret = protocol.inputs(0), protocol.inputs(_seed())
    precomputed = _kernel(protocol, fixed, solution)
    protocol.judge(fixed, precomputed)
    with pytest.raises(ExerciseError):
        protocol.judge(secret, precomputed)


def test_the_inputs_come_from_the_seed_and_the_notebook_keeps_its_draws():
    a, b = CFG.inputs(_seed()), CFG.inputs(_seed())
    assert not np.array_equal(a["x"], b["x"])
    # seed 0 (a notebook): x_T and the draws from generators seeded n, n + 1, ..., as
    # test_sampler_reference_is_diffusers runs diffusers on them
    notebook = SAMPLER.inputs(0)
    for case in notebook["cases"]:
        n = case["steps"]
        x_T, noises = ch10.sampler_inputs(n, list(ch10.SAMPLER_DIGITS), seed=n)
        assert np.array_equal(case["x"], x_T)
        assert all(np.array_equal(z, w) for z, w in zip(case["noises"], noises))
    secret = SAMPLER.inputs(_seed())
    assert not np.array_equal(secret["cases"][0]["x"], notebook["cases"][0]["x"])
    assert np.array_equal(secret["alphas_cumprod"], ch10._linear_alphas_cumprod())


def test_the_kernel_half_leaves_the_learners_random_stream_alone():
    ac.manual_seed(5)
    before = ac.rand(3)
    ac.manual_seed(5)
    CFG.run(to_plain(CFG.inputs(_seed())), cfg)
    SAMPLER.run(to_plain(SAMPLER.inputs(_seed())), sample_digits)
    assert bool((ac.rand(3) == before).all())


def test_the_checkers_still_run_the_protocols_in_the_notebook(capsys):
    assert ch10.check_cfg.protocol is CFG
    assert ch10.check_sample_digits.protocol is SAMPLER
    ch10.check_cfg(cfg_batched)
    ch10.check_sample_digits(sample_digits)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "✓ cfg gives eps_uncond + w (eps_cond - eps_uncond) for w = 3, 0 and 1, with one "
        "batched model call",
        "✓ sample_digits walks the respaced chain (leading spacing) like diffusers' "
        "DDPMScheduler with set_timesteps, for 20 and 8 steps",
    ]


# ------------------------------------------------ end to end, through the CLI in the sandbox

#: the registry of the kernel's halves rewritten: sample_digits' run hands back the course's
#: own float64 sampler's answer (what the judge computes), whatever the learner wrote
FORGERY = """
import importlib as _il
_ch = _il.import_module('aigc_course.exercises.ch' + '10')
_runs = getattr(_il.import_module('aigc_course.exercises._ver' + 'dict'), '_ar' + 'med')['runs']

def _answer(inputs, fn):
    model = _ch._small_denoiser(inputs['model_seed'])
    labels = aigc_course.tensor(list(inputs['labels']))
    abar = inputs['alphas_cumprod'].astype('float64')
    return [
        {'value': _ch._sample64(model, labels, c['scale'], abar, c['x'].astype('float64'),
                                [z.astype('float64') for z in c['noises']]),
         'calls': len(c['noises'])}
        for c in inputs['cases']
    ]

_runs['check_sample_digits'] = (_answer, _answer.__code__)
"""


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _forged() -> dict:
    """The reference notebook, with the forgery after the solution of sample_digits."""
    nb = json.loads(CHAPTER10.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "solution" in cell["metadata"].get("tags", []) and _source(cell).startswith(
            "def sample_digits"
        ):
            cell["source"] = _source(cell) + "\n" + FORGERY
            return nb
    raise LookupError("def sample_digits")


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> dict[str, tuple[str, str]]:
    folder = tmp_path_factory.mktemp("class10")
    (folder / "forged.ipynb").write_text(json.dumps(_forged()), encoding="utf-8")
    out = folder / "gradebook.csv"
    cmd = [sys.executable, "-m", "aigc_course.grade", folder / "forged.ipynb", "--out", out]
    cmd += ["--chapter", "10", "--timeout", "600", "--exercise-timeout", "60"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=folder)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out, newline="", encoding="utf-8") as f:
        return {row["exercise"]: (row["status"], row["feedback"]) for row in csv.DictReader(f)}


def test_cfg_passes_in_the_judge(gradebook):
    status, feedback = gradebook["cfg"]
    assert status == "passed", feedback
    assert grade.IN_KERNEL not in feedback  # judged in the judge, not in the kernel


def test_a_kernel_that_computes_the_reference_is_flagged(gradebook):
    status, feedback = gradebook["sample_digits"]
    assert status == "error", (status, feedback)
    assert "replaced what the protocol uses" in feedback
    assert "aigc_course.exercises.ch10.check_sample_digits.protocol.run" in feedback
