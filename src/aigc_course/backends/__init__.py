"""``aigc_course.backends``: which accelerated backends this build has, as torch reports them
in a CPU-only build: no MPS, no cuDNN (its flags exist, so programs may set them).

>>> import aigc_course as torch
>>> torch.backends.mps.is_available(), torch.backends.cudnn.is_available()
(False, False)
"""

from . import cudnn, mps

__all__ = ["cudnn", "mps"]
