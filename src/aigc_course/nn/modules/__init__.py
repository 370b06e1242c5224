"""The layers, each in its own file at torch's dotted path (``nn/modules/linear.py`` etc.)."""

from .activation import GELU, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .normalization import LayerNorm
from .sparse import Embedding

__all__ = [
    "Module",
    "Linear",
    "Identity",
    "Embedding",
    "LayerNorm",
    "Dropout",
    "ReLU",
    "GELU",
    "Tanh",
    "Sigmoid",
    "Softmax",
    "Flatten",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "MSELoss",
    "NLLLoss",
    "CrossEntropyLoss",
]
