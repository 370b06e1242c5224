"""Run a PyTorch program unchanged with ``aigc_course`` in torch's place: every ``import torch``
(and ``torch.nn``, ``torch.nn.functional``, ``torch.optim``, ``torch.utils.data``...) gets
aigc_course's module. Usage: ``python run_as_aigc_course.py program.py``."""

import runpy
import sys

import aigc_course

SUBMODULES = [
    "", "nn", "nn.functional", "nn.init", "nn.utils", "optim", "optim.lr_scheduler", "utils",
    "utils.data", "cuda", "backends", "backends.mps", "linalg", "autograd", "distributed",
]  # fmt: skip


def main() -> None:
    for path in SUBMODULES:
        module = aigc_course
        for part in filter(None, path.split(".")):
            module = getattr(module, part)
        sys.modules["torch" + ("." + path if path else "")] = module
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
