"""``aigc_course.nn``: modules, parameters, layers, losses, ``functional`` and ``init``.

``import aigc_course.nn as nn`` gives the names of ``torch.nn``, so a model written for torch
runs on aigc_course by changing the import (chapter 3 shows it with the article's TwoLayerNet).
"""

from . import functional, init, modules, utils
from .modules import (
    ELU,
    GELU,
    GRU,
    LSTM,
    RNN,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    BCELoss,
    BCEWithLogitsLoss,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    MaxPool2d,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    ReLU,
    RNNBase,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .parameter import Parameter

__all__ = ["functional", "init", "Parameter", *modules.__all__]
