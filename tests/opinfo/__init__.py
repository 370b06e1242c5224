"""One parity harness in the spirit of torch's OpInfo (``torch.testing._internal.opinfo``).

Every public op is declared once, in ``ops.py`` (tensor ops, grouped like ``aigc_course/ops``),
``creation.py`` (``zeros``, ``arange``, ``rand``...) or ``nn.py`` (``nn.functional``, the layers
and the losses), with a sample-input generator over shapes, dtypes and keyword options
(``samples.py`` holds the shared ones), and its bad inputs. The ``tests/test_ops_*.py`` and
``tests/test_nn_*.py`` files generate their cases from these declarations with the checks in
``core.py`` (the five standard tests come from ``suite.op_tests``): values, dtype, shape and
strides against torch; gradients and second derivatives
against torch; float64 central differences; and the exception type torch raises on bad input.
``tests/test_random_programs.py`` adds Hypothesis-composed programs of several ops.

Adding an op: append an ``OpInfo`` to its topic's list, with a ``samples(dtype, rng)``
generator (``samples.unary``, ``binary``, ``reduction`` or your own ``Sample``s of ``Arg``
inputs) and ``errors`` (``ErrorInput``s: the call torch refuses, and the values our message
must name). The test files pick it up, and ``tests/test_opinfo_coverage.py`` fails for a public
op that no entry calls (``registry.py``: the public ops, and the short list of callables that are
not ops). One-off tests that the two call forms cannot express use the same checks through
``both``, ``check_grads``, ``gradcheck``, ``raises_like`` and ``parity`` (``core.py``).
"""

from .core import *  # noqa: F403
from .core import __all__
