r"""Checkers for chapter 6's exercises (training end to end).

1. :func:`check_train_step`: one training step with gradient accumulation over micro-batches.
2. :func:`check_accuracy`: the fraction of correct predictions from logits.
3. :func:`check_checkpoint`: save and restore model, optimizer, scheduler and data order, so
   that training resumes exactly.
4. :func:`check_clip_grad_norm`: gradient clipping by the global norm, in place.
5. :func:`check_milestone_digits` (milestone 2): the learner's optimizer, samplers, collate and
   train step train the digits network to 95% test accuracy, run and measured by the checker.

Each compares your code with torch (or with an uninterrupted run) and prints one ``✓`` line or
raises :class:`~aigc_course.exercises.ExerciseError` naming the likely mistake. See chapter 6.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .. import nn
from .._creation import from_torch, tensor
from .._tensor import Tensor
from ..optim import SGD, Adam
from ._checking import ExerciseError, passed, run_learner, seeded

__all__ = [
    "check_accuracy",
    "check_checkpoint",
    "check_clip_grad_norm",
    "check_milestone_digits",
    "check_train_step",
]


def _torch():
    import torch

    return torch


def _as_float(value, what: str) -> float:
    if isinstance(value, Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, int | float | np.floating | np.integer):
        return float(value)
    raise ExerciseError(f"{what} returned {type(value).__name__}; expected a number")


# ------------------------------------------------------------------ 1. accuracy


def check_accuracy(fn) -> None:
    """``fn(logits (N, C), targets (N,)) -> float``: the fraction of rows whose largest logit
    is at the target class."""
    rng = np.random.default_rng(seeded(0))
    cases = [(6, 6), (8, 3), (5, 10), (1, 4)]  # (N, C); the square case catches the wrong dim
    for n, c in cases:
        logits = rng.standard_normal((n, c)).astype(np.float32)
        targets = rng.integers(0, c, n)
        targets[: n // 2] = logits[: n // 2].argmax(1)  # about half right
        want = float((logits.argmax(1) == targets).mean())
        what = f"your accuracy on logits of shape {(n, c)}"
        got = _as_float(
            run_learner(
                fn,
                tensor(logits),
                tensor(targets),
                what="your accuracy",
                broadcast_hint="argmax over dim=1 gives one class per row; dim=0 one per column",
            ),
            what,
        )
        if abs(got - want) > 1e-6:
            hint = ""
            if abs(got - want * n) < 1e-6 and n > 1:
                hint = "you returned the number of correct rows; divide by N for a fraction"
            elif n == c and abs(got - float((logits.argmax(0) == targets).mean())) < 1e-6:
                hint = "argmax over dim=1 (the classes of each row), not dim=0"
            message = f"{what} is {got:.6g}; expected {want:.6g}"
            raise ExerciseError(message + (f"\nHint: {hint}" if hint else ""))
    passed("your accuracy matches (logits.argmax(1) == targets).float().mean() on 4 batches")


# ------------------------------------------------------------------ 2. train step


class _TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(4, 8)
        self.linear2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.linear2(self.linear1(x).clamp(min=0))


def _tiny_pair(seed: int = 0):
    """The same small network in torch and in aigc_course."""
    torch = _torch()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeded(seed))
        ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    ours = _TinyNet()
    ours.linear1.weight.data = from_torch(ref[0].weight.detach().clone())
    ours.linear1.bias.data = from_torch(ref[0].bias.detach().clone())
    ours.linear2.weight.data = from_torch(ref[2].weight.detach().clone())
    ours.linear2.bias.data = from_torch(ref[2].bias.detach().clone())
    return ours, ref


def _batches(n: int = 5, seed: int = 1):
    rng = np.random.default_rng(seeded(seed))
    return [
        (rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 3, 6)) for _ in range(n)
    ]


#: micro_batches of each of the checker's 5 calls (batches of 6 samples)
MICRO_BATCHES = (1, 2, 3, 2, 6)


def _reference_steps(kind: str, batches, micro=MICRO_BATCHES):
    """torch, in float64: the losses and final parameters of 5 train steps done right
    (``kind="right"``) or with one known mistake."""
    torch = _torch()
    F = torch.nn.functional
    _, ref = _tiny_pair()
    ref = ref.double()
    opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for (x, y), k in zip(batches, micro):
        x, y = torch.tensor(x, dtype=torch.float64), torch.tensor(y)
        if kind != "no_zero_grad":
            opt.zero_grad()
        total = 0.0
        for xc, yc in zip(x.chunk(k), y.chunk(k)):
            if kind == "zero_grad_inside":
                opt.zero_grad()
            out = ref(xc)
            if kind == "mse_onehot":
                loss = F.mse_loss(out, F.one_hot(yc, 3).double())
            elif kind == "mse_softmax_onehot":
                loss = F.mse_loss(out.softmax(-1), F.one_hot(yc, 3).double())
            else:
                loss = F.cross_entropy(out, yc)
            share = 1.0 if kind == "unscaled" else len(xc) / len(x)
            (loss * share).backward()
            total += loss.item() * len(xc) / len(x)
            if kind == "step_inside":
                opt.step()
        if kind != "step_inside":
            opt.step()
        if kind == "step_twice":
            opt.step()
        losses.append(total)
    return losses, [p.detach().numpy() for p in ref.parameters()]


HINT_STEP_TWICE = (
    "optimizer.step() runs more than once per train_step: each call must make exactly one "
    "update, after the gradients of all micro-batches have been added up (one step() after "
    "the loop; a second call moves the weights again with the same gradients)"
)
TRAIN_STEP_MISTAKES = [
    (
        "mse_onehot",
        "your parameters follow a mean squared error between the logits and one-hot targets. "
        "A classifier's loss is the cross-entropy, F.cross_entropy(logits, y), with integer "
        "targets: MSE on one-hot vectors gives other (and much weaker) gradients",
    ),
    (
        "mse_softmax_onehot",
        "your parameters follow a mean squared error between softmax probabilities and one-hot "
        "targets; use the cross-entropy, F.cross_entropy(logits, y), with integer targets",
    ),
    ("step_inside", HINT_STEP_TWICE),
    ("step_twice", HINT_STEP_TWICE),
    (
        "no_zero_grad",
        "your parameters follow a loop without optimizer.zero_grad(): backward() adds to "
        ".grad, so each step used the sum of all gradients so far. Call optimizer.zero_grad() "
        "once at the start of train_step",
    ),
    (
        "zero_grad_inside",
        "only the last micro-batch's gradient reached the step: optimizer.zero_grad() inside "
        "the loop wipes what the earlier micro-batches added. Zero once, before the loop",
    ),
    (
        "unscaled",
        "your gradients are micro_batches times too large: the sum of the micro-batches' mean "
        "losses is not the batch's mean loss. Scale each micro-batch's loss by its share of "
        "the batch (len(chunk) / len(x), or 1 / micro_batches) before backward",
    ),
]


def check_train_step(fn) -> None:
    """``fn(model, optimizer, x, y, micro_batches=1) -> float``: one optimizer step on the mean
    cross-entropy of the whole batch, its gradient accumulated over ``micro_batches`` chunks of
    ``x`` and ``y`` (zero_grad once, forward and backward per chunk with the chunk's loss
    scaled by its share of the batch, one step); returns the batch's mean loss as a number.

    Compared with torch's one-step-per-batch loop run in float64, for 5 calls with
    ``micro_batches`` = 1, 2, 3, 2, 6 (batches of 6)."""
    ours, _ = _tiny_pair()
    batches = _batches()
    opt = SGD(ours.parameters(), lr=0.1, momentum=0.9)
    start = [p.detach().numpy().copy() for p in ours.parameters()]
    losses = []
    for (x, y), k in zip(batches, MICRO_BATCHES):
        what = f"your train_step(model, optimizer, x, y, micro_batches={k})"
        out = run_learner(fn, ours, opt, tensor(x), tensor(y), k, what=what)
        if isinstance(out, Tensor):
            raise ExerciseError(
                f"{what} returned a Tensor; return a Python number such as loss.item() "
                "(keeping the tensor would also keep its whole graph alive)"
            )
        losses.append(_as_float(out, what))
    want_losses, want_params = _reference_steps("right", batches)
    params = [p.detach().numpy() for p in ours.parameters()]
    if all(np.array_equal(a, b) for a, b in zip(params, start)):
        raise ExerciseError(
            "after 5 calls of your train_step the parameters have not moved: call "
            "optimizer.step() after the backward passes, and optimizer.zero_grad() before "
            "them (after them, it wipes the gradients step() needs)"
        )

    def close(xs, ys):  # float32 arithmetic against the float64 reference
        return all(np.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in zip(xs, ys))

    if not close(params, want_params):
        message = (
            f"after 5 calls (micro_batches = {', '.join(map(str, MICRO_BATCHES))}) your "
            "parameters differ from one SGD step per call on the whole batch's mean "
            "cross-entropy"
        )
        for kind, hint in TRAIN_STEP_MISTAKES:
            if close(params, _reference_steps(kind, batches)[1]):
                message += f"\nHint: {hint}"
                break
        raise ExerciseError(message)
    if not np.allclose(losses, want_losses, rtol=1e-4, atol=1e-5):
        hint = "return the batch's mean loss, computed before the step"
        chunk_sums = [
            want * k for want, k in zip(want_losses, MICRO_BATCHES)
        ]  # the sum of k chunk means, when the chunks have equal sizes
        if np.allclose(losses, chunk_sums, rtol=1e-4, atol=1e-5):
            hint = (
                "you returned the sum of the micro-batches' mean losses; return the batch's "
                "mean: their average (weighted by the chunks' sizes)"
            )
        raise ExerciseError(
            f"your train_step returned the losses {np.round(losses, 4).tolist()}; torch's loop "
            f"gives {np.round(want_losses, 4).tolist()}\nHint: {hint}"
        )
    passed(
        "your train_step matches one torch step per batch (5 calls, micro_batches = "
        f"{', '.join(map(str, MICRO_BATCHES))}): losses and parameters"
    )


# ------------------------------------------------------------------ 3. clip_grad_norm


def check_clip_grad_norm(fn) -> None:
    """``fn(parameters, max_norm) -> total norm``: scale every ``.grad`` in place by
    ``min(1, max_norm / (total_norm + 1e-6))``, where the norm is over all gradients together,
    like ``torch.nn.utils.clip_grad_norm_``."""
    torch = _torch()
    rng = np.random.default_rng(seeded(0))
    shapes = [(3, 4), (4,), (2, 2)]
    for max_norm, scale in [(1.0, 3.0), (100.0, 1.0), (0.5, 0.1)]:
        grads = [(scale * rng.standard_normal(s)).astype(np.float32) for s in shapes]
        ours = [tensor(np.zeros(s, np.float32), requires_grad=True) for s in shapes]
        theirs = [torch.zeros(s, requires_grad=True) for s in shapes]
        for p, q, g in zip(ours, theirs, grads):
            p.grad, q.grad = tensor(g.copy()), torch.tensor(g)
        what = f"your clip_grad_norm(max_norm={max_norm})"
        total = _as_float(run_learner(fn, ours, max_norm, what=what), what)
        want = torch.nn.utils.clip_grad_norm_(theirs, max_norm).item()
        norms = [float(np.linalg.norm(g)) for g in grads]
        if abs(total - want) > 1e-5 * max(1.0, want):
            hint = ""
            if abs(total - min(want, max_norm)) < 1e-4:
                hint = "\nHint: return the total norm from *before* clipping, as torch does"
            elif any(abs(total - n) < 1e-5 for n in norms) or abs(total - max(norms)) < 1e-5:
                hint = "\nHint: the total norm is over all gradients together: sqrt(sum of squares)"
            raise ExerciseError(
                f"{what} returned {total:.6g}; torch's total norm is {want:.6g}{hint}"
            )
        got = [p.grad.numpy() for p in ours]
        expected = [q.grad.numpy() for q in theirs]
        if all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(got, expected)):
            continue
        if all(np.array_equal(a, g) for a, g in zip(got, grads)):
            hint = (
                "the gradients were not changed: scale them in place, "
                "e.g. p.grad.mul_(coef), so that the optimizer sees the clipped values"
            )
        elif want < max_norm:
            hint = (
                "the total norm is below max_norm, so the gradients must stay as they are: "
                "coef = min(1, max_norm / (total_norm + 1e-6))"
            )
        else:
            per_param = [g * min(1.0, max_norm / (n + 1e-6)) for g, n in zip(grads, norms)]
            if all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(got, per_param)):
                hint = (
                    "you clipped each parameter by its own norm; clip_grad_norm_ scales all of "
                    "them by one factor, from the norm of all gradients together, so the "
                    "direction is kept"
                )
            else:
                hint = "scale every gradient by max_norm / (total_norm + 1e-6)"
        raise ExerciseError(
            f"{what}: the gradients differ from torch's after clipping\nHint: {hint}"
        )
    passed("your clip_grad_norm matches torch.nn.utils.clip_grad_norm_ (clipped and not)")


# ------------------------------------------------------------------ 4. checkpoint


class _SeededShuffle:
    """Chapter 6's sampler: a new permutation of range(n) per pass, from ``self.rng``."""

    def __init__(self, n: int, seed: int):
        self.n, self.rng = n, np.random.default_rng(seed)

    def __iter__(self):
        return iter(self.rng.permutation(self.n).tolist())

    def __len__(self) -> int:
        return self.n


