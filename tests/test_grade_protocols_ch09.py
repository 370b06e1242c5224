"""Chapter 9's greedy_generate, cached_generate and milestone 3 judged through protocols
(issue 18).

For each protocol: the reference passes through it (inputs from a secret seed, the kernel's
half, the plain-data wire, the judge's half); a wrong implementation fails with the checker's
hint; the judge refuses lies (data of the right shape but wrong, data that is not what the
protocol returns, the answer for another seed). The milestone's judge replays chapters 7 and
8's checks on the kernel's records of the learner's encode and attention. Then chapter 9 is
graded end to end through the CLI, in the sandbox, in one notebook: an honest mistake in
greedy_generate fails with the judge's hint, the reference's cached_generate passes in the
judge, and a milestone whose kernel half is rewritten is flagged.
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
from test_exercises_ch09 import attention, cached_generate, encode, greedy

from aigc_course import grade
from aigc_course.exercises import ExerciseError, _checking, ch09
from aigc_course.exercises._plain import decode, to_plain
from aigc_course.exercises._plain import encode as to_wire

pytest.importorskip("transformers")

ROOT = Path(__file__).resolve().parents[1]
CHAPTER09 = ROOT / "chapters" / "09_generation.ipynb"
GREEDY, CACHED = ch09.GREEDY_PROTOCOL, ch09.CACHED_PROTOCOL
MILESTONE = ch09.MILESTONE_PROTOCOL


def _seed() -> int:
    return secrets.randbits(63)  # what the grader's judge draws the inputs from


def _wire(value):
    """What crosses from the kernel to the judge."""
    return decode(json.loads(json.dumps(to_wire(value))))


def _kernel(protocol, inputs, *objects):
    """The kernel's half on the inputs as they arrive there, its result as the judge gets it."""
    return _wire(protocol.run(to_plain(inputs), *objects))


def _through(protocol, *objects, seed=None) -> str:
    inputs = protocol.inputs(_seed() if seed is None else seed)
    return protocol.judge(inputs, _kernel(protocol, inputs, *objects))


def not_written(*args):
    raise NotImplementedError


# ------------------------------------------------ greedy_generate and cached_generate


def test_the_reference_passes_through_the_protocols():
    assert (
        _through(GREEDY, greedy) == "greedy_generate gives transformers' greedy ids (batch 1 and 2)"
    )
    assert _through(CACHED, cached_generate).startswith("cached_generate gives transformers'")


@pytest.mark.parametrize(
    "protocol, solution, hint",
    [
        (GREEDY, lambda m, i, n: greedy(m, i, n, only_new=True), "only the new tokens"),
        (GREEDY, lambda m, i, n: greedy(m, i, n, grow=False), "every new token is the same"),
        (GREEDY, lambda m, i, n: greedy(m, i, n, position=0), "\\*last\\* position"),
        (GREEDY, lambda m, i, n: greedy(m, i, n, steps=n - 1), "shape"),
        (CACHED, lambda m, i, n, a: cached_generate(m, i, n, a, cache=False), "uses no cache"),
        (CACHED, lambda m, i, n, a: cached_generate(m, i, n, a, positions="zero"), "wpe must"),
        (CACHED, lambda m, i, n, a: cached_generate(m, i, n, a, extend=False), "not extended"),
        (CACHED, lambda m, i, n, a: cached_generate(m, i, n, attention), "never called"),
    ],
)
def test_a_wrong_implementation_fails_in_the_judge_with_the_hint(protocol, solution, hint):
    with pytest.raises(ExerciseError, match=hint):
        _through(protocol, solution)


@pytest.mark.parametrize("protocol", [GREEDY, CACHED])
def test_what_fails_in_the_kernel_is_feedback(protocol):
    with pytest.raises(ExerciseError, match="not implemented yet"):
        _through(protocol, not_written)
    with pytest.raises(ExerciseError, match="raised ZeroDivisionError"):
        _through(protocol, lambda *args: 1 / 0)
    with pytest.raises(ExerciseError, match="returned NoneType; expected a tensor"):
        _through(protocol, lambda *args: None)


