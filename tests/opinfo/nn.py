"""The registry of ``nn``: the functions of ``nn.functional`` (as OpInfos), the losses, and the
layers (as ModuleInfos: a constructor per library and the inputs to feed both)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch

from .core import ALL, FLOATS, Arg, OpInfo, Sample
from .ops import E, ones
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


def NO_SAMPLES(dtype, rng):  # noqa: N802 - only error inputs
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