CKPT_SAMPLES, CKPT_BATCH, CKPT_EPOCHS, CKPT_AT = 24, 6, 4, 2


def _ckpt_data():
    rng = np.random.default_rng(seeded(3))
    X = rng.standard_normal((CKPT_SAMPLES, 4)).astype(np.float32)
    return X, rng.integers(0, 3, CKPT_SAMPLES)


def _ckpt_run(seed: int):
    """A fresh model (weights from ``seed``), Adam, a StepLR and a seeded sampler."""
    from ..optim.lr_scheduler import StepLR

    model, _ = _tiny_pair(seed)
    opt = Adam(model.parameters(), lr=0.05)
    return model, opt, StepLR(opt, step_size=3, gamma=0.5), _SeededShuffle(CKPT_SAMPLES, 10 + seed)


def _ckpt_epochs(model, opt, scheduler, sampler, epochs):
    X, Y = _ckpt_data()
    for _ in epochs:
        order = list(sampler)
        for k in range(0, len(order), CKPT_BATCH):
            index = order[k : k + CKPT_BATCH]
            loss = nn.functional.cross_entropy(model(tensor(X[index])), tensor(Y[index]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            scheduler.step()  # once per batch, as GPT training does
    return [p.detach().numpy().copy() for p in model.parameters()]


def check_checkpoint(save, load) -> None:
    """``save(path, model, optimizer, scheduler, sampler, epoch)`` writes one checkpoint file;
    ``load(path, model, optimizer, scheduler, sampler) -> epoch`` restores it into *freshly
    built* objects and returns the epoch to continue from. ``sampler`` is chapter 6's
    ``SeededShuffle``, whose numpy generator is ``sampler.rng``.

    The checker trains 2 epochs (Adam, a StepLR stepped every batch, a shuffled order), saves,
    and trains 2 more; then builds everything again from other seeds, loads, trains the
    remaining epochs, and requires the same weights bit for bit."""
    import copy

    model, opt, scheduler, sampler = _ckpt_run(0)
    _ckpt_epochs(model, opt, scheduler, sampler, range(CKPT_AT))
    saved_rng = copy.deepcopy(sampler.rng.bit_generator.state)
    saved_sched = scheduler.last_epoch
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.pkl"
        run_learner(
            save,
            path,
            model,
            opt,
            scheduler,
            sampler,
            CKPT_AT,
            what="your save_checkpoint",
        )
        if not path.exists():
            raise ExerciseError(
                f"your save_checkpoint did not write a file at the given path ({path.name})"
            )
        uninterrupted = _ckpt_epochs(model, opt, scheduler, sampler, range(CKPT_AT, CKPT_EPOCHS))
        fresh = _ckpt_run(1)  # other weights, an optimizer without state, another order
        epoch = run_learner(load, path, *fresh, what="your load_checkpoint")
    f_model, f_opt, f_scheduler, f_sampler = fresh
    if not isinstance(epoch, int | np.integer) or epoch != CKPT_AT:
        raise ExerciseError(
            f"your load_checkpoint returned {epoch!r}; expected the epoch that was saved "
            f"({CKPT_AT}), so that the loop continues with the next one: save the epoch in the "
            "checkpoint and return it"
        )
    steps = [s.get("step") for s in f_opt.state_dict()["state"].values()]
    if not steps:
        raise ExerciseError(
            "the optimizer was not restored: Adam's step count and its averages m and v start "
            "again from 0, so the steps after resuming differ. Save optimizer.state_dict() and "
            "restore it with optimizer.load_state_dict()"
        )
    if f_scheduler.last_epoch != saved_sched:
        raise ExerciseError(
            f"the scheduler was not restored: it counts from {f_scheduler.last_epoch} instead of "
            f"{saved_sched}, so the learning rate after resuming follows another schedule. Save "
            "scheduler.state_dict() and restore it with scheduler.load_state_dict()"
        )
    if f_sampler.rng.bit_generator.state != saved_rng:
        raise ExerciseError(
            "the data order was not restored: the fresh sampler's generator is not where the "
            "saved one was, so the epochs after resuming see other permutations. Save "
            "sampler.rng.bit_generator.state (a dict) and assign it back on loading"
        )
    resumed = _ckpt_epochs(f_model, f_opt, f_scheduler, f_sampler, range(epoch, CKPT_EPOCHS))
    if all(np.array_equal(a, b) for a, b in zip(resumed, uninterrupted)):
        passed(
            "training resumed from your checkpoint continues exactly: model, Adam's state, the "
            "schedule and the data order (2 more epochs, the same weights bit for bit)"
        )
        return
    if not all(np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(resumed, uninterrupted)):
        hint = "is the model's state_dict saved after the last step, and loaded into the model?"
    else:
        hint = "close but not identical: is anything rounded or converted on the way (dtype)?"
    raise ExerciseError(
        "training resumed from your checkpoint does not continue like the uninterrupted run: "
        + hint
    )


# ------------------------------------------------------------------ milestone 2

MILESTONE_EPOCHS, MILESTONE_BATCH, MILESTONE_MICRO, MILESTONE_LR = 8, 64, 2, 1e-2
MILESTONE_TARGET = 0.95


def _digits_split():
    """Chapter 6's split of scikit-learn's digits: pixels in [0, 1] (float32), labels."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


class _DigitsNet(nn.Module):
    """The article's TwoLayerNet, 64-128-10."""

    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(64, 128)
        self.linear2 = nn.Linear(128, 10)

    def forward(self, x):
        return self.linear2(self.linear1(x).clamp(min=0))


def _digits_net(seed: int = 0) -> _DigitsNet:
    """Our network with torch's default initialisation from ``seed`` (the learner's global
    random generators are left alone)."""
    torch = _torch()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeded(seed))
        ref = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.Linear(128, 10))
    net = _DigitsNet()
    net.load_state_dict(
        {
            "linear1.weight": ref[0].weight.detach(),
            "linear1.bias": ref[0].bias.detach(),
            "linear2.weight": ref[1].weight.detach(),
            "linear2.bias": ref[1].bias.detach(),
        }
    )
    return net


