"""Chapter 5's prefetch_map judged through its protocol (issue 18), as the chapter's samplers
and text windows already were: the reference passes (inputs drawn from a secret seed, the
kernel's half, the plain-data wire, the judge's half); a wrong implementation fails with the
checker's hint, decided in the judge; the judge refuses lies (a verdict sent instead of data,
the items in another order, the answer for another seed, a record that claims what the
kernel did not see)."""

from __future__ import annotations

import json
import secrets

import pytest
from test_exercises_ch05 import completion_order, good_prefetch_map, main_thread_map

from aigc_course.exercises import ExerciseError, ch05
from aigc_course.exercises._plain import decode, encode, to_plain

PREFETCH = ch05.PREFETCH_PROTOCOL


def _wire(value):
    """What crosses from the kernel to the judge."""
    return decode(json.loads(json.dumps(encode(to_plain(value)))))


def _kernel(data, fn):
    return _wire(PREFETCH.run(to_plain(data), fn))


def test_the_reference_passes_under_secret_seeds():
    for _ in range(2):
        data = PREFETCH.inputs(secrets.randbits(63))
        assert PREFETCH.judge(data, _kernel(data, good_prefetch_map)).startswith(
            "your prefetch_map yields in order"
        )


def test_the_notebook_keeps_its_inputs_and_the_grader_draws_others():
    notebook = PREFETCH.inputs(0)
    assert notebook["items"] == list(range(12)) and notebook["bounded"] == [40, 2, 4]
    drawn = PREFETCH.inputs(secrets.randbits(63))
    assert drawn["items"] != list(range(12)) and len(set(drawn["items"])) == len(drawn["items"])


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.parametrize(
    "wrong, hint",
    [(completion_order, "order they finished"), (main_thread_map, "in the main thread")],
)
def test_a_wrong_implementation_fails_in_the_judge_with_the_hint(wrong, hint):
    data = PREFETCH.inputs(secrets.randbits(63))
    with pytest.raises(ExerciseError, match=hint):
        PREFETCH.judge(data, _kernel(data, wrong))


def test_the_judge_refuses_lies():
    data = PREFETCH.inputs(secrets.randbits(63))
    honest = _kernel(data, good_prefetch_map)
    other = PREFETCH.inputs(secrets.randbits(63))
    other_answer = _kernel(other, good_prefetch_map)
    lies = {
        "a verdict instead of data": "✓ your prefetch_map yields in order",
        "the answer for another seed": other_answer,
        "the items reversed": {**honest, "got": honest["got"][::-1]},
        "a peak claimed as text": {**honest, "peak": "3"},
        "threads left unreported": {k: v for k, v in honest.items() if k != "threads_left"},
        "the bound overshot": {**honest, "started": data["bounded"][2] + 5},
        "an error swallowed": {**honest, "boom": "swallowed"},
    }
    for name, record in lies.items():
        with pytest.raises(ExerciseError):
            PREFETCH.judge(data, record)
            pytest.fail(f"the judge accepted {name}")
