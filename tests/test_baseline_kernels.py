"""The mechanism behind .ci/run's second nbval run: numpy and torch really can be held to
their baseline CPU kernels by environment variables, so that run does test what it claims
(outputs that do not depend on the CPU's SIMD extensions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

PROBE = """
import json
import numpy, torch
from numpy._core._multiarray_umath import __cpu_dispatch__ as d, __cpu_features__ as f
print(json.dumps({"numpy": [x for x in d if f.get(x)],
                  "torch": torch.backends.cpu.get_cpu_capability()}))
"""


def _probe(**env) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_environment_variables_restrict_numpy_and_torch_to_baseline_kernels():
    found = [x for x in __cpu_dispatch__ if __cpu_features__.get(x)]  # as .ci/run computes it
    restricted = _probe(NPY_DISABLE_CPU_FEATURES=" ".join(found), ATEN_CPU_CAPABILITY="default")
    assert restricted == {"numpy": [], "torch": "DEFAULT"}
    assert _probe()["numpy"] == found  # and without them, the machine's own kernels