def _missing_pieces(optimizer_cls, sampler_cls, batch_sampler_cls, collate_fn, train_step):
    """Each piece, tried once on a tiny input: the ones that still raise NotImplementedError."""
    from .. import Generator

    name = lambda obj: getattr(obj, "__name__", type(obj).__name__)  # noqa: E731
    probe = tensor(np.ones(3, np.float32), requires_grad=True)
    probe.grad = tensor(np.ones(3, np.float32))
    tiny, _ = _tiny_pair()
    x, y = _batches(1)[0]
    trials = [
        (
            f"your optimizer {name(optimizer_cls)}.step (chapter 4)",
            lambda: optimizer_cls([probe], lr=0.01).step(),
        ),
        (
            f"your sampler {name(sampler_cls)} (chapter 5)",
            lambda: list(sampler_cls(range(4), generator=Generator().manual_seed(0))),
        ),
        (
            f"your batch sampler {name(batch_sampler_cls)} (chapter 5)",
            lambda: list(batch_sampler_cls([0, 1, 2], 2, False)),
        ),
        (
            f"your collate function {name(collate_fn)} (chapter 5)",
            lambda: collate_fn([(np.zeros(64, np.float32), 1), (np.ones(64, np.float32), 2)]),
        ),
        (
            f"your {name(train_step)} (exercise 1 of this chapter)",
            lambda: train_step(tiny, SGD(tiny.parameters(), lr=0.01), tensor(x), tensor(y), 2),
        ),
    ]
    missing = []
    for what, trial in trials:
        try:
            trial()
        except NotImplementedError:
            missing.append(what)
        except Exception:  # noqa: BLE001  (a real error: the training run reports it)
            pass
    return missing


