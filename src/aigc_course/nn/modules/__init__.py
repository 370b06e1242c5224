"""The layers, each in its own file at torch's dotted path (``nn/modules/linear.py`` etc.)."""

from .activation import ELU, GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .normalization import LayerNorm
from .pooling import AvgPool2d, MaxPool2d
from .rnn import GRU, LSTM, RNN, RNNBase
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
    "SiLU",
    "LeakyReLU",
    "ELU",
    "Softplus",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "RNNBase",
    "RNN",
    "LSTM",
    "GRU",
    "BCELoss",
    "BCEWithLogitsLoss",
]
