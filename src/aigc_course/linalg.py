"""``aigc_course.linalg``: norms at torch's path ``torch.linalg`` (the functions themselves live
with the matrix product in :mod:`aigc_course.ops.linalg`).

>>> import aigc_course as torch
>>> torch.linalg.norm(torch.tensor([[3.0, 0.0], [0.0, 4.0]]))
tensor(5.)
"""

from .ops.linalg import linalg_norm as norm
from .ops.linalg import matrix_norm, vector_norm

__all__ = ["matrix_norm", "norm", "vector_norm"]