@pytest.mark.parametrize("protocol, solution", [(GREEDY, greedy), (CACHED, cached_generate)])
def test_the_judge_refuses_lies(protocol, solution):
    inputs = protocol.inputs(_seed())
    right = _kernel(protocol, inputs, solution)
    protocol.judge(inputs, right)
    lies = [
        {"status": "passed"},  # a verdict where records belong
        right[:-1],  # one case short
        [{**r, "value": r["value"].tolist()} for r in right],  # not an array
        [{**r, "value": r["value"].astype(str)} for r in right],  # not numbers
        [{**r, "verdict": "passed"} for r in right],  # an extra key
        [{**r, "error": ""} for r in right],  # two answers in one record
        [{**r, "value": r["value"][:, :-1]} for r in right],  # one token short
        [{**r, "value": np.zeros_like(r["value"])} for r in right],  # right shape, wrong ids
        [{**r, "value": (r["value"] + 1) % 97} for r in right],
    ]
    if protocol is CACHED:
        lies += [
            [{"value": r["value"]} for r in right],  # no record of the attention calls
            [{**r, "calls": [[1, 2, 3]]} for r in right],  # calls that are not (T, S)
            [{**r, "calls": [[1.0, 2.0]]} for r in right],
        ]
    for lie in lies:
        with pytest.raises(ExerciseError):
            protocol.judge(inputs, lie)
    if protocol is CACHED:  # the record of the calls is judged too: no calls, no cache
        with pytest.raises(ExerciseError, match="never called the attention"):
            protocol.judge(inputs, [{**r, "calls": []} for r in right])
        without_cache = [{**r, "calls": [[5, 5]] * len(r["calls"])} for r in right]
        with pytest.raises(ExerciseError, match="uses no cache"):
            protocol.judge(inputs, without_cache)


@pytest.mark.parametrize("protocol, solution", [(GREEDY, greedy), (CACHED, cached_generate)])
def test_the_answer_for_another_seed_fails(protocol, solution):
    """What a student could precompute for the notebook's fixed seed does not pass the
    grader's inputs: the weights and the prompts are drawn from the seed."""
    fixed, secret = protocol.inputs(0), protocol.inputs(_seed())
    assert not np.array_equal(
        fixed["weights"]["lm_head.weight"], secret["weights"]["lm_head.weight"]
    )
    precomputed = _kernel(protocol, fixed, solution)
    protocol.judge(fixed, precomputed)
    with pytest.raises(ExerciseError, match="first differs|shape"):
        protocol.judge(secret, precomputed)