def check_milestone_digits(optimizer_cls, sampler_cls, batch_sampler_cls, collate_fn, train_step):
    """Milestone 2: your pieces train chapter 6's network on the digits, and the checker
    measures the test accuracy, which must reach 95%.

    - ``optimizer_cls(params, lr)``: your Adam (chapter 4), used with ``lr=0.01``;
    - ``sampler_cls(data_source, generator)``: your RandomSampler (chapter 5);
    - ``batch_sampler_cls(sampler, batch_size, drop_last)``: your BatchSampler (chapter 5),
      batches of 64 without the short one;
    - ``collate_fn(samples)``: your collate (chapter 5), on samples ``(pixels, label)`` where
      the pixels are a float32 numpy array of shape (64,) and the label a Python int; it must
      give ``[x (B, 64) float32, y (B,) int64]``;
    - ``train_step(model, optimizer, x, y, micro_batches)``: yours (chapter 6), with 2
      micro-batches per batch.

    The checker, not the notebook, builds the network (64-128-10, torch's initialisation),
    runs 8 epochs over the 1,347 training digits, and measures the accuracy on the 450 test
    digits: a verdict that only your pieces can earn.
    """
    import time

    from .. import Generator, no_grad

    missing = _missing_pieces(optimizer_cls, sampler_cls, batch_sampler_cls, collate_fn, train_step)
    if missing:
        raise ExerciseError(
            "milestone 2 needs every piece, and "
            + "; ".join(f"{what} is not implemented yet" for what in missing)
            + ". Paste your solutions from chapters 4 and 5 into the cell above, and write "
            "this chapter's train_step"
        )
    X_train, X_test, y_train, y_test = _digits_split()
    samples = [(X_train[i], int(y_train[i])) for i in range(len(X_train))]
    model = _digits_net(0)
    start = time.perf_counter()
    optimizer = run_learner(
        optimizer_cls,
        model.parameters(),
        MILESTONE_LR,
        what=f"{optimizer_cls.__name__}(params, lr)",
    )
    sampler = run_learner(
        sampler_cls, range(len(samples)), Generator().manual_seed(0), what="your sampler"
    )
    batches = run_learner(
        batch_sampler_cls, sampler, MILESTONE_BATCH, True, what="your batch sampler"
    )
    epoch_losses = []
    for epoch in range(MILESTONE_EPOCHS):
        order = run_learner(list, batches, what="iterating your batch sampler")
        seen = sorted(i for batch in order for i in batch)
        full = len(samples) // MILESTONE_BATCH * MILESTONE_BATCH
        if len(seen) != full or len(set(seen)) != full or seen[-1] >= len(samples):
            raise ExerciseError(
                f"epoch {epoch + 1}: your sampler and batch sampler gave {len(seen)} indices "
                f"({len(set(seen))} different); expected {full} different indices out of "
                f"range({len(samples)}), in batches of {MILESTONE_BATCH}"
            )
        losses = []
        for index in order:
            batch = run_learner(collate_fn, [samples[i] for i in index], what="your collate")
            if not (isinstance(batch, list | tuple) and len(batch) == 2):
                raise ExerciseError(
                    f"your collate gave a {type(batch).__name__} for a batch of (pixels, label) "
                    "samples; expected a list [x, y]"
                )
            x, y = batch
            if not isinstance(x, Tensor) or tuple(x.shape) != (len(index), 64):
                raise ExerciseError(
                    f"your collate's x is {type(x).__name__} of shape "
                    f"{tuple(getattr(x, 'shape', ()))}; expected a Tensor of shape "
                    f"({len(index)}, 64)"
                )
            loss = run_learner(
                train_step, model, optimizer, x, y, MILESTONE_MICRO, what="your train_step"
            )
            losses.append(_as_float(loss, "your train_step"))
        epoch_losses.append(float(np.mean(losses)))
    seconds = time.perf_counter() - start
    with no_grad():
        predicted = model(tensor(X_test)).argmax(1).numpy()
    accuracy = float((predicted == y_test).mean())
    names = ", ".join(
        getattr(f, "__name__", type(f).__name__)
        for f in (optimizer_cls, sampler_cls, batch_sampler_cls, collate_fn, train_step)
    )
    curve = ", ".join(f"{v:.3f}" for v in epoch_losses)
    if accuracy < MILESTONE_TARGET:
        if not np.all(np.isfinite(epoch_losses)):
            hint = "the loss became NaN or inf: check your optimizer's arithmetic"
        elif epoch_losses[-1] > 0.9 * epoch_losses[0]:
            hint = (
                "the loss barely fell: does your optimizer update the parameters in place, "
                "and does your train_step call step() once per batch?"
            )
        else:
            hint = "each piece's own checker may show which one is off"
        raise ExerciseError(
            f"your pieces ({names}) trained the network to {accuracy:.1%} test accuracy; "
            f"the milestone needs {MILESTONE_TARGET:.0%}. Mean training loss per epoch: "
            f"{curve}\nHint: {hint}"
        )
    passed(
        f"milestone 2: your {names} trained the 64-128-10 network to {accuracy:.1%} test "
        f"accuracy (at least {MILESTONE_TARGET:.0%}) in {MILESTONE_EPOCHS} epochs, "
        f"{seconds:.1f} s; mean training loss per epoch: {curve}"
    )
