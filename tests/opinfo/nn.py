"""The registry of ``nn``: the functions of ``nn.functional`` (as OpInfos), the losses, and the
layers (as ModuleInfos: a constructor per library and the inputs to feed both)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch

from .core import ALL, FLOATS, Arg, OpInfo, Sample
from .ops import A, E, ones
from .samples import arg, data, unary


def F(name, samples, dtypes=FLOATS, **kw) -> OpInfo:
    return OpInfo(name, samples, dtypes, namespace="nn.functional", method=False, **kw)


def _linear_samples(dtype, rng):
    for x, w, bias in [
        ((3, 4), (2, 4), True),
        ((2, 3, 4), (5, 4), True),
        ((4,), (2, 4), True),
        ((3, 4), (2, 4), False),
        ((0, 4), (2, 4), True),
        ((1, 1), (1, 1), True),
    ]:
        b = arg((w[0],), dtype, rng) if bias else None
        yield Sample((arg(x, dtype, rng), arg(w, dtype, rng), b))
    yield Sample((arg((3, 4), dtype, rng, "slice"), arg((2, 4), dtype, rng, "T")))


def _linear_errors():
    return [
        E(ones(64, 32), ones(128, 64), names=("64x32", "64x128")),
        E(ones(2, 3, 32), ones(128, 64), names=("6x32", "64x128")),
        E(ones(3, 4), ones(2, 4), ones(3), names=()),
    ]


def _gelu_samples(dtype, rng):
    for approximate in ("none", "tanh"):
        for shape, layout in [
            ((), "contiguous"),
            ((5,), "contiguous"),
            ((3, 4), "T"),
            ((0,), "contiguous"),
        ]:
            yield Sample(
                (arg(shape, dtype, rng, layout, low=-6, high=6),), dict(approximate=approximate)
            )
    yield Sample((Arg(np.linspace(-6, 6, 25).astype(dtype)),))


def _softmax_samples(dtype, rng):
    for shape, dim in [((5,), 0), ((2, 3), -1), ((2, 3), 0), ((2, 3, 4), 1), ((0, 3), -1)]:
        yield Sample((arg(shape, dtype, rng, low=-5, high=5),), dict(dim=dim))
    yield Sample((arg((2, 3), dtype, rng),), dict(dim=-1, dtype=None))


def _layer_norm_samples(dtype, rng):
    # at least 2 normalised elements: over one element x - mean is exactly 0, and torch's
    # fused kernel returns round-off noise amplified by 1/sqrt(eps) there, which is no oracle
    for x, norm, affine in [
        ((3, 5), (5,), True),
        ((2, 3, 4), (3, 4), True),
        ((4, 2), (2,), False),
        ((1, 3), (3,), True),
        ((3, 4), (4,), "weight only"),
    ]:
        w = arg(norm, dtype, rng) if affine else None
        b = arg(norm, dtype, rng) if affine is True else None
        yield Sample((Arg(data(x, dtype, rng) * 3 + 1), norm, w, b))
    yield Sample((arg((3, 5), dtype, rng, "T"), (5,)), dict(eps=1e-3))


def _layer_norm_errors():
    return [
        E(ones(2, 3), (4,), names=("[4]", "[2, 3]")),
        E(ones(2, 3), (3,), ones(4), names=()),
    ]


def _embedding_samples(dtype, rng):
    weight = arg((7, 3), dtype, rng)
    yield Sample((Arg(np.array([1, 5, 1, 0])), weight))
    yield Sample((Arg(rng.integers(0, 7, (2, 3))), weight))
    yield Sample((Arg(np.array(4)), weight))
    # padding_idx: the padding row gets no gradient on purpose (not the derivative)
    yield Sample((Arg(np.array([2, 0, 2])), weight), dict(padding_idx=2), central=False)
    yield Sample((Arg(np.array([6, 0])), weight), dict(padding_idx=-1), central=False)
    yield Sample((Arg(np.zeros((0,), np.int64)), weight))


def _embedding_errors():
    w = ones(5, 3)
    return [
        E(Arg(np.array([1, 5])), w, names=("5",)),
        E(Arg(np.array([-1])), w, names=("-1",)),
        E(Arg(np.array([1.0], np.float32)), w, names=("float32",), desc="float indices"),
    ]


def _one_hot_samples(dtype, rng):
    yield Sample((Arg(np.array([[0, 2], [1, 1]])), 4))
    yield Sample((Arg(np.array([[0, 2], [1, 1]])),))
    yield Sample((Arg(np.array(3)), 5))
    yield Sample((Arg(np.zeros((0,), np.int64)), 3))


def _one_hot_errors():
    return [
        E(Arg(np.array([3])), 2, names=("2", "3")),
        E(Arg(np.array([-1])), 2, names=("-1",)),
        E(Arg(np.array([1.0])), 2, desc="float"),
    ]


def _dropout_samples(dtype, rng):
    x = arg((3, 4), dtype, rng)
    yield Sample((x,), dict(p=0.0))
    yield Sample((x,), dict(p=0.7, training=False))
    yield Sample((arg((), dtype, rng),), dict(p=0.0))


def _sdpa_samples(dtype, rng):
    for B, nh, T, S, hs in [(1, 1, 3, 3, 2), (2, 3, 4, 5, 3), (1, 2, 1, 4, 4)]:
        q, k, v = (
            arg((B, nh, T, hs), dtype, rng),
            arg((B, nh, S, hs), dtype, rng),
            arg((B, nh, S, hs), dtype, rng),
        )
        yield Sample((q, k, v))
        mask = data((T, S), "bool", rng)
        mask[:, 0] = True  # every query keeps a key
        yield Sample((q, k, v), dict(attn_mask=Arg(mask)))
        yield Sample((q, k, v), dict(attn_mask=arg((B, 1, T, S), dtype, rng)))
        yield Sample((q, k, v), dict(scale=0.3))
        if T <= S:
            yield Sample((q, k, v), dict(is_causal=True))
    q = arg((1, 2, 3, 2), dtype, rng)
    combined = np.array([[True, False, True], [True, True, True], [False, True, True]])
    yield Sample((q, q, q), dict(attn_mask=Arg(combined), is_causal=True), desc="mask and causal")
    dead_row = np.array([[True, True, False], [False, False, False], [True, False, True]])
    yield Sample(
        (q, arg((1, 2, 3, 2), dtype, rng), q),
        dict(attn_mask=Arg(dead_row)),
        desc="a fully masked row",
    )


def _sdpa_errors():
    q = ones(1, 1, 2, 3)
    return [E(q, ones(1, 1, 2, 4), ones(1, 1, 2, 3), desc="head size mismatch")]


FUNCTIONAL = [
    F("linear", _linear_samples, errors=_linear_errors, tol={"float32": (1e-5, 1e-5)}),
    F("relu", unary(), ALL),
    F("tanh", unary()),
    F("sigmoid", unary()),
    F(
        "gelu",
        _gelu_samples,
        errors=lambda: [E(ones(2), approximate="fast", names=("fast",))],
        grad_tol={"float32": (1e-5, 1e-5)},
    ),
    F("softmax", _softmax_samples),
    F("log_softmax", _softmax_samples),
    F(
        "layer_norm",
        _layer_norm_samples,
        errors=_layer_norm_errors,
        tol={"float32": (1e-4, 1e-4)},
        grad_tol={"float32": (1e-4, 1e-4), "float64": (1e-6, 1e-6)},
    ),
    F("embedding", _embedding_samples, errors=_embedding_errors, gradgrad=False),
    F("one_hot", _one_hot_samples, ("int64",), grad=False, errors=_one_hot_errors),
    F(
        "dropout",
        _dropout_samples,
        errors=lambda: [E(ones(3), -0.1, names=("-0.1",)), E(ones(3), 1.5, names=("1.5",))],
    ),
    # torch's CPU kernel has no double backward ("derivative for ..._backward is not
    # implemented"), so there is no oracle for the second derivative
    F(
        "scaled_dot_product_attention",
        _sdpa_samples,
        errors=_sdpa_errors,
        gradgrad=False,
        tol={"float32": (1e-5, 1e-5)},
        grad_tol={"float32": (1e-5, 1e-5), "float64": (1e-6, 1e-6)},
    ),
]


# ================================================================ losses


def _class_problem(rng, N, C, extra, dtype, ignore_frac=0.0, scale=3.0):
    x = (rng.standard_normal((N, C, *extra)) * scale).astype(dtype)
    target = rng.integers(0, C, size=(N, *extra))
    if ignore_frac:
        target[rng.random(target.shape) < ignore_frac] = -100
        target.flat[0] = 0  # keep at least one
    return Arg(x), Arg(target)


CLASS_SHAPES = [(4, 5, ()), (1, 1, ()), (3, 4, (2,)), (2, 3, (2, 2))]


def _cross_entropy_samples(dtype, rng):
    for N, C, extra in CLASS_SHAPES:
        for reduction in ("mean", "sum", "none"):
            x, t = _class_problem(rng, N, C, extra, dtype)
            yield Sample((x, t), dict(reduction=reduction))
        x, t = _class_problem(rng, N, C, extra, dtype, ignore_frac=0.3)
        w = Arg(rng.random(C).astype(dtype) + 0.5, grad=False)  # torch has no weight derivative
        yield Sample((x, t), dict(weight=w, label_smoothing=0.1))
        yield Sample((x, t), dict(weight=w, reduction="sum", label_smoothing=0.5))
        yield Sample((x, t), dict(ignore_index=0, reduction="none"))
    x = Arg(np.array([0.5, -1.0, 2.0], dtype))
    yield Sample((x, Arg(np.array(2))), desc="unbatched")
    yield Sample((x, Arg(np.array(2))), dict(label_smoothing=0.3), desc="unbatched, smoothed")
    probs = rng.random((4, 3, 2)).astype(dtype)
    probs /= probs.sum(1, keepdims=True)
    w = Arg(np.array([0.5, 1.0, 2.0], dtype), grad=False)
    for reduction in ("mean", "sum", "none"):
        yield Sample(
            (arg((4, 3, 2), dtype, rng), Arg(probs, grad=False)),
            dict(weight=w, reduction=reduction, label_smoothing=0.2),
        )
    for scale in (1e4, -1e4):
        x = Arg((np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.5]]) * scale).astype(dtype))
        yield Sample((x, Arg(np.array([1, 2]))), desc=f"huge logits {scale:g}")
    all_ignored = Arg(np.array([-100, -100]))
    # the mean is 0/0 = nan in torch too, yet every gradient is 0
    yield Sample(
        (arg((2, 3), dtype, rng), all_ignored),
        desc="all targets ignored",
        central=False,
        gradgrad=False,
    )
    yield Sample(
        (arg((2, 3), dtype, rng), all_ignored), dict(reduction="sum"), desc="all ignored, sum"
    )
    logits = arg((2 * 5, 11), dtype, rng)  # GPT training flattens (B, T, V) to (B*T, V)
    yield Sample((logits, Arg(rng.integers(0, 11, (2 * 5,)))), desc="GPT layout (B*T, V)")


def _class_errors(name):
    def errors():
        out = [
            E(ones(4, 5), Arg(np.array([0, 1, 2])), names=("4", "3"), desc="batch size"),
            E(ones(2, 5), Arg(np.array([0, 5])), names=("5",), desc="target 5 out of bounds"),
            E(ones(2, 5), Arg(np.array([0, -3])), names=("-3",), desc="target -3"),
            E(ones(2, 3), Arg(np.array([0, 1])), reduction="avg", names=("avg",)),
        ]
        if name == "cross_entropy":
            out += [
                E(ones(2, 3), Arg(np.array([0, 1])), label_smoothing=1.5, names=("1.5",)),
                E(ones(2, 3), Arg(np.ones((2, 4), "float32")), names=("[2, 3]", "[2, 4]")),
            ]
        else:
            out += [
                E(
                    ones(2, 3),
                    Arg(np.array([0.0, 1.0], np.float32)),
                    names=("float32",),
                    desc="float target",
                )
            ]
        return out

    return errors


def _nll_samples(dtype, rng):
    for N, C, extra in CLASS_SHAPES:
        for reduction in ("mean", "sum", "none"):
            x, t = _class_problem(
                rng, N, C, extra, dtype, ignore_frac=0.3 if reduction != "sum" else 0
            )
            yield Sample((x, t), dict(reduction=reduction))
        x, t = _class_problem(rng, N, C, extra, dtype)
        yield Sample((x, t), dict(weight=Arg(rng.random(C).astype(dtype) + 0.5, grad=False)))


def _mse_samples(dtype, rng):
    for shape in [(), (3,), (2, 3), (1, 4, 2), (0, 2)]:
        for reduction in ("mean", "sum", "none"):
            yield Sample(
                (arg(shape, dtype, rng), arg(shape, dtype, rng)), dict(reduction=reduction)
            )
    yield Sample((arg((3, 1), dtype, rng), arg((4,), dtype, rng)), desc="broadcast (warns)")


LOSSES = [
    F(
        "cross_entropy",
        _cross_entropy_samples,
        errors=_class_errors("cross_entropy"),
        tol={"float32": (1e-5, 1e-5)},
        grad_tol={"float32": (1e-5, 1e-5), "float64": (1e-6, 1e-7)},
    ),
    F("nll_loss", _nll_samples, errors=_class_errors("nll_loss"), tol={"float32": (1e-5, 1e-5)}),
    F(
        "mse_loss",
        _mse_samples,
        errors=lambda: [
            E(ones(3), ones(4), names=("(3)", "(4)")),
            E(ones(3), ones(3), reduction="avg", names=("avg",)),
            E(ones(2), ones(2), pos_weight=ones(2), names=("pos_weight",), requires_grad=True),
        ],
        tol={"float32": (1e-5, 1e-5)},
    ),
]


def _loss_module(cls, **fixed):
    """A loss layer as an op: ``cls(**options)(input, target)``."""

    def fn(lib):
        def call(input, target, **options):
            return getattr(lib.nn, cls)(**fixed, **options)(input, target)

        return call

    return fn


LOSS_MODULES = [
    OpInfo(
        "CrossEntropyLoss",
        _cross_entropy_samples,
        FLOATS,
        fn=_loss_module("CrossEntropyLoss"),
        errors=_class_errors("cross_entropy"),
        tol={"float32": (1e-5, 1e-5)},
        grad_tol={"float32": (1e-5, 1e-5), "float64": (1e-6, 1e-7)},
    ),
    OpInfo(
        "NLLLoss",
        _nll_samples,
        FLOATS,
        fn=_loss_module("NLLLoss"),
        errors=_class_errors("nll_loss"),
        tol={"float32": (1e-5, 1e-5)},
    ),
    OpInfo(
        "MSELoss", _mse_samples, FLOATS, fn=_loss_module("MSELoss"), tol={"float32": (1e-5, 1e-5)}
    ),
]


# ================================================================ layers


@dataclass
class ModuleInfo:
    """A layer: ``make(lib)`` builds it (the same constructor call in both libraries), and
    ``inputs(dtype, rng)`` the inputs. ``init(theirs)`` may randomise torch's parameters
    before they are copied into ours."""

    name: str
    make: Callable
    inputs: Callable[[str, np.random.Generator], Iterable[Arg]]
    dtypes: tuple = ("float32", "float64")
    init: Callable | None = None
    tol: dict = field(default_factory=dict)

    def cases(self):
        for dtype in self.dtypes:
            rng = np.random.default_rng(len(self.name) * 1000 + len(dtype))
            for x in self.inputs(dtype, rng):
                yield dtype, x


def _features(n, leads=((3,), (1,), (2, 3), ())):
    def inputs(dtype, rng):
        for lead in leads:
            yield arg((*lead, n), dtype, rng)
        yield arg((*leads[0], n), dtype, rng, "T" if leads[0] else "slice")  # non-contiguous

    return inputs


def _ids(n):
    def inputs(dtype, rng):
        for shape in [(4,), (2, 3), ()]:
            ids = rng.integers(0, n, size=shape)
            ids.flat[0] = 2  # the padding row, when there is one
            yield Arg(ids)

    return inputs


def _randomise(theirs):
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_()


MODULES = [
    ModuleInfo("Linear(4, 3)", lambda lib: lib.nn.Linear(4, 3), _features(4)),
    ModuleInfo(
        "Linear(4, 3, bias=False)", lambda lib: lib.nn.Linear(4, 3, bias=False), _features(4)
    ),
    ModuleInfo("Linear(1, 1)", lambda lib: lib.nn.Linear(1, 1), _features(1)),
    ModuleInfo("Embedding(7, 3)", lambda lib: lib.nn.Embedding(7, 3), _ids(7), dtypes=("float32",)),
    ModuleInfo(
        "Embedding(7, 3, padding_idx=2)",
        lambda lib: lib.nn.Embedding(7, 3, padding_idx=2),
        _ids(7),
        dtypes=("float32",),
    ),
    ModuleInfo(
        "LayerNorm(5)",
        lambda lib: lib.nn.LayerNorm(5),
        _features(5),
        init=_randomise,
        tol={"float32": (1e-4, 1e-4)},
    ),
    ModuleInfo(
        "LayerNorm((3, 4))",
        lambda lib: lib.nn.LayerNorm((3, 4)),
        lambda dt, rng: [arg((2, 3, 4), dt, rng)],
        init=_randomise,
        tol={"float32": (1e-4, 1e-4)},
    ),
    ModuleInfo(
        "LayerNorm(4, elementwise_affine=False)",
        lambda lib: lib.nn.LayerNorm(4, elementwise_affine=False),
        _features(4),
        tol={"float32": (1e-4, 1e-4)},
    ),
    ModuleInfo("GELU()", lambda lib: lib.nn.GELU(), _features(3)),
    ModuleInfo("GELU('tanh')", lambda lib: lib.nn.GELU("tanh"), _features(3)),
    ModuleInfo("ReLU()", lambda lib: lib.nn.ReLU(), _features(3)),
    ModuleInfo("Tanh()", lambda lib: lib.nn.Tanh(), _features(3)),
    ModuleInfo("Sigmoid()", lambda lib: lib.nn.Sigmoid(), _features(3)),
    ModuleInfo("Softmax(-1)", lambda lib: lib.nn.Softmax(-1), _features(3)),
    ModuleInfo("Softmax(1)", lambda lib: lib.nn.Softmax(1), _features(3, leads=((2, 3),))),
    ModuleInfo("Identity()", lambda lib: lib.nn.Identity(), _features(3)),
    ModuleInfo("Flatten()", lambda lib: lib.nn.Flatten(), _features(3, leads=((2, 3), (2, 1, 2)))),
    ModuleInfo(
        "Flatten(0, 1)", lambda lib: lib.nn.Flatten(0, 1), _features(3, leads=((2, 3), (4,)))
    ),
    ModuleInfo("Dropout(0.3).eval()", lambda lib: lib.nn.Dropout(0.3).eval(), _features(3)),
    ModuleInfo("Dropout(0.0)", lambda lib: lib.nn.Dropout(0.0), _features(3)),
    ModuleInfo(
        "Sequential(Linear, GELU, LayerNorm, Linear, Tanh)",
        lambda lib: lib.nn.Sequential(
            lib.nn.Linear(4, 8),
            lib.nn.GELU(),
            lib.nn.LayerNorm(8),
            lib.nn.Linear(8, 2),
            lib.nn.Tanh(),
        ),
        _features(4, leads=((5,),)),
        tol={"float32": (1e-5, 1e-5)},
    ),
    ModuleInfo(
        "ModuleList in a Sequential",
        lambda lib: lib.nn.Sequential(
            *lib.nn.ModuleList([lib.nn.Linear(3, 3), lib.nn.ReLU(), lib.nn.Linear(3, 2)])
        ),
        _features(3),
    ),
]


def _layer_call(make):
    """``fn`` for a layer built and called: ``make(lib)(*inputs)``."""
    return lambda lib: lambda *args: make(lib)(*args)


def _constructor(make):
    return lambda lib: lambda *args, **kwargs: make(lib)(*args, **kwargs)


def NO_SAMPLES(dtype, rng):
    return []


MODULE_ERRORS = [
    OpInfo(
        "Linear(64, 128)(x)",
        NO_SAMPLES,
        fn=_layer_call(lambda lib: lib.nn.Linear(64, 128)),
        errors=lambda: [
            E(ones(64, 32), names=("64x32", "64x128", "in_features=64")),
            E(ones(2, 3, 32), names=("6x32", "64x128")),
        ],
    ),
    OpInfo(
        "Embedding(5, 3)(ids)",
        NO_SAMPLES,
        fn=_layer_call(lambda lib: lib.nn.Embedding(5, 3)),
        errors=lambda: [
            E(Arg(np.array([1, 5])), names=("5", "num_embeddings=5")),
            E(Arg(np.array([-1])), names=("-1",)),
            E(Arg(np.array([1.0], np.float32)), names=("float32",)),
        ],
    ),
    OpInfo(
        "LayerNorm(4)(x)",
        NO_SAMPLES,
        fn=_layer_call(lambda lib: lib.nn.LayerNorm(4)),
        errors=lambda: [E(ones(2, 3), names=("normalized_shape=[4]", "[*, 4]", "[2, 3]"))],
    ),
    OpInfo(
        "Dropout(p)",
        NO_SAMPLES,
        fn=_constructor(lambda lib: lib.nn.Dropout),
        errors=lambda: [E(-0.1, names=("-0.1",)), E(1.5, names=("1.5",))],
    ),
    OpInfo(
        "MSELoss(reduction='avg')(x, y)",
        NO_SAMPLES,
        fn=lambda lib: lambda x, y: lib.nn.MSELoss(reduction="avg")(x, y),
        errors=lambda: [E(ones(2), ones(2), names=("avg",))],
    ),
    OpInfo(
        "CrossEntropyLoss(label_smoothing)(x, t)",
        NO_SAMPLES,
        fn=lambda lib: lambda x, t: lib.nn.CrossEntropyLoss(label_smoothing=1.5)(x, t),
        errors=lambda: [E(ones(2, 3), Arg(np.array([0, 1])), names=("1.5",))],
    ),
]

__all__ = ["FUNCTIONAL", "LOSSES", "LOSS_MODULES", "MODULES", "MODULE_ERRORS", "ModuleInfo"]


# ================================================================ convolution, pooling, batch norm,
# more activations, binary cross-entropy (issue 20): run by test_nn_conv.py and
# test_nn_layers_more.py


def _conv2d_samples(dtype, rng):
    # the small ones first: central differences take the first few under 40 elements
    for x, w, bias, kw in [
        ((1, 1, 3, 3), (1, 1, 2, 2), True, {}),
        ((1, 2, 3, 3), (2, 1, 2, 2), False, dict(groups=2, padding=1)),
        ((1, 1, 4, 4), (1, 1, 3, 3), True, dict(stride=2, padding=1)),
        ((2, 3, 6, 6), (4, 3, 3, 3), True, {}),
        ((2, 3, 7, 6), (4, 3, 3, 2), True, dict(stride=2, padding=1)),
        ((1, 4, 6, 6), (6, 2, 3, 3), True, dict(groups=2, dilation=2, padding="same")),
        ((2, 2, 5, 5), (4, 2, 2, 2), False, dict(padding="same")),  # even kernel: pads 0, 1
        ((1, 4, 5, 5), (4, 1, 3, 3), True, dict(groups=4, stride=(2, 1), padding=(1, 0))),
        ((2, 1, 8, 8), (8, 1, 3, 3), True, dict(padding="valid")),
        ((2, 3, 4, 4), (5, 3, 1, 1), True, {}),
        ((3, 5, 5), (2, 3, 3, 3), True, dict(padding=1)),  # unbatched
        ((1, 2, 9, 7), (3, 2, 3, 3), True, dict(stride=3, dilation=(2, 1), padding=(2, 1))),
    ]:
        b = arg((w[0],), dtype, rng) if bias else None
        yield Sample((arg(x, dtype, rng), arg(w, dtype, rng), b), kw)
    yield Sample(
        (arg((2, 3, 5, 5), dtype, rng, "T"), arg((4, 3, 3, 3), dtype, rng, "T")),
        desc="non-contiguous input and weight",
    )


def _conv2d_errors():
    x = ones(2, 3, 8, 8)
    return [
        E(ones(2, 3), ones(8, 3, 3, 3), names=("[2, 3]",), desc="2-d input"),
        E(x, ones(8, 1, 3, 3), names=("[8, 1, 3, 3]", "3 channels")),
        E(x, ones(8, 3, 9, 9), names=("9 x 9", "8 x 8")),
        E(x, ones(8, 3, 3, 3), stride=2, padding="same", names=("same",)),
        E(x, ones(8, 3, 3, 3), padding="foo", names=("foo",)),
        E(x, ones(8, 3, 3, 3), ones(7), names=("[7]",)),
        E(x, ones(8, 1, 3, 3), groups=2, names=("groups=2",)),
        E(x, ones(8, 3, 3, 3), stride=0, names=("stride",)),
        E(x, ones(8, 3, 3, 3), padding=-1, names=("padding",)),
        E(x, ones(8, 3, 3, 3), dilation=0, names=("dilation",)),
        E(ones(2, 3, 8, 8, dtype="float64"), ones(8, 3, 3, 3), names=("float64", "float32")),
    ]


def _max_pool2d_samples(dtype, rng):
    for x, args, kw in [
        ((1, 1, 4, 4), (2,), {}),
        ((1, 1, 5, 5), (2,), dict(ceil_mode=True)),
        ((2, 3, 6, 6), (2,), {}),
        ((1, 2, 7, 7), (3,), dict(stride=2, padding=1)),
        ((1, 2, 7, 6), ((3, 2),), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
        ((1, 1, 6, 6), (3,), dict(stride=2, padding=1, ceil_mode=True)),
        ((1, 2, 6, 5), (2,), dict(stride=1)),
        ((3, 4, 4), (2,), {}),  # unbatched
        ((2, 2, 5, 5), (3,), dict(stride=2, padding=1, return_indices=True)),
    ]:
        yield Sample((arg(x, dtype, rng), *args), kw)
    yield Sample((arg((2, 3, 6, 6), dtype, rng, "T"), 2), desc="non-contiguous input")
    ties = np.round(data((1, 2, 6, 6), dtype, rng, low=-1, high=1))  # many equal maxima
    yield Sample((Arg(ties), 3), dict(stride=1, return_indices=True), desc="ties", central=False)


def _avg_pool2d_samples(dtype, rng):
    for x, args, kw in [
        ((1, 1, 4, 4), (2,), {}),
        ((1, 1, 5, 5), (3,), dict(stride=2, padding=1, count_include_pad=False)),
        ((2, 3, 6, 6), (2,), {}),
        ((1, 2, 7, 7), (3,), dict(stride=2, padding=1)),
        ((1, 2, 7, 6), ((3, 2),), dict(stride=(2, 1), padding=(1, 0))),
        ((1, 1, 6, 6), (3,), dict(stride=2, padding=1, ceil_mode=True)),
        ((1, 1, 6, 6), (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
        ((1, 2, 5, 5), (2,), dict(ceil_mode=True)),
        ((1, 2, 6, 6), (2,), dict(divisor_override=3)),
        ((3, 4, 4), (2,), {}),  # unbatched
    ]:
        yield Sample((arg(x, dtype, rng), *args), kw)
    yield Sample((arg((2, 3, 6, 6), dtype, rng, "T"), 2), desc="non-contiguous input")


def _pool_errors(name):
    def errors():
        x = ones(2, 3, 8, 8)
        return [
            E(x, 3, padding=2, names=("pad=2", "kernel_size=3")),
            E(x, 9, names=("0x0",)),
            E(x, 2, stride=0, names=("stride",)),
            E(ones(3, 3), 2, desc="2-d input"),
        ]

    return errors


def _batch_norm_samples(dtype, rng):
    def stats(C):
        return (
            Arg(data((C,), dtype, rng), grad=False),
            Arg(data((C,), dtype, rng, low=0.5, high=2.0), grad=False),
        )

    for x, training, affine, kw in [
        ((4, 3, 2, 2), True, True, {}),
        ((4, 3, 2, 2), True, "weight only", dict(momentum=0.3, eps=1e-3)),
        ((6, 3), True, True, {}),
        ((4, 3, 5), True, False, {}),
        ((4, 3, 2, 2), False, True, {}),
        ((5, 2, 3, 3), False, False, dict(eps=1e-3)),
    ]:
        C = x[1]
        w = arg((C,), dtype, rng) if affine else None
        b = arg((C,), dtype, rng) if affine is True else None
        mean, var = stats(C)
        yield Sample((Arg(data(x, dtype, rng) * 2 + 1), mean, var, w, b, training), kw)
    x = arg((4, 3, 2, 2), dtype, rng)
    yield Sample((x, None, None, arg((3,), dtype, rng), None, True), desc="no running stats")


def _batch_norm_errors():
    return [
        E(ones(2, 3), ones(4), ones(4), names=("3 elements", "4")),
        E(ones(1, 3, 1, 1), ones(3), ones(3), None, None, True, names=("[1, 3, 1, 1]",)),
    ]


CONV_FUNCTIONAL = [
    F(
        "conv2d",
        _conv2d_samples,
        errors=_conv2d_errors,
        tol={"float32": (1e-5, 1e-5)},
        grad_tol={"float32": (1e-4, 1e-5), "float64": (1e-7, 1e-7)},
    ),
    F("max_pool2d", _max_pool2d_samples, errors=_pool_errors("max")),
    F("avg_pool2d", _avg_pool2d_samples, errors=_pool_errors("avg")),
]

NORM_FUNCTIONAL = [
    F(
        "batch_norm",
        _batch_norm_samples,
        errors=_batch_norm_errors,
        tol={"float32": (1e-5, 1e-5)},
        grad_tol={"float32": (1e-4, 1e-4), "float64": (1e-6, 1e-6)},
    ),
]


def _activation_samples(*options):
    """Random inputs, then exactly 0 (the kink, where central differences mean nothing) and
    values far out, for each set of keyword options."""

    def samples(dtype, rng):
        for kw in options or ({},):
            yield from unary(low=-5, high=5, **kw)(dtype, rng)
            grid = np.array([-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0], dtype)
            yield Sample((Arg(grid),), kw, desc=f"0 and far out {kw}", central=False)

    return samples


ACTIVATION_FUNCTIONAL = [
    F("silu", _activation_samples()),
    F("leaky_relu", _activation_samples({}, dict(negative_slope=0.2))),
    F("elu", _activation_samples({}, dict(alpha=0.5))),
    F("softplus", _activation_samples({}, dict(beta=2.0, threshold=5.0))),
]


def _bce_samples(dtype, rng):
    for shape in [(5,), (4, 3), (2, 3, 2)]:
        for reduction in ("mean", "sum", "none"):
            x = Arg(data(shape, dtype, rng, low=0.05, high=0.95))
            y = Arg(data(shape, dtype, rng, low=0.0, high=1.0))  # soft targets
            yield Sample((x, y), dict(reduction=reduction))
    x, y = Arg(data((4, 3), dtype, rng, 0.05, 0.95)), Arg(data((4, 3), dtype, rng, 0.0, 1.0))
    w = Arg(data((3,), dtype, rng, low=0.5, high=2.0), grad=False)  # torch: no derivative
    yield Sample((x, y), dict(weight=w), desc="weight broadcast over rows")
    edges = Arg(np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype))
    labels = Arg(np.array([0.0, 1.0, 1.0, 0.0, 1.0], dtype))
    yield Sample(
        (edges, labels),
        dict(reduction="sum"),
        desc="x = 0 and 1: logs clamped at -100",
        central=False,
        gradgrad=False,
    )


def _bce_logits_samples(dtype, rng):
    for shape in [(5,), (4, 3), (2, 3, 2)]:
        for reduction in ("mean", "sum", "none"):
            x = Arg(data(shape, dtype, rng) * 2)
            y = Arg(data(shape, dtype, rng, low=0.0, high=1.0))
            yield Sample((x, y), dict(reduction=reduction))
    x, y = Arg(data((4, 3), dtype, rng) * 2), Arg(data((4, 3), dtype, rng, 0.0, 1.0))
    w = Arg(data((3,), dtype, rng, low=0.5, high=2.0), grad=False)
    pw = Arg(data((3,), dtype, rng, low=0.5, high=3.0), grad=False)
    yield Sample((x, y), dict(weight=w), desc="weight")
    yield Sample((x, y), dict(pos_weight=pw), desc="pos_weight")
    yield Sample((x, y), dict(weight=w, pos_weight=pw, reduction="sum"), desc="both")
    huge = Arg(np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0], dtype))
    labels = Arg(np.array([0.0, 1.0, 1.0, 0.0, 1.0], dtype))
    yield Sample((huge, labels), dict(reduction="none"), desc="logits of +-1000")


BCE_LOSSES = [
    F(
        "binary_cross_entropy",
        _bce_samples,
        errors=lambda: [
            E(A([0.5, 1.5]), A([0.0, 1.0]), names=("1.5",)),
            E(ones(3), ones(3, 1), names=("[3]", "[3, 1]")),
            E(A([0.5, 0.5]), A([0.0, 1.0]), reduction="avg", names=("avg",)),
        ],
        tol={"float32": (1e-5, 1e-5)},
    ),
    F(
        "binary_cross_entropy_with_logits",
        _bce_logits_samples,
        errors=lambda: [
            E(ones(3), ones(3, 1), names=("[3]", "[3, 1]")),
            E(ones(3), ones(3), reduction="avg", names=("avg",)),
            E(ones(2), ones(2), pos_weight=ones(2), names=("pos_weight",), requires_grad=True),
        ],
        tol={"float32": (1e-5, 1e-5)},
    ),
]

BCE_LOSS_MODULES = [
    OpInfo(
        "BCELoss", _bce_samples, FLOATS, fn=_loss_module("BCELoss"), tol={"float32": (1e-5, 1e-5)}
    ),
    OpInfo(
        "BCEWithLogitsLoss",
        _bce_logits_samples,
        FLOATS,
        fn=_loss_module("BCEWithLogitsLoss"),
        tol={"float32": (1e-5, 1e-5)},
    ),
]


def _images(shape, leads=((2,), (1,), ())):
    def inputs(dtype, rng):
        for lead in leads:
            yield arg((*lead, *shape), dtype, rng)
        yield arg((*leads[0], *shape), dtype, rng, "T")  # non-contiguous

    return inputs


CONV_MODULES = [
    ModuleInfo(
        "Conv2d(1, 8, 3, padding=1)",
        lambda lib: lib.nn.Conv2d(1, 8, 3, padding=1),
        _images((1, 8, 8)),
        tol={"float32": (1e-5, 1e-5)},
    ),
    ModuleInfo(
        "Conv2d(4, 6, (3, 2), stride=2, dilation=(1, 2), groups=2, bias=False)",
        lambda lib: lib.nn.Conv2d(4, 6, (3, 2), stride=2, dilation=(1, 2), groups=2, bias=False),
        _images((4, 7, 7)),
        tol={"float32": (1e-5, 1e-5)},
    ),
    ModuleInfo(
        "Conv2d(3, 4, 4, padding='same')",
        lambda lib: lib.nn.Conv2d(3, 4, 4, padding="same"),
        _images((3, 5, 6)),
        tol={"float32": (1e-5, 1e-5)},
    ),
    ModuleInfo("MaxPool2d(2)", lambda lib: lib.nn.MaxPool2d(2), _images((3, 6, 6))),
    ModuleInfo(
        "MaxPool2d(3, stride=2, padding=1, ceil_mode=True)",
        lambda lib: lib.nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        _images((2, 6, 6)),
    ),
    ModuleInfo("AvgPool2d(2)", lambda lib: lib.nn.AvgPool2d(2), _images((3, 6, 6))),
    ModuleInfo(
        "AvgPool2d(3, 2, 1, count_include_pad=False)",
        lambda lib: lib.nn.AvgPool2d(3, 2, 1, count_include_pad=False),
        _images((2, 7, 7)),
    ),
    ModuleInfo(
        "a small CNN: Conv2d, BatchNorm2d, ReLU, MaxPool2d, Conv2d, SiLU, Flatten, Linear",
        lambda lib: lib.nn.Sequential(
            lib.nn.Conv2d(1, 8, 3, padding=1),
            lib.nn.BatchNorm2d(8),
            lib.nn.ReLU(),
            lib.nn.MaxPool2d(2),
            lib.nn.Conv2d(8, 16, 3, padding=1),
            lib.nn.SiLU(),
            lib.nn.AvgPool2d(2),
            lib.nn.Flatten(),
            lib.nn.Linear(16 * 2 * 2, 10),
        ),
        _images((1, 8, 8), leads=((4,),)),
        tol={"float32": (1e-4, 1e-5)},
    ),
]

LAYER_MODULES = [
    ModuleInfo(
        "BatchNorm2d(3)",
        lambda lib: lib.nn.BatchNorm2d(3),
        _images((3, 4, 4), leads=((4,), (2,))),
        init=_randomise,
        tol={"float32": (1e-4, 1e-4)},
    ),
    ModuleInfo(
        "BatchNorm2d(3, affine=False, track_running_stats=False)",
        lambda lib: lib.nn.BatchNorm2d(3, affine=False, track_running_stats=False),
        _images((3, 4, 4), leads=((4,),)),
        tol={"float32": (1e-4, 1e-4)},
    ),
    ModuleInfo(
        "BatchNorm1d(5)",
        lambda lib: lib.nn.BatchNorm1d(5),
        _features(5, leads=((6,),)),
        init=_randomise,
        tol={"float32": (1e-4, 1e-4)},
    ),
    ModuleInfo("SiLU()", lambda lib: lib.nn.SiLU(), _features(3)),
    ModuleInfo("LeakyReLU(0.1)", lambda lib: lib.nn.LeakyReLU(0.1), _features(3)),
    ModuleInfo("ELU(0.7)", lambda lib: lib.nn.ELU(0.7), _features(3)),
    ModuleInfo("Softplus(2.0, 3.0)", lambda lib: lib.nn.Softplus(2.0, 3.0), _features(3)),
]

LAYER_MODULE_ERRORS = [
    OpInfo(
        "Conv2d(...) constructor",
        NO_SAMPLES,
        fn=_constructor(lambda lib: lib.nn.Conv2d),
        errors=lambda: [
            E(3, 8, 3, groups=2, names=("in_channels=3", "groups=2")),
            E(4, 9, 3, groups=2, names=("out_channels=9",)),
            E(4, 8, 3, groups=0, names=("groups=0",)),
            E(4, 8, 3, padding="same", stride=2, names=("same",)),
            E(4, 8, 3, padding="bad", names=("bad",)),
            E(4, 8, 3, padding_mode="bad", names=("bad",)),
        ],
    ),
    OpInfo(
        "Conv2d(3, 8, 3)(x)",
        NO_SAMPLES,
        fn=_layer_call(lambda lib: lib.nn.Conv2d(3, 8, 3)),
        errors=lambda: [E(ones(2, 4, 8, 8), names=("4 channels", "[2, 4, 8, 8]"))],
    ),
    OpInfo(
        "BatchNorm2d(3)(x)",
        NO_SAMPLES,
        fn=_layer_call(lambda lib: lib.nn.BatchNorm2d(3)),
        errors=lambda: [
            E(ones(2, 3, 4), names=("3D",)),
            E(ones(1, 3, 1, 1), names=("[1, 3, 1, 1]",)),
            E(ones(2, 4, 2, 2), names=("4 elements", "3")),
        ],
    ),
    OpInfo(
        "BatchNorm1d(3)(x)",
        NO_SAMPLES,
        fn=_layer_call(lambda lib: lib.nn.BatchNorm1d(3)),
        errors=lambda: [E(ones(2, 3, 4, 4), names=("4D",))],
    ),
]

__all__ += [
    "CONV_FUNCTIONAL",
    "NORM_FUNCTIONAL",
    "ACTIVATION_FUNCTIONAL",
    "BCE_LOSSES",
    "BCE_LOSS_MODULES",
    "CONV_MODULES",
    "LAYER_MODULES",
    "LAYER_MODULE_ERRORS",
]