def test_the_notebook_keeps_its_model_and_prompts():
    """Seed 0: torch's seed 0 for the weights, numpy's seeds 2 and 5 for the prompts (no
    near tie among their greedy steps, so none was redrawn)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    hf = GPT2LMHeadModel(GPT2Config(**ch09.SMALL_GPT2))
    for protocol, offset in ((GREEDY, 2), (CACHED, 5)):
        inputs = protocol.inputs(0)
        weights = inputs["weights"]
        assert all(np.array_equal(weights[k], v.numpy()) for k, v in hf.state_dict().items())
        rng = np.random.default_rng(offset)
        for (B, T, n), case in zip(ch09.GENERATION_CASES, inputs["cases"]):
            assert np.array_equal(case["prompt"], rng.integers(0, 97, (B, T)))
            assert case["steps"] == n


# ------------------------------------------------ milestone 3


@pytest.fixture(scope="module")
def milestone():
    """A secret seed's inputs, and the reference pieces' outputs as the judge receives them."""
    inputs = MILESTONE.inputs(_seed())
    return inputs, _kernel(MILESTONE, inputs, encode, attention, cached_generate)


def test_the_milestone_reference_passes_on_a_drawn_prompt(milestone):
    inputs, outputs = milestone
    message = MILESTONE.judge(inputs, outputs)
    n = inputs["steps"]
    assert message.startswith(
        "milestone 3: your encode, attention and cached_generate reproduce transformers' "
        f"greedy continuation of the shipped GPT-2, {n} of {n} tokens\n{inputs['prompt']!r} + "
    )
    assert inputs["prompt"].startswith("The ") and n >= ch09.MILESTONE_MIN_CLEAR


def test_the_notebooks_prompt_is_the_first():
    assert ch09._milestone_prompt(0) == ("The for statement is used to", 24)


def test_the_milestone_names_the_missing_and_the_faulty_pieces():
    with pytest.raises(ExerciseError, match="not implemented yet: .*encode .*cached_generate"):
        _through(MILESTONE, not_written, attention, not_written)
    with pytest.raises(ExerciseError, match="attention \\(chapter 8, exercise 2\\) is not right"):
        _through(MILESTONE, encode, lambda q, k, v: attention(q, k, v, 1), cached_generate)


def test_an_exception_is_replayed_with_its_name_and_message():
    """The learner's encode raised KeyError in the kernel; chapter 7's check, replayed in the
    judge, sees a KeyError and gives its hint."""

    def by_characters(text, vocab, merges):
        return [vocab[c] for c in text]

    with pytest.raises(ExerciseError, match="raised KeyError.*printable byte characters"):
        _through(MILESTONE, by_characters, attention, cached_generate)


def test_the_milestone_judge_refuses_lies(milestone):
    inputs, right = milestone
    zeros = [{"result": np.zeros_like(r["result"])} for r in right["attention"]]
    other_ids = {"result": [int(i) + 1 for i in right["prompt"]["result"]]}
    yours = right["generation"]["yours"]
    lies = {
        "the protocol's form": [
            {"status": "passed"},
            {**right, "missing": ["nothing at all"]},
            {**right, "encode": right["encode"][:-1]},
            {**right, "attention": right["attention"] + right["attention"][:1]},
            {**right, "prompt": {"result": [1], "verdict": "passed"}},
            {**right, "generation": None},
            {**right, "generation": {"yours": yours}},
        ],
        "attention \\(chapter 8, exercise 2\\) is not right yet": [{**right, "attention": zeros}],
        "your encode \\(chapter 7\\) gives": [{**right, "prompt": other_ids}],
        "first differs": [
            {
                **right,
                "generation": {
                    **right["generation"],
                    "yours": {**yours, "value": (yours["value"] + 1) % 8192},
                },
            }
        ],
        "never called the attention": [
            {**right, "generation": {**right["generation"], "yours": {**yours, "calls": []}}}
        ],
    }
    for match, outputs in lies.items():
        for lie in outputs:
            with pytest.raises(ExerciseError, match=match):
                MILESTONE.judge(inputs, lie)


def test_the_milestones_answer_for_another_prompt_fails(milestone):
    inputs, outputs = milestone
    seed = next(s for s in iter(_seed, None) if ch09._milestone_prompt(s)[0] != inputs["prompt"])
    with pytest.raises(ExerciseError, match="your encode \\(chapter 7\\) gives"):
        MILESTONE.judge(MILESTONE.inputs(seed), outputs)


def test_in_the_judge_the_attention_calls_come_from_the_secret(milestone):
    """Chapter 8's check draws its inputs from seeded(0): in the judge, from the secret, so
    the kernel's answers to the notebook's calls are wrong answers there."""
    inputs, outputs = milestone
    try:
        _checking._SECRET[0] = _seed()
        secret = MILESTONE.inputs(_checking.seeded(0))
        assert not np.array_equal(secret["attention_calls"][0][0], inputs["attention_calls"][0][0])
        with pytest.raises(
            ExerciseError, match="attention \\(chapter 8, exercise 2\\) is not right"
        ):
            MILESTONE.judge(secret, outputs)
    finally:
        _checking._SECRET[0] = None


def test_a_replay_answers_only_the_calls_the_kernel_was_given():
    calls = [[np.zeros((1, 1, 2, 4), np.float32)] * 3]
    replay = ch09._Replay("attention", calls, [{"result": np.ones(3)}], ch09._same_arrays)
    assert np.array_equal(replay(*calls[0]), np.ones(3))
    with pytest.raises(ExerciseError, match="does not match the calls"):
        replay(*calls[0])  # a second call: none was recorded
    replay = ch09._Replay("attention", calls, [{"result": np.ones(3)}], ch09._same_arrays)
    with pytest.raises(ExerciseError, match="does not match the calls"):
        replay(*[np.ones((1, 1, 2, 4), np.float32)] * 3)  # other arguments


def test_the_checkers_still_run_the_protocols_in_the_notebook():
    assert ch09.check_greedy_generate.protocol is GREEDY
    assert ch09.check_cached_generate.protocol is CACHED
    assert ch09.check_milestone_gpt2.protocol is MILESTONE


# ------------------------------------------------ end to end, through the CLI in the sandbox

#: an honest mistake, after the reference's greedy_generate: only the new tokens returned
MISTAKE = """
@ac.no_grad()
def greedy_generate(model, ids, max_new_tokens):  # noqa: F811
    T = ids.shape[1]
    while ids.shape[1] < T + max_new_tokens:
        last = model(ids)[:, -1]
        ids = ac.cat([ids, last.argmax(dim=-1, keepdim=True)], dim=1)
    return ids[:, T:]
