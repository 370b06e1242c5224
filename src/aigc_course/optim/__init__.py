"""``aigc_course.optim``: optimizers that update parameters from their ``.grad``, and
learning-rate schedules (chapter 4).

>>> import aigc_course as ac
>>> from aigc_course import optim
>>> w = ac.tensor([3.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.25)
>>> for _ in range(3):
...     opt.zero_grad()
...     (w * w).sum().backward()
...     opt.step()
>>> w   # each step halves w: 3 -> 1.5 -> 0.75 -> 0.375
tensor([0.3750], requires_grad=True)
"""

from . import lr_scheduler
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