"""

#: the registry of the kernel's halves rewritten: the milestone's run hands the learner's
#: cached_generate the course's reference attention, whatever attention the learner wrote
FORGERY = """
import importlib as _il
_ch = _il.import_module('aigc_course.exercises.ch' + '09')
_runs = getattr(_il.import_module('aigc_course.exercises._ver' + 'dict'), '_ar' + 'med')['runs']
_saved = _runs['check_milestone_gpt2'][0]

def _answer(inputs, encode, attention, cached_generate):
    return _saved(inputs, encode, _ch.reference_attention, cached_generate)

_runs['check_milestone_gpt2'] = (_answer, _answer.__code__)
"""


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _submission() -> dict:
    """The reference notebook with the mistake and the forgery after their solutions."""
    nb = json.loads(CHAPTER09.read_text(encoding="utf-8"))
    todo = {"@ac.no_grad()  # inference": MISTAKE, "def cached_generate": FORGERY}
    for cell in nb["cells"]:
        if "solution" not in cell["metadata"].get("tags", []):
            continue
        for start in [s for s in todo if _source(cell).startswith(s)]:
            cell["source"] = _source(cell) + "\n" + todo.pop(start)
    assert not todo, todo
    return nb


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> dict[str, tuple[str, str]]:
    folder = tmp_path_factory.mktemp("class09")
    (folder / "mixed.ipynb").write_text(json.dumps(_submission()), encoding="utf-8")
    out = folder / "gradebook.csv"
    cmd = [sys.executable, "-m", "aigc_course.grade", folder / "mixed.ipynb", "--out", out]
    cmd += ["--chapter", "9", "--timeout", "600", "--exercise-timeout", "60"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=folder)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out, newline="", encoding="utf-8") as f:
        return {row["exercise"]: (row["status"], row["feedback"]) for row in csv.DictReader(f)}


def test_cached_generate_passes_in_the_judge(gradebook):
    status, feedback = gradebook["cached_generate"]
    assert status == "passed", feedback
    assert grade.IN_KERNEL not in feedback  # judged in the judge, not in the kernel


def test_an_honest_mistake_fails_with_the_judges_hint(gradebook):
    status, feedback = gradebook["greedy_generate"]
    assert status == "failed", feedback
    assert "only the new tokens" in feedback and grade.IN_KERNEL not in feedback


def test_a_rewritten_milestone_is_flagged(gradebook):
    status, feedback = gradebook["milestone_gpt2"]
    assert status == "error", (status, feedback)
    assert "replaced what the protocol uses" in feedback
    assert "aigc_course.exercises.ch09.check_milestone_gpt2.protocol.run" in feedback
